"""kefu.guard — finds the ten forbidden behaviours (十大戒律) in bot and agent messages.

    from kefu.guard import check, guard_reply
    check("您确定真的没收到吗？")            # -> [Violation(id="doubt", ...)]
    guard_reply(text, {"complaint_step": "probe"})  # -> GuardedReply(text, violations, replaced)

Rules are data (kefu/guard/rules/<id>.yml). Importing this package loads neither Rasa
nor TensorFlow; only kefu.guard.nlg imports Rasa.
"""
from kefu.guard.engine import BEHAVIOURS, Violation, check, load_rules
from kefu.guard.runtime import GuardedReply, guard_reply, safe_reply

__all__ = [
    "BEHAVIOURS",
    "GuardedReply",
    "Violation",
    "check",
    "guard_reply",
    "load_rules",
    "safe_reply",
]
