"""What a customer hears while the conversation waits for a person.

Rasa predicts nothing while a conversation is paused, so without this a customer
who writes "还在吗？" meets silence.  Each message gets a short acknowledgement —
the place in the queue, the agent who has the case, or the callback ticket the
message was added to — at most once every ``ACK_INTERVAL`` so a customer who sends
five lines in a row is not answered five times; a phone number for the callback is
confirmed at once.  Anger that grows while waiting makes the case more urgent on the desk.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, Mapping, Optional

from kefu.complaint.facts import find_phone
from kefu.handoff import escalations
from kefu.handoff import priority as priorities
from kefu.store import tickets

ACK_INTERVAL = timedelta(minutes=2)


@dataclass
class Acknowledgement:
    response: str  # a domain response, utter_waiting_ack_*
    values: Dict[str, Any] = field(default_factory=dict)


def due(last_ack_at: Optional[str], now: datetime) -> bool:
    """True when no acknowledgement went out in the last ``ACK_INTERVAL``."""
    if not last_ack_at:
        return True
    try:
        return now - datetime.fromisoformat(last_ack_at) >= ACK_INTERVAL
    except (TypeError, ValueError):
        return True  # an unreadable mark must not silence the customer


def keep_on_callback_ticket(case: Mapping[str, Any], customer_text: str, now: datetime) -> None:
    """Every word said while waiting for a callback goes on its ticket: the person who
    calls back reads the ticket, not the chat."""
    if case.get("callback_ticket_id") and customer_text.strip():
        tickets.update_ticket(case["callback_ticket_id"], note=f"顾客补充：{customer_text[:500]}", now=now)


def take_callback_phone(case: Mapping[str, Any], customer_text: str, now: datetime) -> Optional[str]:
    """The mobile number in a message to a callback case, put on its ticket: the number
    the person calling back dials (the hand-off asked for it)."""
    phone = find_phone(customer_text)
    if phone and case.get("callback_ticket_id"):
        tickets.update_ticket(case["callback_ticket_id"], phone=phone, now=now)
        return phone
    return None


def acknowledge(case: Mapping[str, Any], now: datetime) -> Acknowledgement:
    """The acknowledgement: who has the case, the callback ticket, or the queue."""
    if case.get("agent"):
        return Acknowledgement("utter_waiting_ack_agent", {"agent": case["agent"]})
    ticket_id = case.get("callback_ticket_id")
    if ticket_id:
        return Acknowledgement("utter_waiting_ack_callback", {"ticket_id": ticket_id})
    estimate = escalations.wait_estimate(case["id"], now)
    if estimate["ahead"]:
        return Acknowledgement("utter_waiting_ack_queue", {"queue_ahead": estimate["ahead"],
                                                          "wait_minutes": estimate["minutes"]})
    return Acknowledgement("utter_waiting_ack_next", {"wait_minutes": estimate["minutes"]})


def escalate_if_angrier(case: Mapping[str, Any], slots: Mapping[str, Any],
                        customer_texts: Iterable[str], now: datetime) -> bool:
    """Raise the case's priority when the customer's latest words call for more."""
    wanted = priorities.priority_for(case["reason"], slots, customer_texts)
    return escalations.raise_priority(case["id"], wanted, now)
