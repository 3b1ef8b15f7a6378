"""The six steps: their names, order, the form slots of each, and how the form moves on.

The one home of these conventions: the actions, the guard, the hand-off record and the
replay viewer import them from here.
"""
from typing import List, Optional

STEPS = ("listen", "share", "probe", "check", "action", "satisfy")
STEP_NAMES = {"listen": "倾听", "share": "分担", "probe": "询问", "check": "确认", "action": "行动",
              "satisfy": "满意"}
CATEGORIES = ("delivery", "quality", "wrong_item", "service", "billing", "other")

# Form slots in the order the form asks for them, with the step each belongs to.
FORM_SLOTS = (
    ("account_complete", "listen"),
    ("order_id", "probe"),
    ("contact_phone", "probe"),
    ("problem", "probe"),
    ("incident_time", "probe"),
    ("wished_remedy", "probe"),
    ("wrong_fact", "check"),
    ("facts_confirmed", "check"),
    ("chosen_remedy", "action"),
    ("satisfaction", "satisfy"),
)
STEP_OF_SLOT = dict(FORM_SLOTS)


def steps_to_enter(current: Optional[str], target: str) -> List[str]:
    """Steps to pass through from `current` to `target`, in order.

    Moving forward never skips a step (a step may be short, none is skipped);
    moving back (a "no" at Check goes back to Probe) enters `target` directly.
    """
    if current == target:
        return []
    if current not in STEPS:
        return list(STEPS[: STEPS.index(target) + 1])
    here, there = STEPS.index(current), STEPS.index(target)
    if there < here:
        return [target]
    return list(STEPS[here + 1 : there + 1])


def required_slots(slots: dict) -> List[str]:
    """The form's slots still to fill, in order; probe asks only what is missing.

    `wrong_fact` is asked only after the customer said the restatement was wrong.
    """
    wanted = [name for name, _ in FORM_SLOTS]
    if not slots.get("check_denied"):
        wanted.remove("wrong_fact")
    if slots.get("order_unavailable"):
        wanted.remove("order_id")
        wanted.remove("contact_phone")
    return wanted


# Everything one complaint fills; cleared when it ends so the next one starts fresh.
COMPLAINT_SLOTS = (
    "complaint_step", "complaint_category", "complaint_account", "account_complete", "shared",
    "order_id", "contact_phone", "order_attempts", "order_verified", "order_unavailable",
    "product", "problem", "incident_time", "wished_remedy", "check_denied", "wrong_fact",
    "facts_confirmed", "offered_remedies", "offered_remedies_tried", "chosen_remedy",
    "alternative_offered", "satisfaction", "unclear_count", "requested_slot",
    "question_counts", "stalled_step", "claimed_amount", "risk_kind", "repeat_complaint",
    "previous_ticket_id",
)
