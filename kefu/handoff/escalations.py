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

from kefu.desk import events
from kefu.handoff import priority as priorities
from kefu.handoff.agents import AgentInfo, online_agent_count
from kefu.handoff.db import handoff_session
from kefu.handoff.models import (
    ACTING_ROLES,
    AgentMessage,
    Assignment,
    CaseAction,
    CaseLabel,
    CaseNote,
    DeskAgent,
    Escalation,
)
from kefu.store.db import local_now
from kefu.store.models import Customer

OPEN_STATUSES = ("waiting", "assigned")
MINUTES_PER_CASE_AHEAD = 5  # rough handling time, for the wait the customer is told
MAX_NOTE = 2000
MAX_MESSAGE = 1000
MAX_REASON = 500


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
        row.customer_name = _customer_name(session, record["customer"].get("phone"))
        session.add(row)
        session.flush()
        log_action(session, row.id, None, "created", record.get("reason_text") or row.reason, now)
        events.record(session, "case_new", row.id, priority=row.priority, summary=row.summary)
        return _brief(row, now)


def _customer_name(session, phone: Optional[str]) -> Optional[str]:
    if not phone:
        return None
    return session.execute(select(Customer.name).where(Customer.phone == phone)).scalar()


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
    now = local_now()
    with handoff_session() as session:
        _load(session, escalation_id).callback_ticket_id = ticket_id
        log_action(session, escalation_id, None, "callback", ticket_id, now)
        events.record(session, "case_changed", escalation_id)


def customer_status(sender_id: str, now: Optional[datetime] = None) -> Dict[str, Any]:
    """What the customer's chat header says about their hand-off, truthfully:
    ``{"state": "bot"}``, ``{"state": "waiting", "ahead", "minutes", "online"}``,
    ``{"state": "callback", "ticket_id"}`` or ``{"state": "served", "agent"}``."""
    case = open_escalation_for(sender_id)
    if case is None:
        return {"state": "bot"}
    if case["agent"]:
        return {"state": "served", "agent": case["agent"]}
    estimate = wait_estimate(case["id"], now)
    if case["callback_ticket_id"] and not estimate["online"]:
        return {"state": "callback", "ticket_id": case["callback_ticket_id"]}
    return {"state": "waiting", **estimate}


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
                                "reason": a.reason, "at": a.at.isoformat()} for a in row.assignments]
        case["actions"] = [{"action": a.action, "agent": a.agent.name if a.agent else None,
                            "detail": a.detail, "at": a.at.isoformat()} for a in row.actions]
        case["labels"] = [label.label for label in row.labels]
        return case


def _brief(row: Escalation, now: datetime) -> Dict[str, Any]:
    end = row.first_reply_at or row.resolved_at or now
    waited = max(0, int((end - row.created_at).total_seconds()))
    target = int((row.target_at - row.created_at).total_seconds())
    return {
        "id": row.id, "sender_id": row.sender_id, "channel": row.channel,
        "customer": row.customer, "customer_name": row.customer_name,
        "category": row.category, "reason": row.reason,
        "priority": row.priority, "summary": row.summary, "status": row.status,
        "agent": row.agent.name if row.agent else None, "agent_id": row.agent_id,
        "callback_ticket_id": row.callback_ticket_id, "satisfaction": row.satisfaction,
        "resolution_code": row.resolution_code, "root_cause": row.root_cause,
        "created_at": row.created_at.isoformat(), "target_at": row.target_at.isoformat(),
        "first_reply_at": row.first_reply_at.isoformat() if row.first_reply_at else None,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "waiting_seconds": waited, "target_seconds": target,
        "breached": row.first_reply_at is None and waited > target,
    }


def _message(message: AgentMessage) -> Dict[str, Any]:
    return {"id": message.id, "agent": message.agent.name, "text": message.text,
            "status": message.status, "warnings": json.loads(message.warnings_json or "[]"),
            "automatic": bool(message.automatic),
            "at": message.created_at.isoformat(), "error": message.error,
            "delivered_at": message.delivered_at.isoformat() if message.delivered_at else None}


