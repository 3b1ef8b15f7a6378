"""How soon a person must answer: the priority of an escalation and its wait target.

Threats (regulators, media, lawyers) and strong or rising anger come first
(shared/DOMAIN.md, "When to hand over"); the queue sorts by priority, then by wait.

The queue is for customers. Texts a person cannot read (random characters, keyboard
mashing: the emotion model calls much of that angry) never raise a case above
``normal``, and each sender and each address may raise only a few ``urgent`` cases
(``KEFU_URGENT_PER_SENDER``, ``KEFU_URGENT_PER_ADDRESS``, kefu.ratelimit) before the
next ones count as ``high``: a flood cannot bury the agents' queue.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Optional

from kefu.ratelimit import limiter_from_env

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
URGENT_PER_SENDER = ("KEFU_URGENT_PER_SENDER", "2/86400")  # COUNT/SECONDS
URGENT_PER_ADDRESS = ("KEFU_URGENT_PER_ADDRESS", "5/3600")

CJK = re.compile(r"[\u3400-\u9fff]")
LETTER_OR_CJK = re.compile(r"[^\W\d_]")
MIN_CJK = 2
MIN_CJK_SHARE = 0.25  # of all letters: "我的iPhone坏了" passes, "asdfgh哈" does not
MIN_KNOWN = 0.6  # of the Chinese characters: in words of two or more, or common on their own
COMMON_CHAR = 5000  # Jieba's frequency of a common single character (的: 318825, 坏: 7018)


def priority_for(reason: str, slots: Mapping[str, Any], customer_texts: Iterable[str] = (), *,
                 sender: Optional[str] = None, address: Optional[str] = None) -> str:
    """``urgent`` on threats or strong anger that rises, else one step above the
    reason's base when the customer is angry, else the base; ``normal`` when the
    customer's texts are not readable; ``high`` instead of ``urgent`` beyond the cap
    of ``sender`` or ``address`` (counted only when given)."""
    customer_texts = list(customer_texts)
    if customer_texts and not plausible(customer_texts):
        return "normal"
    texts = " ".join(customer_texts) + " " + str(slots.get("needs_human_reason") or "")
    anger = anger_of(slots)
    angry = anger is not None
    strong = angry and anger >= STRONG_ANGER
    rising = slots.get("emotion_trend") == "rising"
    if THREAT.search(texts) or (strong and rising):
        return "urgent" if urgent_allowed(sender, address) else "high"
    base = BASE_PRIORITY.get(reason, "normal")
    if angry or rising:
        return _raise(base)
    return base


def plausible(customer_texts: Iterable[str]) -> bool:
    """Whether the texts read like a customer writing Chinese: enough Chinese among
    the letters, and most of it in dictionary words (Jieba's, without guessing new
    words) or common characters, which random characters mostly are not."""
    text = " ".join(t for t in customer_texts if isinstance(t, str))
    chinese = CJK.findall(text)
    letters = LETTER_OR_CJK.findall(text)
    if len(chinese) < MIN_CJK or len(chinese) < MIN_CJK_SHARE * len(letters):
        return False
    import jieba

    words = jieba.lcut("".join(chinese), HMM=False)
    known = sum(len(word) for word in words
                if len(word) >= 2 or jieba.dt.FREQ.get(word, 0) >= COMMON_CHAR)
    return known >= MIN_KNOWN * len(chinese)


def urgent_allowed(sender: Optional[str], address: Optional[str]) -> bool:
    """Counts one urgent case for ``sender``, then for ``address``; False beyond either
    cap (a sender over its own cap does not use up its address's)."""
    for (variable, default), key in ((URGENT_PER_SENDER, sender), (URGENT_PER_ADDRESS, address)):
        if key and not limiter_from_env(variable, default).allow(f"urgent:{key}"):
            return False
    return True


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
