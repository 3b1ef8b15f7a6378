"""Runtime guard: replaces a violating bot reply by a safe reply for the current step."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from kefu.guard.engine import Violation, check

# One safe sentence per complaint step; each must pass the guard in its own step
# (tests/test_guard.py checks it). They promise nothing and blame no one.
SAFE_REPLIES = {
    "listen": "您慢慢说，我在认真听，您说的每一点我都会记下来。",
    "share": "遇到这样的事确实让人着急，给您添麻烦了，真的很抱歉。",
    "probe": "为了把问题查清楚，能再和我说说具体的情况吗？",
    "check": "我先把您说的情况和我们的记录核对一下，请您稍等。",
    "action": "我来跟进这件事的处理，有进展会在这里告诉您。",
    "satisfy": "请问您对目前的处理还满意吗？有不满意的地方请告诉我。",
}
DEFAULT_SAFE_REPLY = "您好，我在认真听您说，请问有什么可以帮您？"


@dataclass
class GuardedReply:
    text: str
    violations: List[Violation] = field(default_factory=list)
    replaced: bool = False


def safe_reply(step: Optional[str]) -> str:
    return SAFE_REPLIES.get(step or "", DEFAULT_SAFE_REPLY)


def guard_reply(text: str, context: Optional[Dict[str, Any]] = None) -> GuardedReply:
    """The reply to send: `text` itself, or the step's safe reply when `text` violates."""
    context = context or {}
    violations = check(text, context)
    if not violations:
        return GuardedReply(text, [], False)
    return GuardedReply(safe_reply(context.get("complaint_step")), violations, True)
