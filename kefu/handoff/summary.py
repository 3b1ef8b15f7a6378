"""The one Chinese sentence an agent reads first: who, what, how upset, what was done."""

from __future__ import annotations

from typing import Any, Mapping

from kefu.complaint.policy import REMEDY_NAMES

CATEGORY_NAMES = {"delivery": "配送", "quality": "商品质量", "wrong_item": "错发漏发",
                  "service": "服务态度", "billing": "费用", "other": "其他"}
EMOTION_NAMES = {"angry": "愤怒", "anxious": "焦虑", "disappointed": "失望",
                 "neutral": "平静", "satisfied": "满意"}
PROBLEM_LIMIT = 30


def summarize(record: Mapping[str, Any]) -> str:
    """One sentence from an escalation record (:func:`kefu.handoff.record.build_record`)."""
    facts = record.get("facts") or {}
    parts = [_what(record, facts), _feeling(record), _wish(facts), _done(record),
             f"因{record.get('reason_text') or '机器人转人工处理'}转人工"]
    return "，".join(part for part in parts if part) + "。"


def _what(record, facts) -> str:
    category = CATEGORY_NAMES.get(record.get("category") or "", "")
    problem = _short(facts.get("problem") or "；".join(facts.get("account") or []))
    text = f"顾客反映{category}问题" if category else "顾客咨询"
    if problem:
        text += f"「{problem}」"
    if facts.get("order_id"):
        text += f"（订单{facts['order_id']}）"
    return text


NEGATIVE = ("angry", "anxious", "disappointed")


def _feeling(record) -> str:
    """The latest feeling; when it reads calm after a negative one, the agent still
    needs to know how upset the customer was."""
    trajectory = [e for e in record.get("emotion") or [] if e.get("label") in EMOTION_NAMES]
    if not trajectory:
        return ""
    last = trajectory[-1]
    if last["label"] in NEGATIVE:
        trend = {"rising": "且在升级", "falling": "但在缓和"}.get(record.get("emotion_trend") or "", "")
        return f"情绪{EMOTION_NAMES[last['label']]}{trend}"
    negative = [e for e in trajectory if e["label"] in NEGATIVE]
    if negative:
        peak = max(negative, key=lambda e: float(e.get("intensity") or 0))
        return f"之前情绪{EMOTION_NAMES[peak['label']]}，现已缓和"
    return f"情绪{EMOTION_NAMES[last['label']]}"


def _wish(facts) -> str:
    wish = REMEDY_NAMES.get(facts.get("wished_remedy") or "")
    return f"希望{wish}" if wish else ""


def _done(record) -> str:
    promises = record.get("promises") or []
    if promises:
        last = promises[-1]
        remedy = REMEDY_NAMES.get(last.get("remedy") or "", "")
        return f"机器人已登记工单{last['ticket_id']}{('（' + remedy + '）') if remedy else ''}"
    offered = record.get("offered") or []
    if offered:
        names = "、".join(REMEDY_NAMES.get(r, r) for r in offered[-1])
        return f"机器人已提供{names}方案"
    return ""


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= PROBLEM_LIMIT else text[:PROBLEM_LIMIT] + "…"
