"""What every action shares: how it speaks (every text built in an action passes the
guard before it leaves), how it reads the customer's message, how a complaint ends.

actions/handoff.py, actions/complaint.py and actions/conversation.py import this module
and never each other in a circle: conversation -> complaint -> handoff -> reply.
"""
import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kefu.complaint import form, tracking, wording
from kefu.complaint.records import StoreRecords
from kefu.complaint.steps import COMPLAINT_SLOTS, steps_to_enter
from kefu.guard.runtime import guard_reply

# The slots that the domain's response conditions read (tests/test_project_data.py).
WORDING_SLOTS = ("complaint_step", "complaint_category", "emotion", "emotion_tone")

# The customer's own words, quoted back in 「」, are not the bot's words.
CUSTOMER_QUOTE = re.compile(r"「[^」]*」")
PERSON_BUTTON = {"title": "转人工", "payload": "/request_human"}


def guard_context(tracker: Tracker, step: Optional[str] = None,
                  slots: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return tracking.guard_context(tracker, step, slots)


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


def enter_step(dispatcher: CollectingDispatcher, tracker: Tracker, slots: Dict[str, Any], step: str) -> List[dict]:
    """Slot events for every step passed on the way to `step`; Share speaks when passed.

    Share's two lines (feeling, apology) come from kefu.complaint.wording, chosen by the
    emotion, the category and whether it is a repeat complaint, and never a line the
    bot already said in this conversation.
    """
    events = []
    for passed in steps_to_enter(slots.get("complaint_step"), step):
        if passed == "share" and not slots.get("shared"):
            lines = wording.share_lines(slots.get("emotion_tone") or slots.get("emotion"),
                                        slots.get("complaint_category"), bool(slots.get("repeat_complaint")),
                                        tracking.bot_texts(tracker))
            for line in lines:
                say_text(dispatcher, tracker, line, context={"complaint_step": "share"})
            events.append(SlotSet("shared", True))
        events.append(SlotSet("complaint_step", passed))
    return events


def button(title: str, payload: str) -> dict:
    return {"title": title, "payload": payload}


def records_for(tracker: Tracker) -> StoreRecords:
    return StoreRecords(sender_id=tracker.sender_id, channel=tracker.get_latest_input_channel())


def message_of(tracker: Tracker) -> form.Message:
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    return form.Message(text=latest.get("text") or "", intent=intent.get("name") or "",
                        confidence=intent.get("confidence") or 0.0,
                        entities=latest.get("entities") or [])


def end_complaint() -> List[dict]:
    """Everything one complaint filled is cleared, so the next one starts fresh."""
    return [ActiveLoop(None)] + [SlotSet(name, None) for name in COMPLAINT_SLOTS]
