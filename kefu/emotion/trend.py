"""Emotion across a conversation: is the customer calming down or getting angrier?

Pure functions over the customer's messages, oldest first. Each turn may be given as
  * an emotion dict as produced by the classifier (``label``, ``intensity``, ``signals``),
  * a tuple ``(label, intensity)`` or ``(label, intensity, threat)``,
  * a ``Turn``.

    assess_trend([("neutral", 0.1), ("angry", 0.5), ("angry", 0.8)])
    # TrendAssessment(trend="rising", needs_human=True, reason="intense", ...)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from kefu.emotion.labels import NEGATIVE_LABELS

# How much each label weighs in the negativity of a turn (times its intensity).
NEGATIVITY_WEIGHT = {"angry": 1.0, "disappointed": 0.6, "anxious": 0.5, "neutral": 0.0, "satisfied": -0.5}
WINDOW = 3  # the last turns that decide the trend and the threat check
TREND_STEP = 0.1  # a smaller change of negativity over the window is "steady"
ANGER_STEP = 0.05  # each of the two rises of anger must be at least this big
INTENSE = 0.8  # a negative turn at least this intense needs a human now

RISING, STEADY, FALLING = "rising", "steady", "falling"
REASON_THREAT, REASON_INTENSE, REASON_RISING_ANGER = "threat", "intense", "rising_anger"


@dataclass(frozen=True)
class Turn:
    label: str
    intensity: float
    threat: bool = False


TurnLike = Union[Turn, Mapping, Tuple]


@dataclass(frozen=True)
class TrendAssessment:
    trend: str  # rising | steady | falling
    needs_human: bool
    reason: Optional[str]  # threat | intense | rising_anger | None
    negativity: Tuple[float, ...]  # per turn in the window, oldest first

    def as_slots(self) -> dict:
        """The values for the slots of docs/CONVENTIONS.md."""
        return {
            "emotion_trend": self.trend,
            "needs_human": self.needs_human,
            "needs_human_reason": self.reason,
        }


def to_turn(item: TurnLike) -> Turn:
    if isinstance(item, Turn):
        return item
    if isinstance(item, Mapping):
        threat = bool(item.get("threat")) or "threat" in (item.get("signals") or ())
        return Turn(str(item["label"]), float(item["intensity"]), threat)
    label, intensity, *rest = item
    return Turn(str(label), float(intensity), bool(rest and rest[0]))


def negativity(turn: Turn) -> float:
    """From -0.5 (very satisfied) to 1 (furious)."""
    return NEGATIVITY_WEIGHT.get(turn.label, 0.0) * turn.intensity


def anger(turn: Turn) -> float:
    return turn.intensity if turn.label == "angry" else 0.0


def trend_of(turns: Sequence[Turn], window: int = WINDOW) -> str:
    """Compares the negativity of the last turn with the first turn of the window."""
    recent = [negativity(turn) for turn in turns[-window:]]
    if len(recent) < 2:
        return STEADY
    change = recent[-1] - recent[0]
    if change >= TREND_STEP:
        return RISING
    if change <= -TREND_STEP:
        return FALLING
    return STEADY


def anger_rose_twice(turns: Sequence[Turn]) -> bool:
    """Anger went up over each of the last two turns, ending angry."""
    if len(turns) < 3 or turns[-1].label != "angry":
        return False
    first, second, third = (anger(turn) for turn in turns[-3:])
    return second - first >= ANGER_STEP and third - second >= ANGER_STEP


def human_reason(turns: Sequence[Turn], window: int = WINDOW) -> Optional[str]:
    """Why the conversation needs a human, most serious reason first; None if it does not."""
    if not turns:
        return None
    if any(turn.threat for turn in turns[-window:]):
        return REASON_THREAT
    last = turns[-1]
    if last.label in NEGATIVE_LABELS and last.intensity >= INTENSE:
        return REASON_INTENSE
    if anger_rose_twice(turns):
        return REASON_RISING_ANGER
    return None


def assess_trend(history: Iterable[TurnLike], window: int = WINDOW) -> TrendAssessment:
    turns: List[Turn] = [to_turn(item) for item in history]
    reason = human_reason(turns, window)
    return TrendAssessment(
        trend=trend_of(turns, window),
        needs_human=reason is not None,
        reason=reason,
        negativity=tuple(round(negativity(turn), 3) for turn in turns[-window:]),
    )
