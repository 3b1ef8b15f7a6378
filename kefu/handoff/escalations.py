"""Escalations in the database: created by action_handoff, worked on at the desk.

Every change is a row (assignment, note, agent message), so nothing an agent did is
lost when a process restarts.  Functions return plain dicts, JSON-ready, times in
naive local ISO 8601.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Dict, List, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from kefu.handoff import priority as priorities
from kefu.handoff.agents import AgentInfo, online_agent_count
from kefu.handoff.db import handoff_session
from kefu.handoff.models import AgentMessage, Assignment, CaseNote, DeskAgent, Escalation
from kefu.store.db import local_now

OPEN_STATUSES = ("waiting", "assigned")
MINUTES_PER_CASE_AHEAD = 5  # rough handling time, for the wait the customer is told
MAX_NOTE = 2000
MAX_MESSAGE = 1000


class CaseNotFound(LookupError):
    """No escalation has this id."""


class CaseConflict(ValueError):
    """The change does not fit the case's state (resolved, someone else's …)."""


# --- created by the bot ---------------------------------------------------------------

def create_escalation(record: Dict[str, Any], *, callback_ticket_id: Optional[str] = None,
                      now: Optional[datetime] = None) -> Dict[str, Any]:
    now = now or local_now()
    customer = record["customer"].get("phone") or record["conversation_id"]
    row = Escalation(sender_id=record["conversation_id"], channel=record.get("channel"),
                     customer=customer, category=record.get("category"),
                     reason=record["reason"], priority=record["priority"],
                     summary=record["summary"], record_json=json.dumps(record, ensure_ascii=False),
                     status="waiting", callback_ticket_id=callback_ticket_id,
                     created_at=now, target_at=priorities.target_time(record["priority"], now),
                     updated_at=now)
    with handoff_session() as session:
        session.add(row)
        session.flush()
        return _brief(row, now)


def open_escalation_for(sender_id: str) -> Optional[Dict[str, Any]]:
    """The conversation's escalation not yet resolved, if any."""
    with handoff_session() as session:
        row = session.execute(
            select(Escalation).where(Escalation.sender_id == sender_id,
                                     Escalation.status.in_(OPEN_STATUSES))
            .order_by(Escalation.id.desc())).scalar()
        return _brief(row, local_now()) if row else None


def wait_estimate(escalation_id: int, now: Optional[datetime] = None) -> Dict[str, int]:
    """What the customer is told: how many waiting cases go before this one (more
    urgent, or as urgent and older), the minutes to expect, and agents online."""
    now = now or local_now()
    online = online_agent_count(now)
    with handoff_session() as session:
        case = _load(session, escalation_id)
        waiting = session.execute(select(Escalation.id, Escalation.priority).where(
            Escalation.status == "waiting", Escalation.id != case.id)).all()
    mine = priorities.rank(case.priority)
    ahead = sum(1 for other_id, other in waiting
                if priorities.rank(other) < mine or (priorities.rank(other) == mine and other_id < case.id))
    minutes = priorities.WAIT_TARGET_MINUTES.get(case.priority, 10)
    if online:
        minutes += math.ceil(ahead / online) * MINUTES_PER_CASE_AHEAD
    return {"online": online, "ahead": ahead, "minutes": minutes}


def attach_callback(escalation_id: int, ticket_id: str) -> None:
    with handoff_session() as session:
        _load(session, escalation_id).callback_ticket_id = ticket_id


# --- the queue and a case ------------------------------------------------------------------

