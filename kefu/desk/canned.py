"""Canned replies: prepared texts supervisors keep, agents insert and adjust.

A text may hold variables filled in from the case when inserted (:data:`VARIABLES`).
Every text is checked by the guard (kefu.guard) when saved, with sample values in
place of its variables: a reply the guard flags is not kept.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import select

from kefu.handoff.agents import AgentInfo
from kefu.handoff.db import handoff_session
from kefu.handoff.models import CannedReply
from kefu.store.db import local_now

MAX_TITLE, MAX_TEXT = 64, 1000
VARIABLES = {  # name: (what it is, the sample used for the guard's check)
    "order": ("订单号", "KF20260101"),
    "ticket": ("工单号", "T2026010100"),
    "agent": ("客服名字", "小王"),
}
VARIABLE = re.compile(r"\{(\w+)\}")


class CannedError(ValueError):
    """A canned reply that cannot be saved; the message is for the supervisor."""


class CannedRejected(CannedError):
    """The guard flagged the text; ``findings`` say where and why."""

    def __init__(self, findings: List[dict]):
        super().__init__("这条快捷回复可能违反服务规范，没有保存")
        self.findings = findings


def list_replies() -> List[Dict[str, Any]]:
    with handoff_session() as session:
        rows = session.execute(select(CannedReply).order_by(CannedReply.title)).scalars()
        return [_dict(row) for row in rows]


def save(agent: AgentInfo, title: Any, text: Any, reply_id: Optional[int] = None,
         findings_of: Optional[Callable[[str], List[dict]]] = None) -> Dict[str, Any]:
    """Create (no ``reply_id``) or change a reply, after the guard's check."""
    title, text = _clean(title, MAX_TITLE, "标题"), _clean(text, MAX_TEXT, "内容")
    unknown = sorted(set(VARIABLE.findall(text)) - set(VARIABLES))
    if unknown:
        known = "、".join("{" + name + "}" for name in VARIABLES)
        raise CannedError(f"不认识的变量：{'、'.join(unknown)}（可用：{known}）")
    findings = (findings_of or _guard_findings)(fill(text, {}, samples=True))
    if findings:
        raise CannedRejected(findings)
    now = local_now()
    with handoff_session() as session:
        same = session.execute(select(CannedReply).where(CannedReply.title == title)).scalar()
        if same is not None and same.id != reply_id:
            raise CannedError(f"已经有一条标题为“{title}”的快捷回复")
        row = session.get(CannedReply, reply_id) if reply_id else CannedReply()
        if row is None:
            raise CannedError(f"没有编号为 {reply_id} 的快捷回复")
        row.title, row.text, row.updated_by, row.updated_at = title, text, agent.id, now
        session.add(row)
        session.flush()
        return _dict(row)


def delete(reply_id: int) -> None:
    with handoff_session() as session:
        row = session.get(CannedReply, reply_id)
        if row is None:
            raise CannedError(f"没有编号为 {reply_id} 的快捷回复")
        session.delete(row)


def fill(text: str, values: Dict[str, Optional[str]], samples: bool = False) -> str:
    """The text with its variables replaced by the case's values; a value the case
    lacks stays ``{name}`` for the agent to fill in (or its sample, for the check)."""
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name not in VARIABLES:
            return match.group(0)
        return values.get(name) or (VARIABLES[name][1] if samples else match.group(0))
    return VARIABLE.sub(one, text)


def case_values(case: Dict[str, Any], agent: AgentInfo) -> Dict[str, Optional[str]]:
    """The variables' values in a case (what an inserted reply says)."""
    record = case.get("record") or {}
    facts = record.get("facts") or {}
    promises = record.get("promises") or []
    ticket = case.get("callback_ticket_id") or (promises[-1].get("ticket_id") if promises else None)
    return {"order": facts.get("order_id") or (record.get("customer") or {}).get("order_id"),
            "ticket": ticket, "agent": agent.name}


def _guard_findings(text: str) -> List[dict]:
    from kefu.desk.app import guard_findings

    return guard_findings(text, {})


def _dict(row: CannedReply) -> Dict[str, Any]:
    return {"id": row.id, "title": row.title, "text": row.text,
            "updated_at": row.updated_at.isoformat()}


def _clean(value: Any, limit: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CannedError(f"{what}不能为空")
    value = value.strip()
    if len(value) > limit:
        raise CannedError(f"{what}最多 {limit} 个字")
    return value
