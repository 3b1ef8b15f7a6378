"""The complaint form: its validation and the question asked at each step."""
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import form_handover, hand_over_on_failure, handover
from actions.reply import PERSON_BUTTON, WORDING_SLOTS, button, enter_step, message_of, records_for, say_text
from kefu.complaint import form, policy, tracking, wording
from kefu.complaint.records import StoreRecords
from kefu.complaint.risk import CATEGORY_OF, risk_of
from kefu.complaint.steps import STEP_OF_SLOT

ORDER_STATUS_NAMES = {
    "paid": "已付款、待发货", "shipped": "已发货", "in_transit": "运输中", "delivered": "已签收",
    "lost": "物流异常", "returned": "已退回", "refunded": "已退款",
}
# complaints about goods the customer holds: "已签收" is a plain fact to them
HAS_THE_GOODS = ("quality", "wrong_item")
RESTATE_LIMIT = 60
logger = logging.getLogger(__name__)


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
            return after_digression(dispatcher, tracker, slots, records)
        message = message_of(tracker)
        risk = risk_of(message.intent, message.confidence, message.entities)
        if risk:  # before the emotion mark: a risk names itself and is urgent
            return stop_for("risk", risk_kind=risk, complaint_category=CATEGORY_OF.get(risk)
                            or slots.get("complaint_category") or "other")
        stop = form_handover(tracker)  # e.g. the emotion mark set on this very message
        if stop:
            return stop
        outcome = form.handle_message(slots, message, records)
        for response, kwargs in outcome.replies:
            if response is None:  # a text of kefu.complaint.wording
                say_text(dispatcher, tracker, kwargs["text"])
            else:
                dispatcher.utter_message(response=response, **kwargs)
        if not outcome.updates:
            return []
        events = [SlotSet(name, value) for name, value in outcome.updates.items()]
        if outcome.updates.get("handoff_reason"):
            return events + stop_for(outcome.updates["handoff_reason"])
        slots.update(outcome.updates)
        return events + ask_next(dispatcher, tracker, slots, records)


def stop_for(reason: str, **slots: Any) -> List[Dict[Text, Any]]:
    """Stop the form and hand over for ``reason``, with the slots the hand-off reads."""
    return ([SlotSet(name, value) for name, value in slots.items()]
            + [SlotSet("requested_slot", None), ActiveLoop(None)] + handover(reason))


def after_digression(dispatcher, tracker, slots, records) -> List[Dict[Text, Any]]:
    """Back from a digression. An off-topic message counts as an answer that did not help
    (三换): the third in a row at one step hands over."""
    if tracking.latest_intent(tracker) not in tracking.UNPRODUCTIVE_INTENTS:
        return ask_next(dispatcher, tracker, slots, records)
    count = (slots.get("unclear_count") or 0) + 1
    slots["unclear_count"] = count
    if count >= form.STALL_HANDOVER_AT:
        return stop_for("stalled", unclear_count=count, stalled_step=form.stalled_step(slots))
    return [SlotSet("unclear_count", count)] + ask_next(dispatcher, tracker, slots, records)


def answers_customer(tracker: Tracker) -> bool:
    """True when the form runs right after a customer message, not after a digression.

    Rasa shows the validation a tracker that already ends with the form's own
    action, so the action before it tells whether the customer just spoke.
    """
    actions = [e.get("name") for e in tracker.events if e.get("event") == "action"]
    # action_fallback starts the form for a long message it could not place: that
    # message is the customer's too
    return len(actions) >= 2 and actions[-2] in ("action_listen", "action_fallback")


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
    changed = {name: slots.get(name) for name in WORDING_SLOTS if slots.get(name) != tracker.get_slot(name)}
    counts = dict(slots.get("question_counts") or {})
    asked = counts.get(slot_name, 0)
    counts[slot_name] = asked + 1
    slots["question_counts"] = counts
    events = [SlotSet("requested_slot", slot_name), SlotSet("question_counts", counts)]
    events += enter_step(dispatcher, tracker, slots, STEP_OF_SLOT[slot_name])
    step = STEP_OF_SLOT[slot_name]
    offer = person_offer_text(tracker, slots)
    if offer:
        say_text(dispatcher, tracker, offer, buttons=[PERSON_BUTTON], context=guard_context_of(slots, step))
    question = QUESTIONS.get(slot_name)
    if question is not None:
        return events + question(dispatcher, tracker, slots, records, asked)
    if asked == 0 and slot_name == "account_complete" and slots.get("order_id") and not slots.get("complaint_account"):
        say_text(dispatcher, tracker, wording.ORDER_FIRST, context=guard_context_of(slots, step))
    elif asked == 0 and slot_name == "account_complete" and tracking.latest_intent(tracker) == "sarcasm":
        say_text(dispatcher, tracker, wording.pick(wording.SARCASM_ACK, tracking.bot_texts(tracker)),
                 context=guard_context_of(slots, step))
    elif asked == 0:
        dispatcher.utter_message(response=f"utter_question_{slot_name}", **changed)
    else:  # asked before: the same question in other words, never word for word
        say_text(dispatcher, tracker, wording.reask(slot_name, asked), context=guard_context_of(slots, step))
    return events


