"""The emotion slots after one customer message: what ``action_track_emotion`` sets.

A pure function of the message (with the classifier's ``emotion``) and the emotion slots
as they were, so the same code runs in the action server (actions/emotion.py) and, under
``python -m kefu.server``, inside the Rasa process without an action call.
"""
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

from kefu.emotion.trend import assess_trend

HISTORY_TURNS = 10
FURIOUS = 0.7  # anger this strong gets the strongest words of the Share step
ANGRY_TONES = ("angry", "furious")  # what tone_of gives for anger


def tone_of(label: str, intensity: float) -> str:
    """The Share step's wording key: anger splits into angry and furious."""
    return "furious" if label == "angry" and intensity >= FURIOUS else label


def emotion_slot_changes(message: Optional[Mapping[str, Any]], slot: Callable[[str], Any],
                         already_tracked: bool = False) -> Dict[str, Any]:
    """The emotion slots whose value changes after ``message`` (``slot(name)`` reads one).

    Only what changed: every event is stored and sent with each later action call.
    ``already_tracked``: this message is in the history already. Rasa extracts slots a
    second time when a message opens a form, and one message must count once.
    """
    message = message or {}
    emotion = message.get("emotion")
    if already_tracked or not emotion or (message.get("text") or "").startswith("/"):
        return {}  # a button press carries no feeling: keep what we knew
    history = list(slot("emotion_history") or [])
    history.append({"label": emotion["label"], "intensity": round(emotion["intensity"], 3),
                    "signals": list(emotion.get("signals") or [])})
    history = history[-HISTORY_TURNS:]
    assessment = assess_trend(history)
    already_marked = bool(slot("needs_human"))
    values = {
        "emotion": emotion["label"],
        "emotion_intensity": emotion["intensity"],
        "emotion_tone": tone_of(emotion["label"], emotion["intensity"]),
        "emotion_trend": assessment.trend,
        "emotion_history": history,
        "needs_human": already_marked or assessment.needs_human,
        "needs_human_reason": slot("needs_human_reason") if already_marked else assessment.reason,
    }
    return {name: value for name, value in values.items() if value != slot(name)}


def tracked_since_message(kinds_and_slots: Iterable[Tuple[str, Optional[str]]]) -> bool:
    """True when the history was set after the latest customer message.

    ``kinds_and_slots``: (``"user"`` | ``"slot"`` | other, slot name or None) for each
    event, newest first.
    """
    for kind, slot_name in kinds_and_slots:
        if kind == "user":
            return False
        if kind == "slot" and slot_name == "emotion_history":
            return True
    return False
