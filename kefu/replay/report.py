"""The daily summary for trainers: complaints by category, hand-offs and why,
satisfaction, guard findings by behaviour, six-step completion, and a service-quality
index weighted like FedEx's SQI.

FedEx counts its daily failures, each times a weight (a lost package 10, a complaint
reopened 5, a late delivery 1…); the sum is the index, lower is better.  Ours weighs
what hurts a complaint most most: the same complaint coming back weighs heaviest.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Dict, List, Optional, Tuple

from kefu.replay.conversations import Summary

SQI_WEIGHTS = {
    "complaint_reopened": 10,  # the same order complained about again
    "forbidden_behaviour": 5,  # a guard finding: one of the ten forbidden behaviours
    "missed_handoff": 5,  # the customer needed a person and never got one
    "late_handoff": 3,
    "step_skipped": 3,
    "unsatisfied": 3,  # a rating of 3 or less
    "stalled_step": 1,
    "low_confidence": 1,  # a message the bot did not understand well
}
SQI_NAMES = {
    "complaint_reopened": "投诉重开", "forbidden_behaviour": "服务禁忌", "missed_handoff": "该转人工未转",
    "late_handoff": "转人工过晚", "step_skipped": "跳过步骤", "unsatisfied": "顾客不满意",
    "stalled_step": "步骤停滞", "low_confidence": "低置信度",
}


@dataclass
class DailyReport:
    day: str
    conversations: int = 0
    complaints: int = 0
    by_category: Dict[str, int] = field(default_factory=dict)
    handed_off: int = 0
    handoff_rate: Optional[float] = None
    handoff_reasons: Dict[str, int] = field(default_factory=dict)
    ratings: int = 0
    average_satisfaction: Optional[float] = None
    findings_by_behaviour: Dict[str, int] = field(default_factory=dict)
    six_step_complete: int = 0
    six_step_rate: Optional[float] = None
    sqi_counts: Dict[str, int] = field(default_factory=dict)
    sqi: int = 0
    sqi_per_conversation: Optional[float] = None

    def to_dict(self) -> dict:
        return asdict(self)


def day_range(day: date) -> Tuple[float, float]:
    start = datetime.combine(day, time.min)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def daily_report(summaries: List[Summary], day: date) -> DailyReport:
    start, end = day_range(day)
    todays = [s for s in summaries if start <= s.started < end and not s.is_rerun]
    complaints = [s for s in todays if s.category]
    report = DailyReport(day.isoformat(), len(todays), len(complaints))
    report.by_category = dict(Counter(s.category for s in complaints).most_common())
    report.handed_off = sum(1 for s in todays if s.handed_off)
    report.handoff_rate = _rate(report.handed_off, len(todays))
    report.handoff_reasons = dict(Counter(r for s in todays for r in s.handoff_reasons).most_common())
    ratings = [s.rating for s in todays if s.rating is not None]
    report.ratings = len(ratings)
    report.average_satisfaction = round(sum(ratings) / len(ratings), 2) if ratings else None
    report.findings_by_behaviour = dict(Counter(f for s in todays for f in s.findings).most_common())
    report.six_step_complete = sum(1 for s in complaints if s.complete)
    report.six_step_rate = _rate(report.six_step_complete, len(complaints))
    report.sqi_counts = sqi_counts(todays, reopened_orders(summaries, start))
    report.sqi = sum(SQI_WEIGHTS[k] * n for k, n in report.sqi_counts.items())
    report.sqi_per_conversation = round(report.sqi / len(todays), 2) if todays else None
    return report


def _rate(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 3) if whole else None


def reopened_orders(summaries: List[Summary], before: float) -> Dict[str, float]:
    """Order id -> when its first complaint started, for complaints before ``before``…
    and the day's own: a second complaint on the same order is a reopened one."""
    first: Dict[str, float] = {}
    for s in sorted(summaries, key=lambda s: s.started):
        if s.order_id and s.category and not s.is_rerun:
            first.setdefault(s.order_id, s.started)
    return first


def sqi_counts(todays: List[Summary], first_complaint: Dict[str, float]) -> Dict[str, int]:
    counts = Counter({key: 0 for key in SQI_WEIGHTS})
    for s in todays:
        if s.order_id and s.category and first_complaint.get(s.order_id, s.started) < s.started:
            counts["complaint_reopened"] += 1
        counts["forbidden_behaviour"] += len(s.findings)
        counts["missed_handoff"] += s.marks.get("no_handoff", 0)
        counts["late_handoff"] += s.marks.get("late_handoff", 0)
        counts["step_skipped"] += s.marks.get("skipped", 0)
        counts["unsatisfied"] += int(s.rating is not None and s.rating <= 3)
        counts["stalled_step"] += s.marks.get("stalled", 0)
        counts["low_confidence"] += s.marks.get("low_confidence", 0)
    return dict(counts)


# --- charts: inline SVG (attributes only: the desk's CSP allows no inline styles) -----------

def bar_chart(items: List[Tuple[str, float]], unit: str = "", width: int = 420) -> str:
    """A horizontal bar chart as an SVG string; labels are escaped."""
    if not items:
        return '<p class="empty">没有数据</p>'
    row, label_w = 26, 120
    top = max(value for _, value in items) or 1
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{row * len(items) + 4}" role="img">']
    for i, (label, value) in enumerate(items):
        y = i * row + 4
        bar = max(1, int((width - label_w - 60) * value / top))
        parts.append(f'<text x="0" y="{y + 15}" font-size="13" fill="#334e68">{escape(str(label))}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar}" height="18" fill="#1f4e79" rx="3"/>'
                     f'<text x="{label_w + bar + 6}" y="{y + 15}" font-size="13" fill="#1f2933">'
                     f'{escape(_number(value))}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def format_text(report: DailyReport) -> str:
    pct = lambda v: "-" if v is None else f"{v * 100:.0f}%"  # noqa: E731
    lines = [f"日报 {report.day}: {report.conversations} 个会话, {report.complaints} 个投诉",
             "按类别: " + (", ".join(f"{k} {v}" for k, v in report.by_category.items()) or "-"),
             f"转人工: {report.handed_off} ({pct(report.handoff_rate)}) 原因: "
             + (", ".join(f"{k} {v}" for k, v in report.handoff_reasons.items()) or "-"),
             f"平均满意度: {report.average_satisfaction if report.average_satisfaction is not None else '-'}"
             f" ({report.ratings} 个评分)",
             "服务禁忌: " + (", ".join(f"{k} {v}" for k, v in report.findings_by_behaviour.items()) or "-"),
             f"六步完整率: {report.six_step_complete}/{report.complaints} ({pct(report.six_step_rate)})",
             f"服务质量指数 SQI: {report.sqi} (每会话 {report.sqi_per_conversation if report.sqi_per_conversation is not None else '-'}; 越低越好)"]
    lines += [f"  {SQI_NAMES[k]} ×{SQI_WEIGHTS[k]}: {n}" for k, n in report.sqi_counts.items() if n]
    return "\n".join(lines)
