"""The emotion labels shared by every part of kefu (see docs/CONVENTIONS.md)."""

LABELS = ("angry", "anxious", "disappointed", "neutral", "satisfied")
NEGATIVE_LABELS = frozenset({"angry", "anxious", "disappointed"})
