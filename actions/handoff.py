"""Hand-off to a person: the bot stops, an agent answers from the desk, the bot resumes.

- ``action_handoff``: tells the customer honestly who takes over and when, records the
  escalation (kefu.handoff), makes a callback ticket when no agent is online, and
  pauses the conversation (``ConversationPaused``).
- ``action_handoff_relay``: run by the desk through Rasa's ``/execute`` API; utters the
  agent's pending replies, so they land in the tracker and in the customer's channel.
- ``action_handoff_resume``: run by the desk when the case is resolved; resumes the
  bot and asks the satisfaction question.
- ``action_handoff_rated``: records the rating the customer gives to that question.

Other actions hand over by returning :func:`handover`.
"""
import functools
import logging
from datetime import datetime
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, ConversationPaused, ConversationResumed, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.reply import end_complaint, records_for, say_text
from kefu.complaint import hours, wording
from kefu.complaint.rating import is_low, parse_rating
from kefu.complaint.records import ticket_reply
from kefu.complaint.steps import STEP_NAMES
from kefu.complaint.tracking import latest_intent, previous_intent
from kefu.handoff import escalations
from kefu.handoff import priority as priorities
from kefu.handoff.record import build_record
from kefu.handoff.summary import summarize
from kefu.handoff.transcript import AGENT_MARK, PUSH_MARK
from kefu.handoff.triggers import handoff_reason, reason_text
from kefu.store import StoreError, tickets
from kefu.store.db import local_now
from kefu.store.orders import mask_phone

logger = logging.getLogger(__name__)
Events = List[Dict[Text, Any]]
HANDOFF = "action_handoff"
SYSTEM_ERRORS = (StoreError, SQLAlchemyError, OSError)


def handover(reason: str) -> Events:
    """Events that make ``action_handoff`` run next, for ``reason`` (kefu.handoff.REASONS)."""
    return [SlotSet("handoff_reason", reason), FollowupAction(HANDOFF)]


def escalation_record(tracker: Tracker, reason: str) -> Dict[str, Any]:
    """The record for the desk, with what this conversation adds to the trigger's reason:
    a risk is urgent, a stall names its step, a repeat complaint comes one step earlier."""
    slots = tracker.slots
    record = build_record(tracker.current_state(), slots, reason)
    if reason == "risk":
        kind = slots.get("risk_kind") or "safety"
        record["reason_text"] = f"风险：{wording.RISK_NAMES.get(kind, kind)}，须立即人工处理"
        record["risk"] = kind
        record["priority"] = "urgent"
    elif reason == "stalled":
        step = slots.get("stalled_step") or slots.get("complaint_step") or "listen"
        record["reason"] = f"stalled at {step}"
        record["reason_text"] = f"在「{STEP_NAMES.get(step, step)}」这一步连续三次没有进展"
    if slots.get("repeat_complaint"):
        record["repeat_of"] = slots.get("previous_ticket_id")
        record["priority"] = priorities.PRIORITIES[max(0, priorities.rank(record["priority"]) - 1)]
    record["summary"] = summarize(record)
    return record


def why_text(reason: str, slots: Dict[str, Any]) -> str:
    """The first words of a hand-off text: why a person takes over now."""
    if reason == "risk" and slots.get("risk_kind") == "threat":
        return wording.HANDOFF_WHY["threat"]
    return wording.HANDOFF_WHY.get(reason, wording.HANDOFF_WHY["customer_request"])


