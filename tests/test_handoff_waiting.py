"""Messages sent while waiting for a person (kefu.handoff.waiting), without servers:
which acknowledgement, how often, and the case moving up when anger grows."""
import pytest

from kefu.handoff import agents, escalations
from kefu.handoff.waiting import ACK_INTERVAL_SECONDS, while_waiting
from kefu.store import dispose_engines


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_DB_URL", f"sqlite:///{tmp_path}/kefu.db")
    dispose_engines()
    yield
    dispose_engines()


def open_case(sender, priority="normal", reason="customer_request"):
    record = {"conversation_id": sender, "customer": {}, "reason": reason,
              "priority": priority, "summary": "顾客要求人工"}
    return escalations.create_escalation(record)


CALM = {"emotion": "neutral", "emotion_intensity": 0.1}


def test_no_open_case_no_reply(db):
    reply = while_waiting("nobody-waits", CALM, "在吗", last_ack_at=None, now=1000.0)
    assert reply.response is None and reply.raised_to is None


def test_queue_position_then_silence_for_two_minutes(db):
    open_case("first")
    case = open_case("second")
    reply = while_waiting("second", CALM, "还要等多久", last_ack_at=None, now=1000.0)
    assert reply.response == "utter_waiting_ack_queue"
    assert reply.variables["queue_ahead"] == 1 and reply.variables["wait_minutes"] >= 10
    soon = while_waiting("second", CALM, "人呢", last_ack_at=1000.0, now=1000.0 + ACK_INTERVAL_SECONDS - 1)
    assert soon.response is None
    later = while_waiting("second", CALM, "人呢", last_ack_at=1000.0, now=1000.0 + ACK_INTERVAL_SECONDS)
    assert later.response == "utter_waiting_ack_queue"
    assert escalations.get_case(case["id"])["priority"] == "normal"  # calm: unchanged


def test_next_in_line_callback_and_named_agent(db):
    case = open_case("alone")
    assert while_waiting("alone", CALM, "好", None, 0.0).response == "utter_waiting_ack_next"
    escalations.attach_callback(case["id"], "T2026120500001")
    callback = while_waiting("alone", CALM, "好", None, 0.0)
    assert callback.response == "utter_waiting_ack_callback"
    assert callback.variables == {"ticket_id": "T2026120500001"}
    wang = agents.create_agent("wang", "secret-pass-1")
    escalations.claim(case["id"], wang)
    taken = while_waiting("alone", CALM, "好", None, 0.0)
    assert taken.response == "utter_waiting_ack_agent" and taken.variables == {"agent": "wang"}
    escalations.add_agent_message(case["id"], wang, "您好，我是客服小王。", [])
    with escalations.handoff_session() as session:  # the reply went out
        session.get(escalations.Escalation, case["id"]).first_reply_at = escalations.local_now()
    assert while_waiting("alone", CALM, "好", None, 0.0).response is None  # they are talking


def test_rising_anger_or_a_threat_moves_the_case_up_never_down(db):
    case = open_case("heated")
    angry = {"emotion": "angry", "emotion_intensity": 0.8, "emotion_trend": "rising"}
    reply = while_waiting("heated", angry, "等了半天都没人理！！！", None, 0.0)
    assert reply.raised_to == "urgent"
    moved = escalations.get_case(case["id"])
    assert moved["priority"] == "urgent" and moved["target_seconds"] == 2 * 60
    calm_again = while_waiting("heated", CALM, "好吧", None, 0.0)
    assert calm_again.raised_to is None
    assert escalations.get_case(case["id"])["priority"] == "urgent"
    other = open_case("threat")
    assert while_waiting("threat", CALM, "再不处理我就打12315", None, 0.0).raised_to == "urgent"
    assert escalations.get_case(other["id"])["priority"] == "urgent"
