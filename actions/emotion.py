"""Emotion across the conversation: run by Rasa on every customer message (slot mapping)."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from kefu.emotion.trend import assess_trend

HISTORY_TURNS = 10
FURIOUS = 0.7  # anger this strong gets the strongest words of the Share step


def tone_of(label: str, intensity: float) -> str:
    """The Share step's wording key: anger splits into angry and furious."""
    return "furious" if label == "angry" and intensity >= FURIOUS else label


class TrackEmotion(Action):
    """Keeps the current emotion, its intensity, its trend and the needs-human mark."""

    def name(self) -> Text:
        return "action_track_emotion"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        latest = tracker.latest_message or {}
        emotion = latest.get("emotion")
        if not emotion or (latest.get("text") or "").startswith("/"):
            return []  # a button press carries no feeling: keep what we knew
        history = list(tracker.get_slot("emotion_history") or [])
        history.append({"label": emotion["label"], "intensity": round(emotion["intensity"], 3),
                        "signals": list(emotion.get("signals") or [])})
        history = history[-HISTORY_TURNS:]
        assessment = assess_trend(history)
        already_marked = bool(tracker.get_slot("needs_human"))
        values = {
            "emotion": emotion["label"],
            "emotion_intensity": emotion["intensity"],
            "emotion_tone": tone_of(emotion["label"], emotion["intensity"]),
            "emotion_trend": assessment.trend,
            "emotion_history": history,
            "needs_human": already_marked or assessment.needs_human,
            "needs_human_reason": (tracker.get_slot("needs_human_reason") if already_marked
                                   else assessment.reason),
        }
        # Only what changed: every event is stored and sent with each later action call.
        return [SlotSet(name, value) for name, value in values.items()
                if value != tracker.get_slot(name)]
