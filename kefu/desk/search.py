"""Finding cases: by customer (phone, name), order, ticket or any text the case holds,
filtered by status, priority, channel and agent; resolved ones included (the history)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from kefu.handoff import escalations
from kefu.handoff import priority as priorities
from kefu.handoff.db import handoff_session
from kefu.handoff.models import ESCALATION_STATUSES, PRIORITIES, DeskAgent, Escalation
from kefu.store.db import local_now
from kefu.store.orders import normalize_phone

MAX_RESULTS = 200
FILTERS = ("status", "priority", "channel", "agent")


class BadFilter(ValueError):
    """A filter value the desk does not know; the message is for the agent."""


def search(params: Mapping[str, str]) -> List[Dict[str, Any]]:
    """Cases matching ``q`` and the filters; open ones by urgency, resolved ones newest first.

    ``status``: waiting, assigned, resolved or ``open`` (default: open);
    ``agent``: an agent's name or ``none`` (nobody has it yet).
    """
    query = select(Escalation).options(selectinload(Escalation.agent))
    status = (params.get("status") or "open").strip()
    if status == "open":
        query = query.where(Escalation.status.in_(escalations.OPEN_STATUSES))
    elif status in ESCALATION_STATUSES:
        query = query.where(Escalation.status == status)
    elif status != "all":
        raise BadFilter(f"不认识的状态：{status}")
    priority = (params.get("priority") or "").strip()
    if priority:
        if priority not in PRIORITIES:
            raise BadFilter(f"不认识的优先级：{priority}")
        query = query.where(Escalation.priority == priority)
    channel = (params.get("channel") or "").strip()
    if channel:
        query = query.where(Escalation.channel == channel)
    agent = (params.get("agent") or "").strip()
    if agent == "none":
        query = query.where(Escalation.agent_id.is_(None))
    elif agent:
        query = query.where(Escalation.agent.has(DeskAgent.name == agent))
    text = (params.get("q") or "").strip()
    if text:
        query = query.where(_matches(text))
    query = query.order_by(Escalation.id.desc()).limit(MAX_RESULTS)
    now = local_now()
    with handoff_session() as session:
        cases = [escalations._brief(row, now) for row in session.execute(query).scalars()]
    if status == "resolved":
        return sorted(cases, key=lambda case: case["resolved_at"] or "", reverse=True)
    return sorted(cases, key=lambda case: (case["status"] == "resolved",
                                           priorities.rank(case["priority"]), -case["waiting_seconds"]))


def _matches(text: str):
    """The customer's phone or name, an order or ticket id, or words anywhere in the
    case (summary, record, transcript at hand-off)."""
    like = f"%{_escape(text)}%"
    conditions = [Escalation.summary.like(like, escape="\\"),
                  Escalation.record_json.like(like, escape="\\"),
                  Escalation.customer_name.like(like, escape="\\"),
                  Escalation.callback_ticket_id == text.upper(),
                  Escalation.customer.like(like, escape="\\")]
    phone: Optional[str] = normalize_phone(text)
    if phone:
        conditions.append(Escalation.customer == phone)
    if text.isdigit():
        conditions.append(Escalation.id == int(text))
    return or_(*conditions)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
