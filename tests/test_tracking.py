"""Tracker helpers (kefu.complaint.tracking) and the outside-the-form stall rules."""
import asyncio
from types import SimpleNamespace

from rasa_sdk.executor import CollectingDispatcher

from kefu.complaint import tracking


def user(intent, confidence, text="x"):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def tracker_of(*events, latest=None):
    return SimpleNamespace(events=list(events), latest_message=latest or {}, get_slot=lambda name: None)


def test_latest_and_previous_intent():
    t = tracker_of(user("greet", 0.9), user("inform", 0.8), latest={"intent": {"name": "inform"}})
    assert tracking.latest_intent(t) == "inform" and tracking.previous_intent(t) == "greet"


def test_streak_counts_fallbacks_off_topic_and_guesses_in_a_row():
    t = tracker_of(user("complain_quality", 0.9), user("nlu_fallback", 0.3), user("inform", 0.41),
                   user("greet", 0.35))
    assert tracking.unproductive_streak(t) == 3
    assert tracking.unproductive_streak(tracker_of(user("greet", 0.35), user("inform", 0.95))) == 0
    assert tracking.unproductive_streak(tracker_of(user("rate", 0.2, text='/rate{"rating":"3"}'))) == 0


def test_guard_context_prefers_the_running_actions_values():
    t = tracker_of({"event": "bot", "text": "一"}, {"event": "bot", "text": "二"})
    t.get_slot = {"complaint_step": "probe", "ticket_id": None, "ticket_tier": None}.get
    context = tracking.guard_context(t, slots={"ticket_id": "T1"})
    assert context == {"complaint_step": "probe", "ticket_tier": None, "ticket_id": "T1",
                       "previous_bot_texts": ["一", "二"]}


def test_a_threat_read_as_giving_up_is_still_a_risk(monkeypatch, tmp_path):
    monkeypatch.setenv("KEFU_DB_URL", f"sqlite:///{tmp_path}/kefu.db")
    from actions.conversation import GiveUp
    from tests.test_actions import make_tracker
    tracker = make_tracker(text="算了，我直接去12315", intent="give_up",
                           entities=[{"entity": "risk", "value": "threat"}])
    events = asyncio.run(GiveUp().run(CollectingDispatcher(), tracker, {}))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["risk_kind"] == "threat" and slots["handoff_reason"] == "risk"
    assert events[-1] == {"event": "followup", "name": "action_handoff", "timestamp": None}
