"""What the conversation so far says: read from a tracker (rasa_sdk's ``Tracker`` or any
object with ``events``, ``latest_message`` and ``get_slot``), without importing Rasa.

The one home of these helpers: the complaint form, the hand-off and the guard context
of built texts all read the tracker through them.
"""
from typing import Any, Dict, List, Optional

# Customer messages that do not move the conversation on (三换 counts them): not
# understood, off-topic, or understood only by a guess.
UNPRODUCTIVE_INTENTS = ("nlu_fallback", "out_of_scope")
GUESS_CONFIDENCE = 0.5


def latest_intent(tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def user_intents(tracker) -> List[Optional[str]]:
    """The intent of every customer message, oldest first."""
    return [((e.get("parse_data") or {}).get("intent") or {}).get("name")
            for e in tracker.events if e.get("event") == "user"]


def previous_intent(tracker) -> Optional[str]:
    intents = user_intents(tracker)
    return intents[-2] if len(intents) >= 2 else None


def unproductive_streak(tracker) -> int:
    """How many of the latest customer messages in a row were not understood, off-topic,
    or only guessed at (gibberish lands on any intent with a low confidence)."""
    streak = 0
    for event in reversed([e for e in tracker.events if e.get("event") == "user"]):
        intent = (event.get("parse_data") or {}).get("intent") or {}
        guessed = (intent.get("confidence") or 0) < GUESS_CONFIDENCE and not (event.get("text") or "").startswith("/")
        if intent.get("name") not in UNPRODUCTIVE_INTENTS and not guessed:
            break
        streak += 1
    return streak


def bot_texts(tracker) -> List[str]:
    """Everything the bot said in this conversation, oldest first."""
    return [e.get("text") or "" for e in tracker.events if e.get("event") == "bot"]


def guard_context(tracker, step: Optional[str] = None, slots: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What kefu.guard needs to judge a reply: the step, the ticket, the previous replies.

    ``slots``: values that are newer than the tracker's (set by the running action).
    """
    slots = slots or {}

    def slot(name):
        return slots[name] if name in slots else tracker.get_slot(name)

    return {
        "complaint_step": step or slot("complaint_step"),
        "ticket_tier": slot("ticket_tier"),
        "ticket_id": slot("ticket_id"),
        "previous_bot_texts": bot_texts(tracker)[-3:],
    }


def entity(tracker, name: str) -> Optional[str]:
    """The first value of entity ``name`` in the latest customer message."""
    for found in (tracker.latest_message or {}).get("entities") or ():
        if found.get("entity") == name and found.get("value"):
            return str(found["value"])
    return None
