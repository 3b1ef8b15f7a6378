"""Actions around the form: closing a complaint, giving up, progress, a person, fallback,
risks, praise that may be sarcasm, and off-topic messages."""
from typing import Any, Dict, List, Text

from rasa_sdk import Action
from rasa_sdk.events import FollowupAction, SlotSet

from actions.handoff import handover
from actions.reply import PERSON_BUTTON, end_complaint, message_of, records_for, say_text
from kefu.complaint import facts, tracking, wording
from kefu.complaint.rating import is_low
from kefu.complaint.records import ticket_reply
from kefu.complaint.risk import CATEGORY_OF, risk_of
from kefu.store import tickets

# Outside the form: the second unproductive message in a row offers a person, the third
# hands over (two fallbacks in a row hand over at once: kefu.handoff.triggers).
OFFER_AT, HANDOVER_AT = 2, 3
NEGATIVE_EMOTIONS = ("angry", "disappointed")
LONG_STORY = 15  # characters: a message this long that the NLU cannot place is a story
TICKET_STATUS_NAMES = {"open": "已受理", "in_progress": "处理中", "resolved": "已处理完",
                       "closed": "已结案", "cancelled": "已取消"}

Events = List[Dict[Text, Any]]


def risk_handover(tracker) -> Events:
    """A risk said outside a complaint, whatever the message's intent: a person at once."""
    message = message_of(tracker)
    kind = risk_of(message.intent, message.confidence, message.entities)
    if not kind:
        return []
    return [SlotSet("risk_kind", kind),
            SlotSet("complaint_category", CATEGORY_OF.get(kind) or "other")] + handover("risk")


def last_action(tracker) -> str:
    """The bot's last action before the customer's latest message."""
    users = [i for i, e in enumerate(tracker.events) if e.get("event") == "user"]
    if not users:
        return ""
    before = [e.get("name") for e in tracker.events[:users[-1]] if e.get("event") == "action"
              and e.get("name") not in ("action_listen", "action_extract_slots", "action_session_start")]
    return before[-1] if before else ""


def stalled_outside(dispatcher, tracker) -> Events:
    """Outside a complaint: the second unproductive message in a row offers a person, the
    third hands over. None when the customer is not stuck."""
    streak = tracking.unproductive_streak(tracker)
    if streak >= HANDOVER_AT:
        return [SlotSet("stalled_step", "listen")] + handover("stalled")
    if streak >= OFFER_AT:
        say_text(dispatcher, tracker, wording.OFF_TOPIC_OFFER, buttons=[PERSON_BUTTON])
        return []
    return None


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
        if rating and not is_low(rating) and ticket:
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
        risk = risk_handover(tracker)  # "算了，我去12315" is a threat, not giving up
        if risk:
            return risk
        if tracker.get_slot("complaint_account") or tracker.get_slot("ticket_id"):
            records_for(tracker).record_give_up(tracker.slots)
        dispatcher.utter_message(response="utter_give_up")
        return end_complaint()


class AskProgress(Action):
    """Progress of existing tickets, by order number, phone, or this conversation."""

    def name(self) -> Text:
        return "action_ask_progress"

    async def run(self, dispatcher, tracker, domain) -> Events:
        return progress_reply(dispatcher, tracker)


def progress_reply(dispatcher, tracker) -> Events:
    """Progress by order number once the phone matches it, or this conversation's own."""
    found = facts.facts_in(tracker.latest_message.get("text") or "", tracker.latest_message.get("entities"))
    order_id = found.get("order_id") or tracker.get_slot("order_id")
    phone = found.get("contact_phone") or tracker.get_slot("contact_phone")
    records = records_for(tracker)
    if order_id and not phone:  # ticket details only after the phone matches
        say_text(dispatcher, tracker, PROGRESS_PHONE)
        return [SlotSet("order_id", order_id)]
    if order_id:
        order = records.find_order(order_id)
        results = records.progress(order_id, None) if order and order.phone == phone else []
    else:
        results = records.progress(None, None)  # this conversation's own tickets
    if results:
        say_text(dispatcher, tracker, progress_text(results))
    elif order_id:
        dispatcher.utter_message(response="utter_progress_none")
    else:
        dispatcher.utter_message(response="utter_ask_progress_key")
    return []


