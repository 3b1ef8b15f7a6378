"""Complaint tickets: creation with a tiered deadline, updates, and their history.

A ticket is what makes a promise real (forbidden behaviour ``broken_promise``): the
bot states a deadline only as the ticket's tier promise, after the ticket exists.
Ticket ids are ``T`` + creation date + a 5-digit daily sequence (``T2026112500012``).
Times are naive local time.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kefu.store.db import local_now, session_scope
from kefu.store.models import CATEGORIES, REMEDIES, TICKET_STATUSES, TIERS, Order, Ticket, TicketEvent
from kefu.store.orders import mask_phone, normalize_order_id, normalize_phone

TIER_HOURS = {"urgent": 2, "normal": 24, "complex": 168}
TIER_PROMISE = {"urgent": "2小时内", "normal": "24小时内", "complex": "7天内"}

# Who takes a ticket when the caller does not say: the team that can act on it.
DEFAULT_OWNER = {
    "delivery": "物流组",
    "quality": "售后组",
    "wrong_item": "售后组",
    "service": "客服主管",
    "billing": "财务组",
    "other": "客服组",
}

OPEN_STATUSES = ("open", "in_progress")
_ID_ATTEMPTS = 10  # writers in other processes may pick the same next number; retry
# Writers in this process take turns: with SQLite's write-ahead log, readers don't wait
# for a writer, so concurrent threads would all read the same last id and collide.
_create_lock = threading.Lock()


class TicketNotFound(LookupError):
    """No ticket has this id."""


@dataclass(frozen=True)
class TicketEventInfo:
    at: datetime
    kind: str  # created | status | satisfaction | root_cause | owner | note
    detail: str


@dataclass(frozen=True)
class TicketInfo:
    id: str
    category: str
    problem: str
    remedy: Optional[str]
    owner: str
    tier: str
    deadline: datetime
    status: str
    created_at: datetime
    updated_at: datetime
    sender_id: Optional[str] = None
    channel: Optional[str] = None
    order_id: Optional[str] = None
    phone: Optional[str] = None
    root_cause: Optional[str] = None
    satisfaction: Optional[int] = None
    history: tuple[TicketEventInfo, ...] = ()

    @property
    def promise(self) -> str:
        """What the bot may promise: "2小时内", "24小时内" or "7天内"."""
        return promise_text(self.tier)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: Optional[datetime] = None) -> bool:
        return self.is_open and (now or local_now()) > self.deadline

    def to_dict(self) -> dict:
        """JSON-ready, times in ISO 8601 local time."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in ("deadline", "created_at", "updated_at"):
            data[key] = data[key].isoformat()
        data["history"] = [{"at": event.at.isoformat(), "kind": event.kind,
                            "detail": event.detail} for event in self.history]
        data["promise"] = self.promise
        return data


def promise_text(tier: str) -> str:
    _check_choice("tier", tier, TIERS)
    return TIER_PROMISE[tier]


def deadline_for(tier: str, created_at: datetime) -> datetime:
    _check_choice("tier", tier, TIERS)
    return created_at + timedelta(hours=TIER_HOURS[tier])


def owner_for(category: str) -> str:
    _check_choice("category", category, CATEGORIES)
    return DEFAULT_OWNER[category]


def create_ticket(category: str, problem: str = "", *, remedy: Optional[str] = None,
                  tier: str = "normal", owner: Optional[str] = None,
                  order_id: Optional[str] = None, phone: Optional[str] = None,
                  sender_id: Optional[str] = None, channel: Optional[str] = None,
                  now: Optional[datetime] = None,
                  engine: Optional[Engine] = None) -> TicketInfo:
    """Record a complaint ticket, due ``TIER_HOURS[tier]`` after creation.

    ``owner`` defaults to the team for the category (:data:`DEFAULT_OWNER`).
    ``order_id`` and ``phone`` are normalized; malformed values raise ValueError.
    When only the order is given and the store knows it, the order's phone is
    copied so ``tickets_for(phone=…)`` finds the ticket too.
    """
    fields = _ticket_fields(category, problem, remedy, tier, owner, order_id, phone,
                            sender_id, channel)
    created_at = now or local_now()
    for attempt in range(_ID_ATTEMPTS):
        try:
            with _create_lock, session_scope(engine) as session:
                ticket = insert_ticket(session, created_at=created_at, **fields)
                session.flush()
                return ticket_info(ticket)
        except IntegrityError:
            if attempt == _ID_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.005, 0.05))  # let the other process finish
    raise AssertionError("unreachable")


