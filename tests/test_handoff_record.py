"""The escalation record built from a tracker, and escalations, agents and logins in
the database (a private SQLite file per test)."""

import json
from datetime import datetime, timedelta

import pytest

from kefu.handoff import agents, escalations
from kefu.handoff.record import build_record


def user(text, intent, ts, emotion=None):
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text}
    if emotion:
        parse["emotion"] = {"label": emotion[0], "intensity": emotion[1], "scores": {}}
    return {"event": "user", "text": text, "timestamp": ts, "parse_data": parse, "input_channel": "rest"}


def bot(text, ts, **metadata):
    return {"event": "bot", "text": text, "timestamp": ts, "data": {}, "metadata": metadata}


def slot(name, value, ts=0):
    return {"event": "slot", "name": name, "value": value, "timestamp": ts}


TRACKER = {
    "sender_id": "cust-42",
    "latest_input_channel": "rest",
    "events": [
        user("快递一周了还没到", "complain_delivery", 1.0, ("anxious", 0.5)),
        slot("complaint_step", "listen"), bot("您慢慢说，我在认真听。", 1.1),
        user("催了三次都没人管，气死了！！", "complain_delivery", 2.0, ("angry", 0.8)),
        slot("complaint_step", "share"), slot("complaint_step", "probe"),
        user("KF20261102 13800000002", "inform", 3.0, ("angry", 0.85)),
        slot("complaint_step", "check"), slot("complaint_step", "action"),
        slot("offered_remedies", ["resend", "refund", "compensate"]),
        user("退款", "inform", 4.0, ("angry", 0.7)),
        slot("chosen_remedy", "refund"), slot("ticket_id", "T2026112500001"),
        slot("ticket_tier", "normal"), slot("ticket_deadline", "2026-11-26T10:00"),
        bot("已经为您登记工单 T2026112500001：退款，会在24小时内处理完。", 4.1),
        user("我要投诉到12315", "request_human", 5.0, ("angry", 0.95)),
    ],
}
SLOTS = {"complaint_category": "delivery", "complaint_step": "action", "order_id": "KF20261102",
         "contact_phone": "13800000002", "order_verified": True, "problem": "快递一周了还没到，催了三次都没人管",
         "wished_remedy": "refund", "chosen_remedy": "refund", "emotion": "angry",
         "emotion_intensity": 0.95, "emotion_trend": "rising", "needs_human": True,
         "needs_human_reason": "愤怒持续上升"}


def test_record_has_the_whole_story():
    record = build_record(TRACKER, SLOTS, "customer_request")
    assert record["conversation_id"] == "cust-42" and record["channel"] == "rest"
    assert record["customer"] == {"phone": "13800000002", "order_id": "KF20261102"}
    assert record["category"] == "delivery"
    assert record["facts"]["problem"].startswith("快递一周")
    assert record["steps"]["reached"] == ["listen", "share", "probe", "check", "action"]
    assert record["steps"]["current"] == "action"
    assert [e["label"] for e in record["emotion"]] == ["anxious", "angry", "angry", "angry", "angry"]
    assert record["offered"] == [["resend", "refund", "compensate"]]
    assert record["promises"] == [{"ticket_id": "T2026112500001", "remedy": "refund", "tier": "normal",
                                   "promise": "24小时内", "deadline": "2026-11-26T10:00"}]
    assert record["priority"] == "urgent"  # a threat of the regulator
    assert record["summary"].startswith("顾客反映配送问题「快递一周了还没到")
    assert "工单T2026112500001（退款）" in record["summary"]
    roles = [line["role"] for line in record["transcript"]]
    assert roles.count("customer") == 5 and roles.count("bot") == 2
    json.dumps(record, ensure_ascii=False)  # stored as JSON


def test_emotion_falls_back_to_the_history_slot():
    events = [user("东西坏了", "complain_quality", 1.0),
              slot("emotion_history", [{"label": "disappointed", "intensity": 0.6, "text": "东西坏了"}])]
    record = build_record({"sender_id": "s", "events": events}, {}, "emotion")
    assert record["emotion"][0]["label"] == "disappointed"
    assert record["transcript"][0]["emotion"] == {"label": "disappointed", "intensity": 0.6}


def make_case(sender="cust-42", priority="normal"):
    record = build_record({**TRACKER, "sender_id": sender}, SLOTS, "customer_request")
    record["priority"] = priority
    return escalations.create_escalation(record)


