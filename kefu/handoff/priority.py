"""How soon a person must answer: the priority of an escalation and its wait target.

Threats (regulators, media, lawyers) and strong or rising anger come first
(shared/DOMAIN.md, "When to hand over"); the queue sorts by priority, then by wait.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Optional

PRIORITIES = ("urgent", "high", "normal")  # most urgent first
PRIORITY_NAMES = {"urgent": "紧急", "high": "优先", "normal": "普通"}
# Minutes within which a person should take the conversation.
WAIT_TARGET_MINUTES = {"urgent": 2, "high": 5, "normal": 10}

THREAT = re.compile(r"12315|12345|消协|工商|市场监管|媒体|曝光|记者|微博|律师|起诉|法院|报警|投诉到")
BASE_PRIORITY = {
    "system_failure": "high",
    "customer_request": "normal",
    "emotion": "high",
    "over_authority": "high",
    "unsatisfied": "high",
    "not_understood": "normal",
}
STRONG_ANGER = 0.7
RECENT = 3  # customer messages looked at for anger


def priority_for(reason: str, slots: Mapping[str, Any],
                 customer_texts: Iterable[str] = ()) -> str:
    """``urgent`` on threats or strong anger that rises, else one step above the
    reason's base when the customer is angry, else the base."""
    texts = " ".join(customer_texts) + " " + str(slots.get("needs_human_reason") or "")
    anger = anger_of(slots)
    angry = anger is not None
    strong = angry and anger >= STRONG_ANGER
    rising = slots.get("emotion_trend") == "rising"
    if THREAT.search(texts) or (strong and rising):
        return "urgent"
    base = BASE_PRIORITY.get(reason, "normal")
    if angry or rising:
        return _raise(base)
    return base


def anger_of(slots: Mapping[str, Any]) -> Optional[float]:
    """The strongest anger of the last few messages, or None: one calm-sounding
    message after an outburst does not make the customer calm."""
    found = [float(slots.get("emotion_intensity") or 0)] if slots.get("emotion") == "angry" else []
    found += [float(entry.get("intensity") or 0) for entry in (slots.get("emotion_history") or [])[-RECENT:]
              if isinstance(entry, dict) and entry.get("label") == "angry"]
    return max(found) if found else None


def _raise(priority: str) -> str:
    return PRIORITIES[max(0, PRIORITIES.index(priority) - 1)]


def rank(priority: str) -> int:
    """Sort key: 0 for the most urgent."""
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


def target_time(priority: str, created_at: datetime) -> datetime:
    return created_at + timedelta(minutes=WAIT_TARGET_MINUTES.get(priority, 10))
