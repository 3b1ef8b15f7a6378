"""Emotion across the conversation: run by Rasa on every customer message (slot mapping).

``python -m kefu.server`` runs the same function inside Rasa instead of calling this
action; a plain ``rasa run`` calls it here.
"""
from typing import Any, Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from kefu.emotion.tracking import emotion_slot_changes, tracked_since_message


class TrackEmotion(Action):
    """Keeps the current emotion, its intensity, its trend and the needs-human mark."""

    def name(self) -> Text:
        return "action_track_emotion"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        newest_first = ((e.get("event"), e.get("name")) for e in reversed(tracker.events))
        changes = emotion_slot_changes(tracker.latest_message, tracker.get_slot,
                                       tracked_since_message(newest_first))
        return [SlotSet(name, value) for name, value in changes.items()]
