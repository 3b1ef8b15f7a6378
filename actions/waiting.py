"""Answers customers while their conversation waits for a person (kefu.handoff.waiting).

Rasa runs ``action_validate_slot_mappings`` after the slot mappings of every customer
message, even while the conversation is paused, and — unlike the custom slot-mapping
actions — keeps the messages it utters.  That makes it the documented place for a
reply while paused.  Outside a pause it does nothing.
"""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from kefu.complaint import wording
from kefu.handoff import escalations, waiting
from kefu.store.db import local_now
from kefu.store.orders import mask_phone

RECENT_MESSAGES = 3


class AnswerWhileWaiting(Action):
    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if not tracker.is_paused():
            return []
        case = escalations.open_escalation_for(tracker.sender_id)
        if case is None:
            return []
        now = local_now()
        text = (tracker.latest_message or {}).get("text") or ""
        if not text.startswith("/"):  # a button press adds nothing to say
            waiting.keep_on_callback_ticket(case, text, now)
        raised = waiting.escalate_if_angrier(case, tracker.slots, recent_customer_texts(tracker), now)
        acked = [SlotSet("waiting_ack_at", now.isoformat(timespec="seconds"))]
        phone = waiting.take_callback_phone(case, text, now)
        # Said at once, whatever the interval: the number the hand-off asked for, and
        # that an angrier customer's case was made urgent (silence would read as ignoring them).
        if phone:
            dispatcher.utter_message(text=wording.CALLBACK_PHONE_NOTED.format(
                phone=mask_phone(phone), ticket_id=case["callback_ticket_id"]))
            return [SlotSet("contact_phone", phone)] + acked
        if waiting.due(tracker.get_slot("waiting_ack_at"), now):  # the queue as it now stands
            ack = waiting.acknowledge(case, now)
            dispatcher.utter_message(response=ack.response, **ack.values)
            return acked
        if raised:
            dispatcher.utter_message(text=wording.WAITING_RAISED)
            return acked
        # Not the whole acknowledgement again so soon, but never silence either.
        dispatcher.utter_message(text=short_receipt(tracker))
        return []


def short_receipt(tracker: Tracker) -> str:
    """The short receipt after the last one said, in turn: never the same twice running."""
    said = [e.get("text") for e in tracker.events if e.get("event") == "bot" and e.get("text") in wording.WAITING_NOTED]
    following = wording.WAITING_NOTED.index(said[-1]) + 1 if said else 0
    return wording.WAITING_NOTED[following % len(wording.WAITING_NOTED)]


def recent_customer_texts(tracker: Tracker) -> List[str]:
    users = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    return users[-RECENT_MESSAGES:]
