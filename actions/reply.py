"""How actions speak: every text built in an action passes the guard before it leaves."""
import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kefu.complaint.steps import steps_to_enter
from kefu.guard.runtime import guard_reply

# The slots that the domain's response conditions read (tests/test_project_data.py).
WORDING_SLOTS = ("complaint_step", "complaint_category", "emotion", "emotion_tone")

# The customer's own words, quoted back in 「」, are not the bot's words.
CUSTOMER_QUOTE = re.compile(r"「[^」]*」")


def guard_context(tracker: Tracker) -> Dict[str, Any]:
    return {
        "complaint_step": tracker.get_slot("complaint_step"),
        "ticket_tier": tracker.get_slot("ticket_tier"),
        "ticket_id": tracker.get_slot("ticket_id"),
        "previous_bot_texts": [e.get("text") for e in tracker.events if e.get("event") == "bot"][-3:],
    }


def say_text(dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
             buttons: Optional[List[dict]] = None, context: Optional[Dict[str, Any]] = None) -> None:
    """Send text built in an action; a violating text is replaced and the finding kept."""
    context = {**guard_context(tracker), **(context or {})}
    checked = guard_reply(CUSTOMER_QUOTE.sub("「…」", text), context)
    if checked.replaced:
        finding = {"replaced": True, "original": text,
                   "violations": [v.to_dict() if hasattr(v, "to_dict") else dict(v) for v in checked.violations]}
        dispatcher.utter_message(text=checked.text, guard=finding)
        return
    dispatcher.utter_message(text=text, buttons=buttons or [])


def enter_step(dispatcher: CollectingDispatcher, slots: Dict[str, Any], step: str,
               wording: Optional[Dict[str, Any]] = None) -> List[dict]:
    """Slot events for every step passed on the way to `step`; Share speaks when passed.

    ``wording``: slot values that choose the responses' variations (see ask_next).
    """
    events = []
    for passed in steps_to_enter(slots.get("complaint_step"), step):
        if passed == "share" and not slots.get("shared"):
            dispatcher.utter_message(response="utter_share_feeling", **(wording or {}))
            dispatcher.utter_message(response="utter_share_apology", **(wording or {}))
            events.append(SlotSet("shared", True))
        events.append(SlotSet("complaint_step", passed))
    return events


def button(title: str, payload: str) -> dict:
    return {"title": title, "payload": payload}