def test_passwords_are_hashed_and_checked(db):
    stored = agents.hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert agents.verify_password("correct horse", stored)
    assert not agents.verify_password("wrong horse", stored)
    agents.create_agent("wang", "secret-pass-1")
    assert agents.authenticate("wang", "secret-pass-1").name == "wang"
    assert agents.authenticate("wang", "nope-nope-nope") is None
    assert agents.authenticate("nobody", "secret-pass-1") is None
    with pytest.raises(agents.AccountError):
        agents.create_agent("wang", "another-pass")
    with pytest.raises(agents.AccountError):
        agents.create_agent("li", "short")
    with pytest.raises(agents.AccountError):
        agents.create_agent("li", "long-enough", role="boss")


def test_sessions_expire_when_idle(db):
    agent = agents.create_agent("wang", "secret-pass-1")
    start = datetime(2026, 11, 25, 10, 0)
    token, login = agents.start_session(agent, now=start)
    assert agents.session_for(token, now=start + timedelta(minutes=10)).agent.name == "wang"
    # Used at 10:10, so it lives until 10:40 and no longer.
    assert agents.session_for(token, now=start + timedelta(minutes=41)) is None
    assert agents.session_for(token, now=start + timedelta(minutes=12)) is None  # deleted
    token, _ = agents.start_session(agent)
    agents.end_session(token)
    assert agents.session_for(token) is None


def test_queue_claim_transfer_note_reply_resolve(db):
    wang = agents.create_agent("wang", "secret-pass-1")
    li = agents.create_agent("li", "secret-pass-2")
    normal = make_case("a", "normal")
    urgent = make_case("b", "urgent")
    assert [case["id"] for case in escalations.queue()] == [urgent["id"], normal["id"]]
    assert escalations.open_escalation_for("a")["id"] == normal["id"]
    escalations.claim(normal["id"], wang)
    with pytest.raises(escalations.CaseConflict):
        escalations.claim(normal["id"], li)
    escalations.add_note(normal["id"], wang, "顾客要求今天回电")
    message = escalations.add_agent_message(normal["id"], wang, "您好，我是客服小王。", [])
    assert message["status"] == "pending"
    assert escalations.conversations_with_pending_messages() == ["a"]
    taken = escalations.take_pending_messages("a")
    assert [m["text"] for m in taken] == ["您好，我是客服小王。"]
    assert escalations.take_pending_messages("a") == []  # exactly once
    escalations.transfer(normal["id"], wang, "li")
    with pytest.raises(escalations.CaseConflict):
        escalations.resolve(normal["id"], wang)  # li's case now
    resolved = escalations.resolve(normal["id"], li)
    assert resolved["status"] == "resolved" and resolved["first_reply_at"]
    case = escalations.get_case(normal["id"])
    assert [a["kind"] for a in case["assignments"]] == ["claim", "transfer"]
    assert case["notes"][0]["text"] == "顾客要求今天回电"
    assert case["messages"][0]["status"] == "delivered"
    assert escalations.record_satisfaction("a", 4) == normal["id"]
    assert [c["id"] for c in escalations.queue()] == [urgent["id"]]
    with pytest.raises(ValueError):
        escalations.add_note(urgent["id"], wang, "   ")


def test_waiting_is_measured_against_the_target(db):
    case = make_case("a", "urgent")
    later = datetime.fromisoformat(case["created_at"]) + timedelta(minutes=3)
    (brief,) = escalations.queue(now=later)
    assert brief["target_seconds"] == 120 and brief["waiting_seconds"] == 180 and brief["breached"]


def test_wait_estimate_counts_cases_ahead_and_agents_online(db):
    first = make_case("a", "normal")
    assert escalations.wait_estimate(first["id"]) == {"online": 0, "ahead": 0, "minutes": 10}
    agent = agents.create_agent("wang", "secret-pass-1")
    agents.start_session(agent)
    second = make_case("b", "normal")
    urgent = make_case("c", "urgent")
    assert escalations.wait_estimate(first["id"])["ahead"] == 1  # the urgent one goes first
    assert escalations.wait_estimate(second["id"]) == {"online": 1, "ahead": 2, "minutes": 20}
    assert escalations.wait_estimate(urgent["id"]) == {"online": 1, "ahead": 0, "minutes": 2}
