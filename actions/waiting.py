"""Messages that arrive while the conversation waits for a person (kefu.handoff.waiting).

Rasa predicts nothing while a conversation is paused, but after every customer message
it still extracts slots and then runs ``action_validate_slot_mappings``, whose slot and
bot events it keeps and sends (the documented way for slot validation to utter).
``python -m kefu.server`` skips the call while the conversation is not paused; a plain
``rasa run`` makes it and gets nothing back.
"""
import time
from typing import Any, Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from kefu.handoff.waiting import while_waiting


class AcknowledgeWaiting(Action):
    """A short "received, a person will see it" with the wait, every two minutes at most."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        text = tracker.latest_message.get("text") or ""
        if not tracker.is_paused() or not text or text.startswith("/"):
            return []
        now = time.time()
        reply = while_waiting(tracker.sender_id, tracker.slots, text,
                              tracker.get_slot("waiting_ack_at"), now)
        if reply.response is None:
            return []
        dispatcher.utter_message(response=reply.response, **reply.variables)
        return [SlotSet("waiting_ack_at", now)]
