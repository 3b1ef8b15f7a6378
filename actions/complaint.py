"""The complaint form: its validation and the question asked at each step."""
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import form_handover, hand_over_on_failure, handover
from actions.reply import button, enter_step, say_text
from kefu.complaint import form, policy
from kefu.complaint.records import StoreRecords

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
    message to Rasa's rules (a digression), after which the form asks again."""

    def name(self) -> Text:
        return "validate_complaint_form"

    @hand_over_on_failure
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        slots = dict(tracker.slots)
        fresh = answers_customer(tracker)
        logger.debug("validate (fresh message: %s), asking %s", fresh, slots.get("requested_slot"))
        if not fresh:
            return [SlotSet("requested_slot", form.next_slot(slots))]
        stop = form_handover(tracker)  # e.g. the emotion mark set on this very message
        if stop:
            return stop
        outcome = form.handle_message(slots, message_of(tracker), records_for(tracker))
        for response, kwargs in outcome.replies:
            dispatcher.utter_message(response=response, **kwargs)
        if not outcome.updates:
            return []
        events = [SlotSet(name, value) for name, value in outcome.updates.items()]
        if outcome.updates.get("handoff_reason"):
            return events + [SlotSet("requested_slot", None), ActiveLoop(None)] + handover(
                outcome.updates["handoff_reason"])
        slots.update(outcome.updates)
        return events + [SlotSet("requested_slot", form.next_slot(slots))]


def answers_customer(tracker: Tracker) -> bool:
    """True when the form runs right after a customer message, not after a digression.

    Rasa shows the validation a tracker that already ends with the form's own
    action, so the action before it tells whether the customer just spoke.
    """
    actions = [e.get("name") for e in tracker.events if e.get("event") == "action"]
    return len(actions) >= 2 and actions[-2] == "action_listen"


class AskAction(Action):
    """Asks for one slot of the form, entering that slot's step first."""

    slot = ""
    step = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events = enter_step(dispatcher, tracker, self.step)
        return events + self.ask(dispatcher, tracker)

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response=f"utter_ask_{self.slot}")
        return []


# The questions that need nothing but their domain response.
class AskAccount(AskAction): slot, step = "account_complete", "listen"
class AskOrderId(AskAction): slot, step = "order_id", "probe"
class AskContactPhone(AskAction): slot, step = "contact_phone", "probe"
class AskProblem(AskAction): slot, step = "problem", "probe"
class AskIncidentTime(AskAction): slot, step = "incident_time", "probe"
class AskWishedRemedy(AskAction): slot, step = "wished_remedy", "probe"
class AskWrongFact(AskAction): slot, step = "wrong_fact", "check"


class AskFactsConfirmed(AskAction):
    """Check: the whole complaint in one sentence, and what our records say."""

    slot, step = "facts_confirmed", "check"

    def ask(self, dispatcher, tracker):
        if tracker.get_slot("unclear_count"):
            dispatcher.utter_message(response="utter_check_unclear")
        say_text(dispatcher, tracker, restatement(tracker.slots, self.order_status(tracker)),
                 buttons=[button("对的", "/affirm"), button("不对，要改", "/deny")],
                 context={"complaint_step": "check"})
        return []

    @staticmethod
    def order_status(tracker: Tracker):
        if not tracker.get_slot("order_verified"):
            return None
        order = records_for(tracker).find_order(tracker.get_slot("order_id"))
        return order.status if order else None


class AskChosenRemedy(AskAction):
    """Action: the remedies policy allows for this complaint and order, as buttons."""

    slot, step = "chosen_remedy", "action"

    def ask(self, dispatcher, tracker):
        if tracker.get_slot("unclear_count"):
            dispatcher.utter_message(response="utter_remedy_unclear")
        order = None
        if tracker.get_slot("order_verified"):
            order = records_for(tracker).find_order(tracker.get_slot("order_id"))
        remedies = form.remedies_to_offer(tracker.slots, order.status if order else None)
        amount = float(order.amount) if order else None
        buttons = [button(policy.remedy_title(r, amount), f'/inform{{"remedy":"{r}"}}') for r in remedies]
        say_text(dispatcher, tracker, "结合您的情况，我们可以这样为您处理，您看哪一种最合适：",
                 buttons=buttons, context={"complaint_step": "action"})
        return [SlotSet("offered_remedies", remedies)]


class AskSatisfaction(AskAction):
    slot, step = "satisfaction", "satisfy"

    def ask(self, dispatcher, tracker):
        if tracker.get_slot("unclear_count"):
            dispatcher.utter_message(response="utter_rating_unclear")
        dispatcher.utter_message(response="utter_ask_satisfaction")
        return []


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