def _load(session, escalation_id: int, full: bool = False) -> Escalation:
    query = select(Escalation).where(Escalation.id == escalation_id)
    if full:
        query = query.options(selectinload(Escalation.notes).selectinload(CaseNote.agent),
                              selectinload(Escalation.messages).selectinload(AgentMessage.agent),
                              selectinload(Escalation.assignments),
                              selectinload(Escalation.actions).selectinload(CaseAction.agent),
                              selectinload(Escalation.labels))
    row = session.execute(query).scalar()
    if row is None:
        raise CaseNotFound(f"没有编号为 {escalation_id} 的案例")
    return row


# --- what agents do ----------------------------------------------------------------------------

def claim(escalation_id: int, agent: AgentInfo) -> Dict[str, Any]:
    now = local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        if row.agent_id not in (None, agent.id):
            raise CaseConflict(f"案例 {escalation_id} 已由 {row.agent.name} 接手")
        if row.agent_id != agent.id:
            _assign(session, row, "claim", agent.id, agent.id, now)
        return _brief(row, now)


def transfer(escalation_id: int, agent: AgentInfo, to_name: str,
             reason: Optional[str] = None) -> Dict[str, Any]:
    """Pass the case to another agent or a supervisor.  The owner may; a supervisor
    may reassign anyone's case (kind ``reassign``)."""
    now = local_now()
    reason = _clean(reason, MAX_REASON, "转交原因") if reason is not None else None
    with handoff_session() as session:
        row = _open(session, escalation_id)
        kind = "transfer"
        if row.agent_id != agent.id:
            if agent.role != "supervisor":
                _require_owner(row, agent)
            kind = "reassign"
        target = session.execute(select(DeskAgent).where(DeskAgent.name == to_name,
                                                         DeskAgent.role.in_(ACTING_ROLES))).scalar()
        if target is None:
            raise CaseConflict(f"没有名为“{to_name}”的客服或主管")
        if target.id == row.agent_id:
            raise CaseConflict(f"案例已经在 {target.name} 手上")
        _assign(session, row, kind, target.id, agent.id, now, reason)
        return _brief(row, now)


def add_note(escalation_id: int, agent: AgentInfo, text: str) -> Dict[str, Any]:
    text = _clean(text, MAX_NOTE, "备注")
    now = local_now()
    with handoff_session() as session:
        row = _load(session, escalation_id)
        note = CaseNote(escalation_id=row.id, agent_id=agent.id, text=text, at=now)
        session.add(note)
        row.updated_at = now
        session.flush()
        log_action(session, row.id, agent.id, "note", text[:100], now)
        events.record(session, "case_changed", row.id)
        return {"id": note.id, "agent": agent.name, "text": text, "at": now.isoformat()}


def add_agent_message(escalation_id: int, agent: AgentInfo, text: str,
                      warnings: List[dict], automatic: bool = False) -> Dict[str, Any]:
    """Store a reply to send; a waiting case becomes the agent's.  ``automatic``: the
    desk wrote it for the agent (the greeting when they take the case)."""
    text = _clean(text, MAX_MESSAGE, "回复")
    now = local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        if row.agent_id is None:
            _assign(session, row, "claim", agent.id, agent.id, now)
        _require_owner(row, agent)
        message = AgentMessage(escalation_id=row.id, sender_id=row.sender_id, agent_id=agent.id,
                               text=text, warnings_json=json.dumps(warnings, ensure_ascii=False),
                               status="pending", automatic=automatic, created_at=now)
        session.add(message)
        row.updated_at = now
        session.flush()
        detail = text[:100]
        if warnings:
            detail += "（有提醒仍发送：" + "、".join(w.get("name") or w.get("id") for w in warnings) + "）"
        log_action(session, row.id, agent.id, "greeting" if automatic else "reply", detail, now)
        events.record(session, "case_changed", row.id)
        message.agent = session.get(DeskAgent, agent.id)
        return _message(message)


