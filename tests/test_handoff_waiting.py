"""Customers waiting for a person are answered (kefu.handoff.waiting, actions/waiting.py):
on a private SQLite file per test, and through Rasa's own slot-validation call."""
import asyncio
from datetime import datetime, timedelta

import pytest
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.waiting import AnswerWhileWaiting
from kefu.complaint import wording
from kefu.handoff import agents, escalations, waiting
from kefu.handoff.record import build_record
from kefu.store import tickets

NOW = datetime(2026, 12, 5, 14, 0, 0)


def open_case(sender, reason="customer_request", priority="normal", callback=None):
    tracker = {"sender_id": sender, "latest_input_channel": "rest", "events": []}
    record = build_record(tracker, {}, reason)
    record["priority"] = priority
    return escalations.create_escalation(record, callback_ticket_id=callback, now=NOW)


@pytest.mark.parametrize("last, minutes_later, expected", [
    (None, 0, True), ("", 0, True), ("not a time", 0, True),
    (NOW.isoformat(), 0, False), (NOW.isoformat(), 1, False), (NOW.isoformat(), 2, True),
    (NOW.isoformat(), 30, True)])
def test_at_most_one_acknowledgement_every_two_minutes(last, minutes_later, expected):
    assert waiting.due(last, NOW + timedelta(minutes=minutes_later)) is expected


def test_queue_position_then_the_agent_by_name(db):
    first, second = open_case("w-1"), open_case("w-2")
    ack = waiting.acknowledge(second, NOW)
    assert ack.response == "utter_waiting_ack_queue" and ack.values["queue_ahead"] == 1
    assert waiting.acknowledge(first, NOW).response == "utter_waiting_ack_next"
    wang = agents.create_agent("wang", "secret-pass-1")
    escalations.claim(second["id"], wang)
    claimed = escalations.open_escalation_for("w-2")
    ack = waiting.acknowledge(claimed, NOW)
    assert ack == waiting.Acknowledgement("utter_waiting_ack_agent", {"agent": "wang"})


def test_a_callback_ticket_keeps_what_the_customer_adds(db):
    ticket = tickets.create_ticket("delivery", "快递没到", tier="urgent")
    case = open_case("w-cb", callback=ticket.id)
    waiting.keep_on_callback_ticket(case, "我下午三点以后都在家", NOW)
    waiting.keep_on_callback_ticket(case, "  ", NOW)  # nothing said, nothing noted
    ack = waiting.acknowledge(case, NOW)
    assert ack == waiting.Acknowledgement("utter_waiting_ack_callback", {"ticket_id": ticket.id})
    history = tickets.get_ticket(ticket.id).history
    assert [event.detail for event in history if event.kind == "note"] == ["顾客补充：我下午三点以后都在家"]


def test_growing_anger_or_a_threat_raises_the_priority_never_lowers_it(db):
    case = open_case("w-angry")
    calm = {"emotion": "neutral", "emotion_intensity": 0.1}
    assert waiting.escalate_if_angrier(case, calm, ["好的我等等"], NOW) is False
    assert escalations.open_escalation_for("w-angry")["priority"] == "normal"
    assert waiting.escalate_if_angrier(case, calm, ["再不来我就打12315"], NOW) is True
    raised = escalations.open_escalation_for("w-angry")
    assert raised["priority"] == "urgent"
    assert raised["target_seconds"] == 2 * 60  # the urgent wait target, from when it opened
    history = escalations.get_case(case["id"], NOW)["actions"]
    assert [(h["action"], h["detail"]) for h in history if h["action"] == "escalated"] == [("escalated", "普通 → 紧急")]
    assert escalations.raise_priority(case["id"], "normal", NOW) is False


def sdk_tracker(sender, texts, paused=True, slots=None):
    events = [{"event": "user", "text": t, "parse_data": {"text": t, "intent": {"name": "inform"}}}
              for t in texts]
    if paused:
        events.insert(0, {"event": "pause"})
    latest = events[-1]["parse_data"] if texts else {}
    return Tracker(sender, slots or {}, latest, events, paused, None, {}, "action_listen")