def person_offer_text(tracker: Tracker, slots: Dict[str, Any]) -> Optional[str]:
    """The words that offer a person before the question, or None. Anger is answered in
    words not said yet in this conversation (two lines: at most twice); when they are
    used up, a stalled customer still gets the stall offer."""
    said = tracking.bot_texts(tracker)
    for reason in form.person_offer(slots):
        if reason == "stalled":
            return wording.pick(wording.STALL_OFFERS, said)
        line = wording.fresh(wording.ANGER_OFFERS, said)
        if line:
            return line
    return None


def ask_facts_confirmed(dispatcher, tracker, slots, records, asked=0):
    """Check: the whole complaint in one sentence, and what our records say."""
    if slots.get("unclear_count") == 1:
        dispatcher.utter_message(response="utter_check_unclear")
    order = verified_order(slots, records)
    say_text(dispatcher, tracker, restatement(slots, order.status if order else None, asked),
             buttons=[button("对的", "/affirm"), button("不对，要改", "/deny")],
             context=guard_context_of(slots, "check"))
    return []


def ask_chosen_remedy(dispatcher, tracker, slots, records, asked=0):
    """Action: the remedies policy allows for this complaint and order, as buttons.

    A refund offers what the customer says they lost, up to the order's total.
    """
    if slots.get("unclear_count") == 1:
        dispatcher.utter_message(response="utter_remedy_unclear")
    order = verified_order(slots, records)
    remedies = form.remedies_to_offer(slots, order.status if order else None)
    amount = refund_amount(slots.get("claimed_amount"), float(order.amount) if order else None)
    buttons = [button(policy.remedy_title(r, amount), f'/inform{{"remedy":"{r}"}}') for r in remedies]
    say_text(dispatcher, tracker, wording.nth(wording.REMEDY_PROMPTS, asked),
             buttons=buttons, context=guard_context_of(slots, "action"))
    return [SlotSet("offered_remedies", remedies)]


def refund_amount(claimed, order_total):
    """What the customer claims, never more than the order's total."""
    if order_total is None:
        return None
    if claimed and 0 < float(claimed) < order_total:
        return float(claimed)
    return order_total


RATING_BUTTONS = [button(f"{n}分", f'/rate{{"rating":"{n}"}}') for n in range(1, 6)]


def ask_satisfaction(dispatcher, tracker, slots, records, asked=0):
    if asked == 0:
        dispatcher.utter_message(response="utter_question_satisfaction")
        return []
    if slots.get("unclear_count") == 1:
        dispatcher.utter_message(response="utter_rating_unclear")
        return []
    say_text(dispatcher, tracker, wording.reask("satisfaction", asked), buttons=RATING_BUTTONS,
             context=guard_context_of(slots, "satisfy"))
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


def restatement(slots: Dict[str, Any], order_status, asked: int = 0) -> str:
    """One sentence: what happened, when, what the customer wants, what our records say.

    The customer's words are quoted without insults or emoji; asked again, it opens
    with other words.
    """
    problem = wording.clean_quote((slots.get("problem") or "").strip())
    if len(problem) > RESTATE_LIMIT:
        problem = problem[:RESTATE_LIMIT] + "…"
    parts = [wording.nth(wording.CHECK_OPENERS, asked)]
    if slots.get("order_id") and not slots.get("order_unavailable"):
        parts.append(f"订单{slots['order_id']}" + (f"（{slots['product']}）" if slots.get("product") else ""))
    parts.append(f"您反映的情况是「{problem}」" if problem else "您反映的情况")
    if slots.get("incident_time"):
        parts.append(f"，时间是「{slots['incident_time']}」")
    wish = slots.get("wished_remedy")
    if wish in policy.REMEDY_NAMES:
        parts.append(f"，您希望{policy.REMEDY_NAMES[wish]}")
    parts.append("。")
    if order_status == "delivered" and slots.get("complaint_category") == "delivery":
        # the customer says it never came: our record is what needs checking, not them
        parts.append("系统里这单被标成了已签收，和您说的对不上，这正是我们要查清楚的。")
    elif order_status and not (order_status == "delivered" and slots.get("complaint_category") not in HAS_THE_GOODS):
        # "已签收" said to someone who may not have the goods reads as doubting them
        parts.append(f"我这边查到这个订单目前显示{ORDER_STATUS_NAMES.get(order_status, order_status)}。")
    parts.append("我这样理解对吗？")
    return "".join(parts)
