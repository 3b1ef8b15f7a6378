"""The escalation record: everything the bot knew, so the agent never starts blank.

Built from a Rasa tracker as a dict (the shape of ``GET /conversations/{id}/tracker``
and of rasa_sdk's ``Tracker.current_state()``) and its slots.  Plain JSON-ready data.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from kefu.complaint import STEPS
from kefu.handoff import priority as priorities
from kefu.handoff.summary import summarize
from kefu.handoff.transcript import as_local, customer_texts, transcript
from kefu.handoff.triggers import reason_text
from kefu.store.tickets import TIER_PROMISE

FACT_SLOTS = ("order_id", "contact_phone", "order_verified", "product", "problem",
              "incident_time", "wished_remedy", "chosen_remedy", "satisfaction")


def build_record(tracker: Mapping[str, Any], slots: Optional[Mapping[str, Any]] = None,
                 reason: str = "customer_request") -> Dict[str, Any]:
    """The escalation record of a conversation handed over for ``reason``."""
    slots = dict(slots if slots is not None else tracker.get("slots") or {})
    events = list(tracker.get("events") or [])
    record: Dict[str, Any] = {
        "conversation_id": tracker.get("sender_id"),
        "channel": _channel(tracker, events),
        "customer": {"phone": slots.get("contact_phone"), "order_id": slots.get("order_id")},
        "category": slots.get("complaint_category"),
        "reason": reason,
        "reason_text": reason_text(reason),
        "emotion_reason": slots.get("needs_human_reason"),
        "facts": _facts(slots),
        "steps": _steps(events, slots),
        "emotion": _emotion_trajectory(events, slots),
        "emotion_trend": slots.get("emotion_trend"),
        "offered": _offered(events),
        "promises": _promises(events),
        "transcript": transcript(events),
    }
    record["priority"] = priorities.priority_for(reason, slots, customer_texts(events),
                                                 sender=tracker.get("sender_id"), address=_address(events))
    record["summary"] = summarize(record)
    return record


def _address(events: List[dict]) -> Optional[str]:
    """The customer's network address, as the REST and web chat channels note it."""
    for event in reversed(events):
        if event.get("event") == "user":
            return (event.get("metadata") or {}).get("kefu_address")
    return None


def _channel(tracker: Mapping[str, Any], events: List[dict]) -> Optional[str]:
    channel = tracker.get("latest_input_channel")
    if channel:
        return channel
    for event in reversed(events):
        if event.get("event") == "user" and event.get("input_channel"):
            return event["input_channel"]
    return None


def _facts(slots: Mapping[str, Any]) -> Dict[str, Any]:
    facts = {name: slots.get(name) for name in FACT_SLOTS if slots.get(name) is not None}
    if slots.get("complaint_account"):
        facts["account"] = list(slots["complaint_account"])
    return facts


def _steps(events: List[dict], slots: Mapping[str, Any]) -> Dict[str, Any]:
    """The six steps passed so far, in order, and the one the bot was in."""
    reached: List[str] = []
    for event in events:
        if event.get("event") == "slot" and event.get("name") == "complaint_step":
            value = event.get("value")
            if value in STEPS and value not in reached:
                reached.append(value)
    current = slots.get("complaint_step") or (reached[-1] if reached else None)
    return {"reached": reached, "current": current, "all": list(STEPS)}


def _emotion_trajectory(events: List[dict], slots: Mapping[str, Any]) -> List[dict]:
    """Emotion per customer message, oldest first."""
    lines = [line for line in transcript(events) if line["role"] == "customer" and line["emotion"]]
    if lines:
        return [{**line["emotion"], "text": line["text"][:80], "at": as_local(line["at"])}
                for line in lines]
    return [{"label": entry.get("label"), "intensity": entry.get("intensity"),
             "text": (entry.get("text") or "")[:80], "at": None}
            for entry in slots.get("emotion_history") or [] if entry.get("label")]


def _offered(events: List[dict]) -> List[List[str]]:
    """Each set of remedies the bot offered, in order."""
    return [list(event["value"]) for event in events
            if event.get("event") == "slot" and event.get("name") == "offered_remedies"
            and event.get("value")]


def _promises(events: List[dict]) -> List[Dict[str, Any]]:
    """Tickets the bot created, with the deadline it promised for each."""
    promises: List[Dict[str, Any]] = []
    remedy = None
    for event in events:
        if event.get("event") != "slot":
            continue
        name, value = event.get("name"), event.get("value")
        if name == "chosen_remedy" and value:
            remedy = value
        elif name == "ticket_id" and value and all(p["ticket_id"] != value for p in promises):
            promises.append({"ticket_id": value, "remedy": remedy, "tier": None,
                             "promise": None, "deadline": None})
        elif name == "ticket_tier" and value and promises:
            promises[-1].update(tier=value, promise=TIER_PROMISE.get(value))
        elif name == "ticket_deadline" and value and promises:
            promises[-1]["deadline"] = value
    return promises