def _ticket_fields(category, problem, remedy, tier, owner, order_id, phone,
                   sender_id, channel) -> dict:
    _check_choice("category", category, CATEGORIES)
    _check_choice("tier", tier, TIERS)
    if remedy is not None:
        _check_choice("remedy", remedy, REMEDIES)
    canonical_order = None
    if order_id:
        canonical_order = normalize_order_id(order_id)
        if canonical_order is None:
            raise ValueError(f"malformed order id {order_id!r} (expected KF + 8 digits)")
    canonical_phone = None
    if phone:
        canonical_phone = normalize_phone(phone)
        if canonical_phone is None:
            raise ValueError(f"malformed mobile number {phone!r}")
    return dict(category=category, problem=(problem or "").strip(), remedy=remedy,
                tier=tier, owner=owner or DEFAULT_OWNER[category],
                order_id=canonical_order, phone=canonical_phone,
                sender_id=sender_id, channel=channel)


def insert_ticket(session: Session, *, created_at: datetime, status: str = "open",
                  **fields) -> Ticket:
    """Add a ticket and its ``created`` event to ``session`` (no commit).

    Shared by :func:`create_ticket` and the seed, which backdates its tickets.
    """
    if fields.get("order_id") and not fields.get("phone"):
        fields["phone"] = session.execute(
            select(Order.phone).where(Order.order_id == fields["order_id"])).scalar()
    ticket = Ticket(id=_next_ticket_id(session, created_at), status=status,
                    deadline=deadline_for(fields["tier"], created_at),
                    created_at=created_at, updated_at=created_at, **fields)
    ticket.events.append(TicketEvent(at=created_at, kind="created",
                                     detail=_created_detail(ticket)))
    session.add(ticket)
    return ticket


def _created_detail(ticket: Ticket) -> str:
    parts = [ticket.category, ticket.remedy or "-", ticket.owner,
             f"{ticket.tier} {TIER_PROMISE[ticket.tier]}"]
    return " · ".join(parts)


def _next_ticket_id(session: Session, created_at: datetime) -> str:
    prefix = f"T{created_at:%Y%m%d}"
    # Autoflush makes tickets added earlier in this session visible here.
    last = session.execute(
        select(func.max(Ticket.id)).where(Ticket.id.like(prefix + "%"))).scalar()
    sequence = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{sequence:05d}"


def get_ticket(ticket_id: str, *, engine: Optional[Engine] = None) -> Optional[TicketInfo]:
    """The ticket with its history, or None when unknown."""
    if not ticket_id or not isinstance(ticket_id, str):
        return None
    with session_scope(engine) as session:
        ticket = _load(session, ticket_id.strip().upper())
        return ticket_info(ticket) if ticket else None


def tickets_for(order_id: Optional[str] = None, phone: Optional[str] = None,
                sender_id: Optional[str] = None, *, limit: Optional[int] = None,
                engine: Optional[Engine] = None) -> list[TicketInfo]:
    """Tickets matching every given filter, newest first; all tickets when none given.

    A malformed order id or phone matches nothing (it cannot be on any ticket).
    """
    query = select(Ticket)
    if order_id is not None:
        order_id = normalize_order_id(order_id)
        if order_id is None:
            return []
        query = query.where(Ticket.order_id == order_id)
    if phone is not None:
        phone = normalize_phone(phone)
        if phone is None:
            return []
        query = query.where(Ticket.phone == phone)
    if sender_id is not None:
        query = query.where(Ticket.sender_id == sender_id)
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if limit is not None:
        query = query.limit(limit)
    query = query.options(selectinload(Ticket.events))
    with session_scope(engine) as session:
        return [ticket_info(ticket) for ticket in session.execute(query).scalars()]


