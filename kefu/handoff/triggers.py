"""When the bot stops and a person takes over (三换原则), decided without Rasa.

``handoff_reason`` looks at one moment of the conversation and names the first reason
that applies, or None.  The actions call it; each reason has a Chinese text for the
agent and the callback ticket.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from kefu.settings import settings

REASONS = {
    "system_failure": "系统故障，机器人无法继续处理",
    "customer_request": "顾客要求人工服务",
    "emotion": "顾客情绪需要人工安抚",
    "over_authority": "超出机器人的处理权限",
    "unsatisfied": "顾客对处理方案仍不满意",
    "not_understood": "机器人连续两次没听懂",
}

# Remedies that pay money out; above the limit a person decides.
MONEY_REMEDIES = ("refund", "compensate")
UNSATISFIED_RATING = 3  # a rating at or below this is "not satisfied"


def refund_limit() -> float:
    """The largest amount (yuan) the bot may refund or compensate on its own."""
    return settings().handoff_refund_limit


def handoff_reason(slots: Mapping[str, Any], *, intent: Optional[str] = None,
                   previous_intent: Optional[str] = None,
                   system_failure: bool = False,
                   order_amount: Optional[float] = None) -> Optional[str]:
    """The reason to hand over now (a key of :data:`REASONS`), or None.

    ``slots``: the conversation's slots; ``intent`` / ``previous_intent``: the
    latest customer message's intent and the one before; ``system_failure``: a
    system the bot relies on (order store, tickets) just failed; ``order_amount``:
    the order's amount in yuan, when known.
    """
    if system_failure:
        return "system_failure"
    if intent == "request_human":
        return "customer_request"
    if slots.get("needs_human"):
        return "emotion"
    if exceeds_authority(slots, order_amount):
        return "over_authority"
    if is_unsatisfied_after_alternative(slots):
        return "unsatisfied"
    if intent == "nlu_fallback" and previous_intent == "nlu_fallback":
        return "not_understood"
    return None


def exceeds_authority(slots: Mapping[str, Any], order_amount: Optional[float]) -> bool:
    remedy = slots.get("chosen_remedy") or slots.get("wished_remedy")
    return (remedy in MONEY_REMEDIES and order_amount is not None
            and float(order_amount) > refund_limit())


def is_unsatisfied_after_alternative(slots: Mapping[str, Any]) -> bool:
    rating = slots.get("satisfaction")
    return (bool(slots.get("alternative_offered")) and rating is not None
            and float(rating) <= UNSATISFIED_RATING)


def reason_text(reason: Optional[str]) -> str:
    return REASONS.get(reason or "", "机器人转人工处理")