PROGRESS_PHONE = "我来帮您查。为了保护您的信息，麻烦再发一下这个订单的下单手机号。"


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
    """Not understood: ask to rephrase once; the second time in a row a person takes over,
    and so does a third message in a row that was off-topic or not understood."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher, tracker, domain) -> Events:
        risk = risk_handover(tracker)
        if risk:
            return risk
        message = message_of(tracker)
        if facts.facts_in(message.text, message.entities) or len(facts.without_facts(message.text)) >= LONG_STORY:
            # a long message or one with an order number is a complaint the NLU could not
            # place: the form listens to it (actions/complaint.py takes this message)
            return [FollowupAction("complaint_form")]
        streak = tracking.unproductive_streak(tracker)
        if tracking.previous_intent(tracker) == "nlu_fallback" or streak >= HANDOVER_AT:
            dispatcher.utter_message(response="utter_default_again")
            return handover("not_understood")
        if streak >= OFFER_AT:
            say_text(dispatcher, tracker, wording.OFF_TOPIC_OFFER, buttons=[PERSON_BUTTON])
            return []
        dispatcher.utter_message(response="utter_default")
        return []


class OffTopic(Action):
    """Off-topic: say what the bot is for; said again and again, a person is offered, then
    takes over ("stalled at listen")."""

    def name(self) -> Text:
        return "action_off_topic"

    async def run(self, dispatcher, tracker, domain) -> Events:
        stuck = risk_handover(tracker) or stalled_outside(dispatcher, tracker)
        if stuck is not None:
            return stuck
        say_text(dispatcher, tracker, wording.pick(wording.OFF_TOPIC, tracking.bot_texts(tracker)))
        return []


class Risk(Action):
    """A danger to safety or health, leaked data or a scam: a person takes over at once,
    urgently; action_handoff names the risk first (kefu.complaint.risk)."""

    def name(self) -> Text:
        return "action_risk"

    async def run(self, dispatcher, tracker, domain) -> Events:
        message = message_of(tracker)
        kind = risk_of(message.intent, 1.0, message.entities) or "safety"
        return [SlotSet("risk_kind", kind),
                SlotSet("complaint_category", CATEGORY_OF.get(kind) or "other")] + handover("risk")


class Greet(Action):
    """A greeting; gibberish guessed as a greeting counts as one more message not understood."""

    def name(self) -> Text:
        return "action_greet"

    async def run(self, dispatcher, tracker, domain) -> Events:
        stuck = stalled_outside(dispatcher, tracker)
        if stuck is not None:
            return stuck
        dispatcher.utter_message(response="utter_greet")
        return []


class Praise(Action):
    """Praise is thanked; "praise" from an angry or disappointed customer is sarcasm,
    a complaint: never thanked, the customer is asked what went wrong."""

    def name(self) -> Text:
        return "action_praise"

    async def run(self, dispatcher, tracker, domain) -> Events:
        if tracker.get_slot("emotion") not in NEGATIVE_EMOTIONS:
            dispatcher.utter_message(response="utter_praise_thanks")
            return []
        say_text(dispatcher, tracker, wording.pick(wording.SARCASM_ACK, tracking.bot_texts(tracker)))
        if tracker.active_loop.get("name"):
            return []
        return [FollowupAction("complaint_form")]


class OutsideComplaint(Action):
    """A fact with no complaint open: look up progress, or invite the customer to tell."""

    def name(self) -> Text:
        return "action_outside_complaint"

    async def run(self, dispatcher, tracker, domain) -> Events:
        risk = risk_handover(tracker)
        if risk:
            return risk
        if last_action(tracker) == "action_ask_progress":  # the phone we asked for
            return progress_reply(dispatcher, tracker)
        message = message_of(tracker)
        found = facts.facts_in(message.text, message.entities)
        if found.get("order_id") or found.get("contact_phone"):
            # a fact before the story: kept, and the complaint starts by asking what
            # happened, once (no ticket details before the phone matches)
            return [SlotSet("order_id", found.get("order_id")),
                    SlotSet("contact_phone", found.get("contact_phone")),
                    FollowupAction("complaint_form")]
        stuck = stalled_outside(dispatcher, tracker)  # gibberish guessed as a fact
        if stuck is not None:
            return stuck
        dispatcher.utter_message(response="utter_outside_complaint")
        return []
