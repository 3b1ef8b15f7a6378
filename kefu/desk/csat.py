"""Customer satisfaction (CSAT) after a hand-off: per case it is the 1–5 score the
customer gave; per agent, the share of 4 and 5 among their rated cases, the average,
and how many were rated — the way Zendesk and Chatwoot report it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kefu.handoff.db import handoff_session
from kefu.handoff.models import Escalation
from kefu.store.db import local_now

SATISFIED = 4  # a score at or above this counts as satisfied


def summary(scores: List[int]) -> Dict[str, Any]:
    rated = len(scores)
    return {"rated": rated,
            "csat": round(100 * sum(1 for s in scores if s >= SATISFIED) / rated) if rated else None,
            "average": round(sum(scores) / rated, 2) if rated else None}


def by_agent(days: int = 30, now=None) -> Dict[str, Any]:
    """``{"all": summary, "agents": [{"agent", "resolved", **summary}]}`` over ``days``."""
    since = (now or local_now()) - timedelta(days=days)
    with handoff_session() as session:
        rows = session.execute(select(Escalation).where(
            Escalation.status == "resolved", Escalation.resolved_at >= since)
            .options(selectinload(Escalation.agent))).scalars().all()
        cases = [(row.agent.name if row.agent else None, row.satisfaction) for row in rows]
    agents: Dict[Optional[str], List[Optional[int]]] = {}
    for agent, score in cases:
        agents.setdefault(agent, []).append(score)
    table = [{"agent": agent or "（未分配）", "resolved": len(scores),
              **summary([s for s in scores if s is not None])}
             for agent, scores in sorted(agents.items(), key=lambda item: item[0] or "")]
    return {"days": days, "all": summary([s for _, s in cases if s is not None]), "agents": table}
