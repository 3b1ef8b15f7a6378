"""Hand-off triggers through the real Rasa server and action server (REST channel):
the customer is told honestly, an escalation is recorded, the conversation pauses,
and messages sent while paused are kept in the tracker."""
import json

import pytest
from e2e.desk_server import escalations_of, set_agents_offline
from sqlalchemy import create_engine, text

from kefu.complaint.wording import WAITING_NOTED
from kefu.handoff.agents import hash_password


def events_after_last(tracker, name):
    events = tracker["events"]
    index = max(i for i, e in enumerate(events) if e.get("event") == "action" and e.get("name") == name)
    return events[index:]


def texts(replies):
    return " ".join(reply.get("text") or "" for reply in replies)


def assert_paused_after_handoff(servers, sender):
    tracker = servers.tracker(sender)
    after = events_after_last(tracker, "action_handoff")
    assert any(e["event"] == "pause" for e in after), after
    assert tracker["paused"] is True
    return tracker


@pytest.fixture
def nobody_online(kefu_env):
    set_agents_offline(kefu_env["KEFU_DB_URL"])


@pytest.fixture
def agent_online(kefu_env):
    set_agents_offline(kefu_env["KEFU_DB_URL"])  # creates the tables on a fresh database
    engine = create_engine(kefu_env["KEFU_DB_URL"], future=True)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO desk_agents (name, role, password_hash, created_at, last_seen_at) "
            "SELECT 'flow_agent', 'agent', :h, CURRENT_TIMESTAMP, NULL "
            "WHERE NOT EXISTS (SELECT 1 FROM desk_agents WHERE name = 'flow_agent')"),
            {"h": hash_password("flow-agent-pass")})
        connection.execute(text("UPDATE desk_agents SET last_seen_at = :now WHERE name = 'flow_agent'"),
                           {"now": __import__("datetime").datetime.now()})
    engine.dispose()
    yield
    set_agents_offline(kefu_env["KEFU_DB_URL"])


def expected_callback_promise() -> str:
    """The urgent ticket's "2小时内" while the desk is open long enough, else the next opening."""
    from datetime import datetime, timedelta

    from kefu.complaint import hours
    now = datetime.now()
    due = now + timedelta(hours=2)
    _, end = hours.service_hours()
    if hours.is_open(now) and due.date() == now.date() and due.time() <= end:
        return "2小时内"
    return "上班后按工单给您回电"


def test_asking_for_a_person_with_nobody_online_books_a_callback(servers, kefu_env, nobody_online):
    sender = "flow-request-offline"
    replies = servers.say(sender, "/request_human")
    said = texts(replies)
    assert "暂时没有人工客服在线" in said and expected_callback_promise() in said
    assert_paused_after_handoff(servers, sender)
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    assert case["reason"] == "customer_request" and case["status"] == "waiting"
    assert case["callback_ticket_id"] and case["callback_ticket_id"] in said
    # While paused the bot predicts nothing; it says the message joined the ticket once
    # per 2 minutes, a short receipt in between, and Rasa keeps every word.
    (ack,) = servers.say(sender, "还要等多久？")
    assert case["callback_ticket_id"] in ack["text"]
    (receipt,) = servers.say(sender, "我一直在家等着")
    assert receipt["text"] in WAITING_NOTED
    tracker = servers.tracker(sender)
    after = events_after_last(tracker, "action_handoff")
    assert [e["text"] for e in after if e["event"] == "user"] == ["还要等多久？", "我一直在家等着"]
    assert [e["text"] for e in after if e["event"] == "bot"][-2:] == [ack["text"], receipt["text"]]
    assert tracker["paused"] is True
    engine = create_engine(kefu_env["KEFU_DB_URL"], future=True)
    with engine.connect() as connection:
        notes = connection.execute(text("SELECT detail FROM ticket_events WHERE ticket_id = :t AND kind = 'note'"),
                                   {"t": case["callback_ticket_id"]}).scalars().all()
    engine.dispose()
    assert any("还要等多久？" in note for note in notes) and any("我一直在家等着" in note for note in notes)