def update_ticket(ticket_id: str, *, status: Optional[str] = None,
                  satisfaction: Optional[int] = None, root_cause: Optional[str] = None,
                  owner: Optional[str] = None, note: Optional[str] = None,
                  phone: Optional[str] = None, now: Optional[datetime] = None,
                  engine: Optional[Engine] = None) -> TicketInfo:
    """Change a ticket and record each change as a history event.

    Raises :class:`TicketNotFound` for an unknown id and ValueError for a status
    outside :data:`TICKET_STATUSES`, a satisfaction outside 1–5 or a malformed phone.
    """
    if status is not None:
        _check_choice("status", status, TICKET_STATUSES)
    if satisfaction is not None:
        satisfaction = _check_satisfaction(satisfaction)
    if phone is not None:
        phone = _check_phone(phone)
    at = now or local_now()
    with session_scope(engine) as session:
        ticket = _load(session, (ticket_id or "").strip().upper())
        if ticket is None:
            raise TicketNotFound(f"no ticket {ticket_id!r}")
        if status is not None and status != ticket.status:
            _record(ticket, at, "status", f"{ticket.status} → {status}")
            ticket.status = status
        if satisfaction is not None and satisfaction != ticket.satisfaction:
            _record(ticket, at, "satisfaction", str(satisfaction))
            ticket.satisfaction = satisfaction
        if root_cause and root_cause != ticket.root_cause:
            _record(ticket, at, "root_cause", root_cause)
            ticket.root_cause = root_cause
        if owner and owner != ticket.owner:
            _record(ticket, at, "owner", f"{ticket.owner} → {owner}")
            ticket.owner = owner
        if phone and phone != ticket.phone:
            _record(ticket, at, "phone", mask_phone(phone))  # the history is shown on the desk
            ticket.phone = phone
        if note:
            _record(ticket, at, "note", note)
        session.flush()
        return ticket_info(ticket)


def _record(ticket: Ticket, at: datetime, kind: str, detail: str) -> None:
    ticket.events.append(TicketEvent(at=at, kind=kind, detail=detail))
    ticket.updated_at = at


def _load(session: Session, ticket_id: str) -> Optional[Ticket]:
    query = select(Ticket).where(Ticket.id == ticket_id).options(selectinload(Ticket.events))
    return session.execute(query).scalar()


def _check_choice(name: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_phone(value: str) -> str:
    phone = normalize_phone(value)
    if phone is None:
        raise ValueError(f"not a mobile number: {mask_phone(value)}")
    return phone


def _check_satisfaction(value) -> int:
    # Ratings arrive as ints from code and as "5" from Rasa slots.
    text = str(value).strip()
    if isinstance(value, bool) or text not in ("1", "2", "3", "4", "5"):
        raise ValueError(f"satisfaction must be 1–5; got {value!r}")
    return int(text)


def ticket_info(ticket: Ticket) -> TicketInfo:
    """Copy an ORM ticket (events loaded) into a frozen dataclass."""
    return TicketInfo(
        id=ticket.id, category=ticket.category, problem=ticket.problem,
        remedy=ticket.remedy, owner=ticket.owner, tier=ticket.tier,
        deadline=ticket.deadline, status=ticket.status,
        created_at=ticket.created_at, updated_at=ticket.updated_at,
        sender_id=ticket.sender_id, channel=ticket.channel,
        order_id=ticket.order_id, phone=ticket.phone,
        root_cause=ticket.root_cause, satisfaction=ticket.satisfaction,
        history=tuple(TicketEventInfo(event.at, event.kind, event.detail)
                      for event in ticket.events),
    )