def run_action(tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(AnswerWhileWaiting().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_the_action_speaks_only_while_paused_with_an_open_case(db):
    assert run_action(sdk_tracker("w-act", ["你好"], paused=False)) == ([], [])
    assert run_action(sdk_tracker("w-act", ["你好"])) == ([], [])  # paused, but no case
    open_case("w-act")
    messages, events = run_action(sdk_tracker("w-act", ["还在吗"]))
    assert [m["response"] for m in messages] == ["utter_waiting_ack_next"]
    assert events[0]["name"] == "waiting_ack_at"
    mark = {"waiting_ack_at": events[0]["value"]}
    messages, events = run_action(sdk_tracker("w-act", ["还在吗", "快点"], slots=mark))
    assert [m["text"] for m in messages] == [wording.WAITING_NOTED[0]] and events == []  # a receipt, not the queue


def test_the_callback_number_is_confirmed_at_once_and_put_on_the_ticket(db):
    ticket = tickets.create_ticket("quality", "充电器冒烟", tier="urgent")
    open_case("w-phone", callback=ticket.id)
    messages, events = run_action(sdk_tracker("w-phone", ["订单号DD20261120001"]))
    assert [m["response"] for m in messages] == ["utter_waiting_ack_callback"]
    mark = {"waiting_ack_at": events[0]["value"]}
    # within the acknowledgement interval, yet the number the hand-off asked for is confirmed
    messages, events = run_action(sdk_tracker("w-phone", ["订单号DD20261120001", "138 0000 0001"], slots=mark))
    assert [m["text"] for m in messages] == [f"好的，专员会打138****0001给您回电，号码已经写进工单 {ticket.id}。"]
    assert {"event": "slot", "name": "contact_phone", "value": "13800000001", "timestamp": None} in events
    stored = tickets.get_ticket(ticket.id)
    assert stored.phone == "13800000001"
    assert [e.detail for e in stored.history if e.kind == "phone"] == ["138****0001"]  # the desk shows history
    # a later message without a number is back to the interval
    messages, events = run_action(sdk_tracker("w-phone", ["好的"], slots=mark))
    assert [m["text"] for m in messages] == [wording.WAITING_NOTED[0]] and events == []


def test_a_case_made_urgent_while_waiting_is_said_so_at_once(db):
    open_case("w-raise")
    messages, events = run_action(sdk_tracker("w-raise", ["还要等多久"]))
    mark = {"waiting_ack_at": events[0]["value"]}
    messages, events = run_action(sdk_tracker("w-raise", ["还要等多久", "好吧"], slots=mark))
    assert [m["text"] for m in messages] == [wording.WAITING_NOTED[0]] and events == []
    messages, _ = run_action(sdk_tracker("w-raise", ["还要等多久", "再不来我就打12315投诉你们"], slots=mark))
    assert [m["text"] for m in messages] == [wording.WAITING_RAISED]
    assert escalations.open_escalation_for("w-raise")["priority"] == "urgent"
    # already urgent: the next threat within the interval raises nothing, so nothing is said
    messages, events = run_action(sdk_tracker("w-raise", ["再不来我就打12315投诉你们"], slots=mark))
    assert [m["text"] for m in messages] == [wording.WAITING_NOTED[0]] and events == []  # raised once only


def test_short_receipts_never_repeat_the_last_one():
    from actions.waiting import short_receipt

    said = []
    for _ in range(5):
        events = [{"event": "bot", "text": text} for text in said]
        said.append(short_receipt(Tracker("w-r", {}, {}, events, True, None, {}, "action_listen")))
    assert all(a != b for a, b in zip(said, said[1:]))
    assert set(said) == set(wording.WAITING_NOTED)


def test_a_number_to_a_queued_case_is_only_noted():
    assert waiting.take_callback_phone({"id": 1, "callback_ticket_id": None}, "13800000001", NOW) is None


def test_update_ticket_refuses_a_malformed_phone(db):
    ticket = tickets.create_ticket("delivery", "快递没到")
    with pytest.raises(ValueError):
        tickets.update_ticket(ticket.id, phone="12345")
    assert tickets.get_ticket(ticket.id).phone is None


def test_every_waiting_text_passes_the_guard():
    from kefu.guard import check
    domain = Domain.load("domain.yml")
    names = [name for name in domain.responses if name.startswith("utter_waiting_ack_")]
    assert len(names) == 4
    for name in names:
        for variant in domain.responses[name]:
            assert check(variant["text"], {"complaint_step": "action"}) == [], variant["text"]


def test_rasa_calls_the_validation_only_while_paused_with_kefu_patches():
    """Against Rasa's own ActionExtractSlots: the patch skips the action server call
    (and Rasa's tracker replay before it) unless the conversation is paused."""
    from kefu.server import apply_fixes
    apply_fixes()
    domain = Domain.load("domain.yml")
    assert "action_validate_slot_mappings" in domain.user_actions
    calls = []

    async def remote_run(self, output_channel, nlg, tracker, domain):
        calls.append(self.name())
        return []

    extract = ActionExtractSlots(EndpointConfig("http://127.0.0.1:9/webhook"))
    tracker = DialogueStateTracker.from_events("t-wait", [ActionExecuted("action_listen"),
                                                          UserUttered("你好", {"name": "greet"})],
                                               domain.slots)
    original = RemoteAction.run
    RemoteAction.run = remote_run
    try:
        asyncio.run(extract._execute_validation_action([], None, None, tracker, domain))
        assert calls == []
        tracker.update(ConversationPaused())
        asyncio.run(extract._execute_validation_action([], None, None, tracker, domain))
        assert calls == ["action_validate_slot_mappings"]
    finally:
        RemoteAction.run = original