def test_asking_for_a_person_inside_a_complaint_keeps_the_story(servers, kefu_env, agent_online):
    sender = "flow-request-complaint"
    servers.say(sender, "快递一周了还没到，太气人了")
    servers.say(sender, "催了好几次都没人管，一直说在路上")
    replies = servers.say(sender, "/request_human")
    said = texts(replies)
    assert "转给人工客服" in said and "预计等待约" in said
    tracker = assert_paused_after_handoff(servers, sender)
    assert tracker["active_loop"] in ({}, None) or not tracker["active_loop"].get("name")
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    record = json.loads(case["record_json"])
    assert case["callback_ticket_id"] is None
    assert record["conversation_id"] == sender and record["channel"] == "rest"
    assert record["category"] == "delivery"
    assert "listen" in record["steps"]["reached"]
    customer_lines = [line["text"] for line in record["transcript"] if line["role"] == "customer"]
    assert customer_lines[:2] == ["快递一周了还没到，太气人了", "催了好几次都没人管，一直说在路上"]
    assert record["summary"].endswith("因顾客要求人工服务转人工。")
    # Asking again while waiting does not open a second case: the customer hears the wait.
    (ack,) = servers.say(sender, "/request_human")
    assert "分钟" in ack["text"]
    assert len(escalations_of(kefu_env["KEFU_DB_URL"], sender)) == 1


def test_two_fallbacks_in_a_row_hand_over(servers, kefu_env, nobody_online):
    sender = "flow-fallback"
    first = texts(servers.say(sender, "/nlu_fallback"))
    assert "换个说法" in first
    assert servers.tracker(sender)["paused"] is False
    second = texts(servers.say(sender, "/nlu_fallback"))
    assert "转给人工客服" in second
    assert_paused_after_handoff(servers, sender)
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    assert case["reason"] == "not_understood"


COMPLAINT = ["你们这什么破杯子", "收到盖子就是裂的，一倒水全漏桌上了", "KF20261101", "13800000001",
             "前天到的", "换个新的吧", "/affirm"]


def test_unsatisfied_after_an_alternative_hands_over(servers, kefu_env, nobody_online):
    sender = "flow-unsatisfied"
    for message in COMPLAINT:
        servers.say(sender, message)
    assert servers.tracker(sender)["slots"]["complaint_step"] == "action"
    offered = servers.tracker(sender)["slots"]["offered_remedies"]
    servers.say(sender, '/inform{"remedy":"%s"}' % offered[0])
    servers.say(sender, '/rate{"rating":"2"}')  # not satisfied: another remedy is offered
    slots = servers.tracker(sender)["slots"]
    assert slots["alternative_offered"] is True
    servers.say(sender, '/inform{"remedy":"%s"}' % slots["offered_remedies"][0])
    replies = servers.say(sender, '/rate{"rating":"1"}')
    assert "暂时没有人工客服在线" in texts(replies)
    assert_paused_after_handoff(servers, sender)
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    record = json.loads(case["record_json"])
    assert case["reason"] == "unsatisfied" and case["priority"] in ("high", "urgent")
    assert record["steps"]["reached"] == ["listen", "share", "probe", "check", "action", "satisfy"]
    assert len(record["promises"]) == 2 and record["offered"]


def test_a_threat_while_waiting_makes_the_case_urgent(servers, kefu_env, agent_online):
    sender = "flow-waiting-threat"
    servers.say(sender, "/request_human")
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    assert case["priority"] == "normal"
    (ack,) = servers.say(sender, "等半天了还没人理，再不来人我就投诉到12315！")
    assert "分钟" in ack["text"]
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    assert case["priority"] == "urgent" and case["status"] == "waiting"
    slots = servers.tracker(sender)["slots"]
    assert slots["emotion"] is not None and slots["waiting_ack_at"]  # emotion still tracked