def queue(now: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """Open cases, most urgent first, then the longest waiting."""
    now = now or local_now()
    with handoff_session() as session:
        rows = session.execute(select(Escalation).where(Escalation.status.in_(OPEN_STATUSES))
                               .options(selectinload(Escalation.agent))).scalars().all()
        cases = [_brief(row, now) for row in rows]
    return sorted(cases, key=lambda case: (priorities.rank(case["priority"]),
                                           -case["waiting_seconds"]))


def get_case(escalation_id: int, now: Optional[datetime] = None) -> Dict[str, Any]:
    now = now or local_now()
    with handoff_session() as session:
        row = _load(session, escalation_id, full=True)
        case = _brief(row, now)
        case["record"] = json.loads(row.record_json)
        case["notes"] = [{"id": n.id, "agent": n.agent.name, "text": n.text,
                          "at": n.at.isoformat()} for n in row.notes]
        case["messages"] = [_message(m) for m in row.messages]
        case["assignments"] = [{"kind": a.kind, "agent": a.agent.name, "by": a.by_agent.name,
                                "at": a.at.isoformat()} for a in row.assignments]
        return case


def _brief(row: Escalation, now: datetime) -> Dict[str, Any]:
    end = row.first_reply_at or row.resolved_at or now
    waited = max(0, int((end - row.created_at).total_seconds()))
    target = int((row.target_at - row.created_at).total_seconds())
    return {
        "id": row.id, "sender_id": row.sender_id, "channel": row.channel,
        "customer": row.customer, "category": row.category, "reason": row.reason,
        "priority": row.priority, "summary": row.summary, "status": row.status,
        "agent": row.agent.name if row.agent else None, "agent_id": row.agent_id,
        "callback_ticket_id": row.callback_ticket_id, "satisfaction": row.satisfaction,
        "created_at": row.created_at.isoformat(), "target_at": row.target_at.isoformat(),
        "first_reply_at": row.first_reply_at.isoformat() if row.first_reply_at else None,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "waiting_seconds": waited, "target_seconds": target,
        "breached": row.first_reply_at is None and waited > target,
    }


def _message(message: AgentMessage) -> Dict[str, Any]:
    return {"id": message.id, "agent": message.agent.name, "text": message.text,
            "status": message.status, "warnings": json.loads(message.warnings_json or "[]"),
            "at": message.created_at.isoformat(), "error": message.error,
            "delivered_at": message.delivered_at.isoformat() if message.delivered_at else None}


def _load(session, escalation_id: int, full: bool = False) -> Escalation:
    query = select(Escalation).where(Escalation.id == escalation_id)
    if full:
        query = query.options(selectinload(Escalation.notes).selectinload(CaseNote.agent),
                              selectinload(Escalation.messages).selectinload(AgentMessage.agent),
                              selectinload(Escalation.assignments))
    row = session.execute(query).scalar()
    if row is None:
        raise CaseNotFound(f"no case {escalation_id}")
    return row


# --- what agents do ----------------------------------------------------------------------------

def claim(escalation_id: int, agent: AgentInfo) -> Dict[str, Any]:
    now = local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        if row.agent_id not in (None, agent.id):
            raise CaseConflict(f"case {escalation_id} is taken by {row.agent.name}")
        if row.agent_id != agent.id:
            _assign(session, row, "claim", agent.id, agent.id, now)
        return _brief(row, now)


def transfer(escalation_id: int, agent: AgentInfo, to_name: str) -> Dict[str, Any]:
    now = local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        _require_owner(row, agent)
        target = session.execute(select(DeskAgent).where(DeskAgent.name == to_name,
                                                         DeskAgent.role == "agent")).scalar()
        if target is None:
            raise CaseConflict(f"no agent named {to_name!r}")
        if target.id == agent.id:
            raise CaseConflict("the case is yours already")
        _assign(session, row, "transfer", target.id, agent.id, now)
        return _brief(row, now)


def add_note(escalation_id: int, agent: AgentInfo, text: str) -> Dict[str, Any]:
    text = _clean(text, MAX_NOTE, "note")
    now = local_now()
    with handoff_session() as session:
        row = _load(session, escalation_id)
        note = CaseNote(escalation_id=row.id, agent_id=agent.id, text=text, at=now)
        session.add(note)
        row.updated_at = now
        session.flush()
        return {"id": note.id, "agent": agent.name, "text": text, "at": now.isoformat()}


def add_agent_message(escalation_id: int, agent: AgentInfo, text: str,
                      warnings: List[dict]) -> Dict[str, Any]:
    """Store a reply to send; a waiting case becomes the agent's."""
    text = _clean(text, MAX_MESSAGE, "message")
    now = local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        if row.agent_id is None:
            _assign(session, row, "claim", agent.id, agent.id, now)
        _require_owner(row, agent)
        message = AgentMessage(escalation_id=row.id, sender_id=row.sender_id, agent_id=agent.id,
                               text=text, warnings_json=json.dumps(warnings, ensure_ascii=False),
                               status="pending", created_at=now)
        session.add(message)
        row.updated_at = now
        session.flush()
        message.agent = session.get(DeskAgent, agent.id)
        return _message(message)


def resolve(escalation_id: int, agent: AgentInfo) -> Dict[str, Any]:
    now = local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        if row.agent_id is None:
            _assign(session, row, "claim", agent.id, agent.id, now)
        _require_owner(row, agent)
        row.status, row.resolved_at, row.updated_at = "resolved", now, now
        return _brief(row, now)


def _open(session, escalation_id: int) -> Escalation:
    row = _load(session, escalation_id)
    if row.status == "resolved":
        raise CaseConflict(f"case {escalation_id} is resolved")
    return row


def _require_owner(row: Escalation, agent: AgentInfo) -> None:
    if row.agent_id != agent.id:
        owner = row.agent.name if row.agent else "nobody"
        raise CaseConflict(f"case {row.id} is assigned to {owner}; claim it first")


def _assign(session, row: Escalation, kind: str, agent_id: int, by_id: int, now: datetime) -> None:
    session.add(Assignment(escalation_id=row.id, kind=kind, agent_id=agent_id,
                           by_agent_id=by_id, at=now))
    row.agent_id, row.status, row.updated_at = agent_id, "assigned", now
    row.agent = session.get(DeskAgent, agent_id)


def _clean(text: Any, limit: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"the {what} is empty")
    text = text.strip()
    if len(text) > limit:
        raise ValueError(f"the {what} is longer than {limit} characters")
    return text


# --- delivery: the relay action and the desk's retry ----------------------------------

def take_pending_messages(sender_id: str) -> List[Dict[str, Any]]:
    """Pending replies of a conversation, each marked delivered exactly once.

    The conditional UPDATE makes two relays running at once utter a message once.
    """
    now = local_now()
    taken = []
    with handoff_session() as session:
        pending = session.execute(
            select(AgentMessage).where(AgentMessage.sender_id == sender_id,
                                       AgentMessage.status == "pending")
            .options(selectinload(AgentMessage.agent)).order_by(AgentMessage.id)).scalars().all()
        for message in pending:
            won = session.execute(
                update(AgentMessage).where(AgentMessage.id == message.id,
                                           AgentMessage.status == "pending")
                .values(status="delivered", delivered_at=now,
                        attempts=AgentMessage.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            if won:
                taken.append({"id": message.id, "text": message.text, "agent": message.agent.name,
                              "escalation_id": message.escalation_id})
        for escalation_id in {m["escalation_id"] for m in taken}:
            session.execute(update(Escalation).where(Escalation.id == escalation_id,
                                                     Escalation.first_reply_at.is_(None))
                            .values(first_reply_at=now).execution_options(synchronize_session=False))
    return taken


def conversations_with_pending_messages() -> List[str]:
    with handoff_session() as session:
        return list(session.execute(select(AgentMessage.sender_id).where(
            AgentMessage.status == "pending").distinct()).scalars())


def note_delivery_failure(sender_id: str, error: str) -> None:
    with handoff_session() as session:
        session.execute(update(AgentMessage).where(AgentMessage.sender_id == sender_id,
                                                   AgentMessage.status == "pending")
                        .values(error=error[:500], attempts=AgentMessage.attempts + 1)
                        .execution_options(synchronize_session=False))


def record_satisfaction(sender_id: str, rating: int) -> Optional[int]:
    """The rating the customer gave after the latest resolved hand-off; its case id."""
    with handoff_session() as session:
        row = session.execute(select(Escalation).where(
            Escalation.sender_id == sender_id, Escalation.status == "resolved")
            .order_by(Escalation.resolved_at.desc(), Escalation.id.desc())).scalar()
        if row is None:
            return None
        row.satisfaction = rating
        row.updated_at = local_now()
        return row.id


def count_open() -> int:
    with handoff_session() as session:
        return session.execute(select(func.count(Escalation.id)).where(
            Escalation.status.in_(OPEN_STATUSES))).scalar()


def was_handed_over(sender_id: str) -> bool:
    with handoff_session() as session:
        return session.execute(select(Escalation.id).where(
            Escalation.sender_id == sender_id).limit(1)).first() is not None


def raise_priority(escalation_id: int, priority: str, now: Optional[datetime] = None) -> bool:
    """Make a waiting or assigned case more urgent (never less); True when it changed.

    The wait target moves with it, counted from when the case was opened.
    """
    now = now or local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        if priorities.rank(priority) >= priorities.rank(row.priority):
            return False
        row.priority, row.updated_at = priority, now
        row.target_at = priorities.target_time(priority, row.created_at)
        return True
