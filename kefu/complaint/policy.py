"""What the shop allows: remedies per complaint, who owns the ticket and how fast.

A shop adapts the tables here; the conversation only asks this module.
"""
from typing import List, Optional, Tuple

REMEDY_NAMES = {
    "refund": "退款",
    "replace": "换货",
    "resend": "补发",
    "compensate": "补偿",
    "repair": "免费维修",
    "callback": "专人回电跟进",
}

# Remedies per category, most fitting first.
REMEDIES_BY_CATEGORY = {
    "delivery": ("resend", "refund", "compensate", "callback"),
    "quality": ("replace", "refund", "repair", "compensate"),
    "wrong_item": ("replace", "resend", "refund"),
    "service": ("compensate", "callback"),
    "billing": ("refund", "compensate", "callback"),
    "other": ("callback", "compensate"),
}

OWNER_BY_REMEDY = {
    "refund": "财务组",
    "replace": "售后组",
    "resend": "物流组",
    "compensate": "售后组",
    "repair": "售后组",
    "callback": "客服主管",
}

ROOT_CAUSE_BY_CATEGORY = {
    "delivery": "物流时效/配送",
    "quality": "商品质量",
    "wrong_item": "仓库发货/拣货",
    "service": "服务态度",
    "billing": "计费/退款流程",
    "other": "其他",
}

# Partial compensation: a share of the order amount, capped (authority of the bot).
COMPENSATION_SHARE = 0.2
COMPENSATION_CAP = 50


def allowed_remedies(category: str, order_status: Optional[str]) -> List[str]:
    """Remedies policy allows for this complaint and the order's state."""
    remedies = list(REMEDIES_BY_CATEGORY.get(category, REMEDIES_BY_CATEGORY["other"]))
    if order_status is None and category != "other":
        # Without a verified order nothing can be sent or refunded yet: a person calls back.
        return ["callback"]
    if order_status in ("refunded",) and "refund" in remedies:
        remedies.remove("refund")
    if category == "delivery" and order_status in ("in_transit", "shipped", "paid"):
        # Still on its way: chase it, or cancel and refund; resending would duplicate it.
        remedies = [r for r in remedies if r != "resend"]
    return remedies


def order_remedies(category: str, order_status: Optional[str], wished: Optional[str]) -> List[str]:
    """Allowed remedies with the customer's own wish first when policy allows it."""
    remedies = allowed_remedies(category, order_status)
    if wished in remedies:
        remedies.remove(wished)
        remedies.insert(0, wished)
    return remedies


def compensation_amount(order_amount: Optional[float]) -> int:
    if not order_amount:
        return 10
    return max(5, min(COMPENSATION_CAP, round(order_amount * COMPENSATION_SHARE)))


def ticket_plan(
    category: str, remedy: str, intensity: float = 0.0, order_verified: bool = True,
    repeat: bool = False,
) -> Tuple[str, str]:
    """Owner and deadline tier of the ticket for a chosen remedy.

    Urgent (2 h) for repeat complaints, callbacks to upset customers and lost or late goods;
    complex (7 days) for repairs and orders a person must verify first;
    normal (24 h) otherwise — the three tiers of the 12345 hotline.
    """
    owner = OWNER_BY_REMEDY.get(remedy, "客服主管")
    if not order_verified or remedy == "repair":
        return owner, "complex"
    if repeat:  # the customer had to come back: the fastest tier
        return owner, "urgent"
    if intensity >= 0.8 or (remedy == "callback" and intensity >= 0.5):
        return owner, "urgent"
    if category == "delivery" and remedy in ("resend", "callback"):
        return owner, "urgent"
    return owner, "normal"


def remedy_title(remedy: str, order_amount: Optional[float] = None) -> str:
    """Button text for a remedy, with the amount when it is money."""
    name = REMEDY_NAMES.get(remedy, remedy)
    if remedy == "refund" and order_amount:
        return f"{name}（原路退回¥{order_amount:g}）"
    if remedy == "compensate":
        return f"{name}（¥{compensation_amount(order_amount)}无门槛券）"
    return name