class Handoff(Action):
    """Tells, records, pauses."""

    def name(self) -> Text:
        return HANDOFF

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> Events:
        reason = (tracker.get_slot("handoff_reason")
                  or handoff_reason(tracker.slots, intent=latest_intent(tracker),
                                    previous_intent=previous_intent(tracker))
                  or "customer_request")
        if reason == "risk":  # name the risk first, before anything else is said
            kind = tracker.get_slot("risk_kind") or "safety"
            say_text(dispatcher, tracker, wording.RISK_ACK.get(kind, wording.RISK_ACK["safety"]))
        try:
            events = self.escalate(dispatcher, tracker, reason)
        except SYSTEM_ERRORS:
            logger.exception("hand-off of %s could not be recorded", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_failed")
            return [SlotSet("handoff_reason", None)]
        if tracker.active_loop.get("name"):
            events.insert(0, ActiveLoop(None))
        # The emotion mark has been acted on: a later complaint starts from a clean slate.
        calm = [SlotSet("needs_human", False), SlotSet("needs_human_reason", None),
                SlotSet("emotion_history", [])]
        return events + calm + [SlotSet("handoff_reason", None), ConversationPaused()]

    def escalate(self, dispatcher, tracker: Tracker, reason: str) -> Events:
        already = escalations.open_escalation_for(tracker.sender_id)
        if already:  # handed over before and not resolved: say the wait again
            case = already
        else:
            case = escalations.create_escalation(escalation_record(tracker, reason))
        estimate = escalations.wait_estimate(case["id"])
        events: Events = [SlotSet("escalation_id", str(case["id"]))]
        why = why_text(reason, tracker.slots)
        if estimate["online"]:
            response = "utter_handoff_waiting" if estimate["ahead"] else "utter_handoff_next"
            dispatcher.utter_message(response=response, queue_ahead=estimate["ahead"],
                                     wait_minutes=estimate["minutes"], why=why)
            return events
        callback = (tickets.get_ticket(case["callback_ticket_id"])
                    if case.get("callback_ticket_id") else None)
        reply = (ticket_reply(callback, "callback") if callback
                 else records_for(tracker).callback_ticket(tracker.slots, reason_text(reason)))
        escalations.attach_callback(case["id"], reply["ticket_id"])
        due = datetime.fromisoformat(reply["deadline_iso"])
        phone = tracker.get_slot("contact_phone")
        dispatcher.utter_message(
            response="utter_handoff_callback", why=why, **reply,
            when=hours.callback_when(local_now(), reply["promise"], reply["deadline"], due),
            phone_line=(f"回电会打到{mask_phone(phone)}，号码有变的话直接发新号码给我。" if phone
                        else "麻烦留一个方便接听的手机号，客服回电时用。"))
        return events + [SlotSet("ticket_id", reply["ticket_id"]),
                         SlotSet("ticket_tier", reply["tier"]),
                         SlotSet("ticket_deadline", reply["deadline_iso"])]


class RelayAgentMessages(Action):
    """Puts the agent's pending replies into the conversation (and its channel)."""

    def name(self) -> Text:
        return "action_handoff_relay"

    async def run(self, dispatcher, tracker, domain) -> Events:
        for message in escalations.take_pending_messages(tracker.sender_id):
            # Extra keyword arguments become the bot event's metadata in the tracker.
            dispatcher.utter_message(text=message["text"], kefu_from=AGENT_MARK,
                                     agent=message["agent"], agent_message_id=message["id"],
                                     **{PUSH_MARK: True})
        return []


class ResumeAfterHandoff(Action):
    """The agent resolved the case: the bot is back and asks how it went."""

    def name(self) -> Text:
        return "action_handoff_resume"

    async def run(self, dispatcher, tracker, domain) -> Events:
        dispatcher.utter_message(response="utter_handoff_resumed", **{PUSH_MARK: True})
        dispatcher.utter_message(response="utter_question_satisfaction", **{PUSH_MARK: True})
        # The desk runs this through /execute, outside a customer turn: listening is
        # logged here so the customer's answer follows this action (data/rules.yml).
        return [ConversationResumed(), SlotSet("complaint_step", "satisfy"),
                ActionExecuted("action_listen")]


class RateAfterHandoff(Action):
    """The customer's answer to the satisfaction question after a person helped."""

    def name(self) -> Text:
        return "action_handoff_rated"

    async def run(self, dispatcher, tracker, domain) -> Events:
        rating = rating_in(tracker.latest_message or {})
        if rating is not None:
            escalations.record_satisfaction(tracker.sender_id, rating)
            if tracker.get_slot("ticket_id"):
                tickets.update_ticket(tracker.get_slot("ticket_id"), satisfaction=rating)
        done = end_complaint() + [SlotSet("escalation_id", None)]
        if rating is None and (latest_intent(tracker) or "").startswith(("complain_", "sarcasm")):
            # no rating but a new problem: a new complaint, told from the start
            dispatcher.utter_message(response="utter_handoff_feedback")
            return done + [FollowupAction("complaint_form")]
        if rating is None:
            response = "utter_handoff_feedback"
        else:
            response = "utter_handoff_rated_low" if is_low(rating) else "utter_handoff_rated"
        dispatcher.utter_message(response=response)
        return done


def rating_in(message: Dict[str, Any]) -> Optional[int]:
    """The rating in a message: the one parser of kefu.complaint.rating."""
    return parse_rating(message.get("text") or "", message.get("entities") or ())


# --- hooks for actions that detect a hand-off themselves ---------------------------------

def form_handover(tracker: Tracker, order_amount: Optional[float] = None) -> Optional[Events]:
    """Events that stop the complaint form and hand over, when a trigger applies now.

    For the form's validation action: the emotion mark (``needs_human``), an amount
    above the bot's authority, or a customer still unsatisfied after an alternative.
    """
    reason = handoff_reason(tracker.slots, intent=latest_intent(tracker),
                            previous_intent=previous_intent(tracker), order_amount=order_amount)
    if reason in (None, "customer_request", "not_understood"):
        return None  # these two reach action_handoff through rules and action_fallback
    return [SlotSet("requested_slot", None), ActiveLoop(None)] + handover(reason)


def hand_over_on_failure(run):
    """Decorates an action's ``run``: when the order store or another system fails,
    the customer is handed to a person instead of meeting silence."""
    @functools.wraps(run)
    async def guarded(self, dispatcher, tracker, domain):
        try:
            return await run(self, dispatcher, tracker, domain)
        except SYSTEM_ERRORS:
            logger.exception("%s failed for %s; handing over", self.name(), tracker.sender_id)
            loop = [ActiveLoop(None)] if tracker.active_loop.get("name") else []
            return loop + handover("system_failure")
    return guarded