def resolve(escalation_id: int, agent: AgentInfo, code: Optional[str] = None,
            comment: Optional[str] = None) -> Dict[str, Any]:
    """Close the case with a resolution code (kefu.desk.codes.RESOLUTION_CODES)."""
    now = local_now()
    with handoff_session() as session:
        row = _open(session, escalation_id)
        if row.agent_id is None:
            _assign(session, row, "claim", agent.id, agent.id, now)
        _require_owner(row, agent)
        row.status, row.resolved_at, row.updated_at = "resolved", now, now
        row.resolution_code = code
        detail = (code or "") + ("：" + comment.strip()[:MAX_REASON] if comment and comment.strip() else "")
        log_action(session, row.id, agent.id, "resolve", detail or None, now)
        events.record(session, "case_resolved", row.id)
        return _brief(row, now)


def set_labels(escalation_id: int, agent: AgentInfo, labels: List[str],
               root_cause: Optional[str] = None) -> Dict[str, Any]:
    """Replace the case's root-cause labels; ``root_cause`` is the main one."""
    now = local_now()
    with handoff_session() as session:
        row = _load(session, escalation_id, full=True)
        old = {label.label for label in row.labels}
        new = list(dict.fromkeys(labels))
        for label in list(row.labels):
            if label.label not in new:
                session.delete(label)
        for label in new:
            if label not in old:
                session.add(CaseLabel(escalation_id=row.id, label=label, agent_id=agent.id, at=now))
        row.root_cause = root_cause or (new[0] if new else None)
        row.updated_at = now
        log_action(session, row.id, agent.id, "labels", "、".join(new) or "清除标签", now)
        events.record(session, "case_changed", row.id)
        return _brief(row, now)


def _open(session, escalation_id: int) -> Escalation:
    row = _load(session, escalation_id)
    if row.status == "resolved":
        raise CaseConflict(f"案例 {escalation_id} 已处理完毕")
    return row


def _require_owner(row: Escalation, agent: AgentInfo) -> None:
    if row.agent_id != agent.id:
        if row.agent:
            raise CaseConflict(f"案例 {row.id} 由 {row.agent.name} 负责，只有负责人或主管能操作")
        raise CaseConflict(f"案例 {row.id} 还没有人接手，请先接手")


def _assign(session, row: Escalation, kind: str, agent_id: int, by_id: int, now: datetime,
            reason: Optional[str] = None) -> None:
    session.add(Assignment(escalation_id=row.id, kind=kind, agent_id=agent_id,
                           by_agent_id=by_id, reason=reason, at=now))
    row.agent_id, row.status, row.updated_at = agent_id, "assigned", now
    row.agent = session.get(DeskAgent, agent_id)
    target = row.agent.name
    detail = target if kind == "claim" else f"转给 {target}" + (f"，原因：{reason}" if reason else "")
    log_action(session, row.id, by_id, kind, detail, now)
    events.record(session, "case_changed", row.id, agent=target)


def log_action(session, escalation_id: int, agent_id: Optional[int], action: str,
               detail: Optional[str], now: datetime) -> None:
    """One line of 处理记录 (kefu.desk.history names the actions)."""
    session.add(CaseAction(escalation_id=escalation_id, agent_id=agent_id, action=action,
                           detail=detail, at=now))


def _clean(text: Any, limit: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{what}不能为空")
    text = text.strip()
    if len(text) > limit:
        raise ValueError(f"{what}最多 {limit} 个字")
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
                              "escalation_id": message.escalation_id,
                              "automatic": bool(message.automatic)})
        for escalation_id in {m["escalation_id"] for m in taken if not m["automatic"]}:
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
        log_action(session, row.id, None, "rating", str(rating), row.updated_at)
        events.record(session, "case_rated", row.id, rating=rating)
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
        before = row.priority
        row.priority, row.updated_at = priority, now
        row.target_at = priorities.target_time(priority, row.created_at)
        log_action(session, row.id, None, "escalated",
                   f"{priorities.PRIORITY_NAMES[before]} → {priorities.PRIORITY_NAMES[priority]}", now)
        events.record(session, "case_escalated", row.id, priority=priority, summary=row.summary)
        return True
