"""While a conversation waits for a person: a short acknowledgement, and a case that
moves up the queue when the customer's anger rises.

Rasa predicts nothing while a conversation is paused, but after every message it still
runs ``action_validate_slot_mappings`` (actions/waiting.py), which may utter; this
module decides what it says.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

from kefu.handoff import escalations
from kefu.handoff import priority as priorities

ACK_INTERVAL_SECONDS = 120  # one acknowledgement every two minutes at most


@dataclass
class WaitingReply:
    """The response to utter (None: stay silent) with its variables."""

    response: Optional[str] = None
    variables: Dict[str, Any] = field(default_factory=dict)
    raised_to: Optional[str] = None  # the case's new priority, when it went up


def while_waiting(sender_id: str, slots: Mapping[str, Any], text: str,
                  last_ack_at: Optional[float], now: Optional[float] = None) -> WaitingReply:
    """What to do with a customer message that arrives while the conversation waits."""
    now = time.time() if now is None else now
    case = escalations.open_escalation_for(sender_id)
    if case is None:
        return WaitingReply()
    reply = WaitingReply(raised_to=_raise_on_anger(case, slots, text))
    if case["first_reply_at"]:
        return reply  # a person is talking with the customer: they see the message
    if last_ack_at is not None and now - float(last_ack_at) < ACK_INTERVAL_SECONDS:
        return reply
    reply.response, reply.variables = _acknowledgement(case)
    return reply


def _acknowledgement(case: Mapping[str, Any]) -> tuple[str, Dict[str, Any]]:
    if case["agent"]:
        return "utter_waiting_ack_agent", {"agent": case["agent"]}
    if case["callback_ticket_id"]:
        return "utter_waiting_ack_callback", {"ticket_id": case["callback_ticket_id"]}
    estimate = escalations.wait_estimate(case["id"])
    variables = {"queue_ahead": estimate["ahead"], "wait_minutes": estimate["minutes"]}
    return ("utter_waiting_ack_queue" if estimate["ahead"] else "utter_waiting_ack_next"), variables


def _raise_on_anger(case: Mapping[str, Any], slots: Mapping[str, Any], text: str) -> Optional[str]:
    """A threat, or anger that grows while waiting, moves the case up; never down."""
    wanted = priorities.priority_for(case["reason"], slots, [text])
    if priorities.rank(wanted) >= priorities.rank(case["priority"]):
        return None
    escalations.raise_priority(case["id"], wanted)
    return wanted
