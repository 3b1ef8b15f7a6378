"""Actions around the form: closing a complaint, giving up, progress, a person, fallback."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import message_of, records_for
from actions.handoff import handover, previous_intent
from actions.reply import say_text
from kefu.complaint import facts
from kefu.complaint.records import ticket_reply
from kefu.store import tickets

# Everything one complaint fills; cleared when it ends so the next one starts fresh.
COMPLAINT_SLOTS = (
    "complaint_step", "complaint_category", "complaint_account", "account_complete", "shared",
    "order_id", "contact_phone", "order_attempts", "order_verified", "order_unavailable",
    "product", "problem", "incident_time", "wished_remedy", "check_denied", "wrong_fact",
    "facts_confirmed", "offered_remedies", "offered_remedies_tried", "chosen_remedy",
    "alternative_offered", "satisfaction", "unclear_count", "requested_slot",
)
TICKET_STATUS_NAMES = {"open": "已受理", "in_progress": "处理中", "resolved": "已处理完",
                       "closed": "已结案", "cancelled": "已取消"}

Events = List[Dict[Text, Any]]


def end_complaint() -> Events:
    return [ActiveLoop(None)] + [SlotSet(name, None) for name in COMPLAINT_SLOTS]


class CloseComplaint(Action):
    """Satisfy, closed: thanks and the follow-up time, or a person calls back."""

    def name(self) -> Text:
        return "action_complaint_close"

    async def run(self, dispatcher, tracker, domain) -> Events:
        records = records_for(tracker)
        rating = tracker.get_slot("satisfaction")
        ticket_id = tracker.get_slot("ticket_id")
        ticket = None
        if ticket_id:
            ticket = records.close_ticket(ticket_id, rating, tracker.get_slot("complaint_category") or "other")
        if rating and rating >= 4 and ticket:
            reply = ticket_reply(ticket, tracker.get_slot("chosen_remedy"))
            dispatcher.utter_message(response="utter_close_satisfied", **reply)
            return end_complaint()
        # Still unsatisfied after an alternative: a person takes over (actions/handoff.py).
        return handover("unsatisfied")


class GiveUp(Action):
    """"算了": a polite close, and what the customer told us stays on record."""

    def name(self) -> Text:
        return "action_give_up"

    async def run(self, dispatcher, tracker, domain) -> Events:
        if tracker.get_slot("complaint_account") or tracker.get_slot("ticket_id"):
            records_for(tracker).record_give_up(tracker.slots)
        dispatcher.utter_message(response="utter_give_up")
        return end_complaint()


class AskProgress(Action):
    """Progress of existing tickets, by order number, phone, or this conversation."""

    def name(self) -> Text:
        return "action_ask_progress"

    async def run(self, dispatcher, tracker, domain) -> Events:
        found = facts.facts_in(tracker.latest_message.get("text") or "", tracker.latest_message.get("entities"))
        order_id, phone = found.get("order_id"), found.get("contact_phone")
        results = records_for(tracker).progress(order_id, phone)
        if results:
            say_text(dispatcher, tracker, progress_text(results))
        elif order_id or phone:
            dispatcher.utter_message(response="utter_progress_none")
        else:
            dispatcher.utter_message(response="utter_ask_progress_key")
        return []


def progress_text(found: List[tickets.TicketInfo]) -> str:
    lines = ["帮您查到了："]
    for ticket in sorted(found, key=lambda t: t.created_at, reverse=True)[:3]:
        status = TICKET_STATUS_NAMES.get(ticket.status, ticket.status)
        line = f"工单{ticket.id}（{ticket.owner}负责）：{status}"
        if ticket.is_open:
            line += f"，会在{ticket.deadline.strftime('%m月%d日 %H:%M')}前处理完"
        lines.append(line + "。")
    return "\n".join(lines)


class RequestHuman(Action):
    """The customer asks for a person: the hand-off (actions/handoff.py)."""

    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher, tracker, domain) -> Events:
        return handover("customer_request")


class Fallback(Action):
    """Not understood: ask to rephrase once; the second time in a row a person takes over."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher, tracker, domain) -> Events:
        if previous_intent(tracker) != "nlu_fallback":
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(response="utter_default_again")
        return handover("not_understood")


class OutsideComplaint(Action):
    """A fact with no complaint open: look up progress, or invite the customer to tell."""

    def name(self) -> Text:
        return "action_outside_complaint"

    async def run(self, dispatcher, tracker, domain) -> Events:
        message = message_of(tracker)
        found = facts.facts_in(message.text, message.entities)
        if found.get("order_id") or found.get("contact_phone"):
            results = records_for(tracker).progress(found.get("order_id"), found.get("contact_phone"))
            if results:
                say_text(dispatcher, tracker, progress_text(results))
                return []
        dispatcher.utter_message(response="utter_outside_complaint")
        return []
