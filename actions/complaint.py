"""The complaint form: its validation and the question asked at each step."""
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import form_handover, hand_over_on_failure, handover
from actions.reply import WORDING_SLOTS, button, enter_step, say_text
from kefu.complaint import form, policy
from kefu.complaint.records import StoreRecords
from kefu.complaint.steps import STEP_OF_SLOT

ORDER_STATUS_NAMES = {
    "paid": "已付款、待发货", "shipped": "已发货", "in_transit": "运输中", "delivered": "已签收",
    "lost": "物流异常", "returned": "已退回", "refunded": "已退款",
}
RESTATE_LIMIT = 60
logger = logging.getLogger(__name__)


def records_for(tracker: Tracker) -> StoreRecords:
    return StoreRecords(sender_id=tracker.sender_id, channel=tracker.get_latest_input_channel())


def message_of(tracker: Tracker) -> form.Message:
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    return form.Message(text=latest.get("text") or "", intent=intent.get("name") or "",
                        confidence=intent.get("confidence") or 0.0,
                        entities=latest.get("entities") or [])


class ValidateComplaintForm(FormValidationAction):
    """All of the form's validation in kefu.complaint.form; an empty result hands the
    message to Rasa's rules (a digression), after which the form asks again.

    It also asks the next question: the domain has no ``action_ask_<slot>`` and no
    ``utter_ask_<slot>``, so Rasa's form asks nothing itself, and a message costs one
    action call instead of two.
    """

    def name(self) -> Text:
        return "validate_complaint_form"

    @hand_over_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        slots = dict(tracker.slots)
        records = records_for(tracker)
        fresh = answers_customer(tracker)
        logger.debug("validate (fresh message: %s), asking %s", fresh, slots.get("requested_slot"))
        if not fresh:
            return ask_next(dispatcher, tracker, slots, records)
        stop = form_handover(tracker)  # e.g. the emotion mark set on this very message
        if stop:
            return stop
        outcome = form.handle_message(slots, message_of(tracker), records)
        for response, kwargs in outcome.replies:
            dispatcher.utter_message(response=response, **kwargs)
        if not outcome.updates:
            return []
        events = [SlotSet(name, value) for name, value in outcome.updates.items()]
        if outcome.updates.get("handoff_reason"):
            return events + [SlotSet("requested_slot", None), ActiveLoop(None)] + handover(
                outcome.updates["handoff_reason"])
        slots.update(outcome.updates)
        return events + ask_next(dispatcher, tracker, slots, records)


def answers_customer(tracker: Tracker) -> bool:
    """True when the form runs right after a customer message, not after a digression.

    Rasa shows the validation a tracker that already ends with the form's own
    action, so the action before it tells whether the customer just spoke.
    """
    actions = [e.get("name") for e in tracker.events if e.get("event") == "action"]
    return len(actions) >= 2 and actions[-2] == "action_listen"


def ask_next(dispatcher: CollectingDispatcher, tracker: Tracker, slots: Dict[str, Any],
             records: StoreRecords) -> List[Dict[Text, Any]]:
    """Requests the form's next slot and asks for it, entering that slot's step first.

    ``slots``: as they are after this message. Rasa renders the responses sent here
    before it applies this action's events, so the slots that choose a response's
    wording go along with it (kefu.guard.nlg.GuardedNLG reads them).
    """
    slot_name = form.next_slot(slots)
    if slot_name is None:
        return [SlotSet("requested_slot", None)]
    wording = {name: slots.get(name) for name in WORDING_SLOTS if slots.get(name) != tracker.get_slot(name)}
    events = [SlotSet("requested_slot", slot_name)]
    events += enter_step(dispatcher, slots, STEP_OF_SLOT[slot_name], wording)
    question = QUESTIONS.get(slot_name)
    if question is None:
        dispatcher.utter_message(response=f"utter_question_{slot_name}", **wording)
        return events
    return events + question(dispatcher, tracker, slots, records)


def ask_facts_confirmed(dispatcher, tracker, slots, records):
    """Check: the whole complaint in one sentence, and what our records say."""
    if slots.get("unclear_count"):
        dispatcher.utter_message(response="utter_check_unclear")
    order = verified_order(slots, records)
    say_text(dispatcher, tracker, restatement(slots, order.status if order else None),
             buttons=[button("对的", "/affirm"), button("不对，要改", "/deny")],
             context=guard_context_of(slots, "check"))
    return []


def ask_chosen_remedy(dispatcher, tracker, slots, records):
    """Action: the remedies policy allows for this complaint and order, as buttons."""
    if slots.get("unclear_count"):
        dispatcher.utter_message(response="utter_remedy_unclear")
    order = verified_order(slots, records)
    remedies = form.remedies_to_offer(slots, order.status if order else None)
    amount = float(order.amount) if order else None
    buttons = [button(policy.remedy_title(r, amount), f'/inform{{"remedy":"{r}"}}') for r in remedies]
    say_text(dispatcher, tracker, "结合您的情况，我们可以这样为您处理，您看哪一种最合适：",
             buttons=buttons, context=guard_context_of(slots, "action"))
    return [SlotSet("offered_remedies", remedies)]


def ask_satisfaction(dispatcher, tracker, slots, records):
    if slots.get("unclear_count"):
        dispatcher.utter_message(response="utter_rating_unclear")
    dispatcher.utter_message(response="utter_question_satisfaction")
    return []


# The questions built here; every other slot's question is its `utter_question_<slot>`.
QUESTIONS = {"facts_confirmed": ask_facts_confirmed, "chosen_remedy": ask_chosen_remedy,
             "satisfaction": ask_satisfaction}


def verified_order(slots: Dict[str, Any], records: StoreRecords):
    if not slots.get("order_verified"):
        return None
    return records.find_order(slots.get("order_id"))


def guard_context_of(slots: Dict[str, Any], step: str) -> Dict[str, Any]:
    return {"complaint_step": step, "ticket_tier": slots.get("ticket_tier"), "ticket_id": slots.get("ticket_id")}


def restatement(slots: Dict[str, Any], order_status) -> str:
    """One sentence: what happened, when, what the customer wants, what our records say."""
    problem = (slots.get("problem") or "").strip()
    if len(problem) > RESTATE_LIMIT:
        problem = problem[:RESTATE_LIMIT] + "…"
    parts = ["跟您确认一下："]
    if slots.get("order_id") and not slots.get("order_unavailable"):
        parts.append(f"订单{slots['order_id']}" + (f"（{slots['product']}）" if slots.get("product") else ""))
    parts.append(f"您反映的情况是「{problem}」" if problem else "您反映的情况")
    if slots.get("incident_time"):
        parts.append(f"，时间是「{slots['incident_time']}」")
    wish = slots.get("wished_remedy")
    if wish in policy.REMEDY_NAMES:
        parts.append(f"，您希望{policy.REMEDY_NAMES[wish]}")
    parts.append("。")
    if order_status:
        parts.append(f"我这边查到这个订单目前显示{ORDER_STATUS_NAMES.get(order_status, order_status)}。")
    parts.append("我这样理解对吗？")
    return "".join(parts)
