"""The daily summary for trainers: complaints by category, hand-offs and why,
satisfaction (CSAT), guard findings by behaviour, the six-step funnel (where complaints
stop), emotion at the start versus the end, and a service-quality index weighted like
FedEx's SQI, per day over the last 30 days.  Broken conversations are counted, never read.

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

from kefu.complaint import STEPS
from kefu.replay.conversations import Summary

SQI_DAYS = 30
CSAT_GOOD = 4  # CSAT: the share of ratings of 4 or 5

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
    broken: int = 0  # stored conversations that cannot be read, skipped
    ratings_by_score: Dict[str, int] = field(default_factory=dict)  # "1".."5" -> count
    csat: Optional[float] = None  # share of ratings >= CSAT_GOOD
    funnel_reached: Dict[str, int] = field(default_factory=dict)  # step -> complaints that got there
    funnel_stopped: Dict[str, int] = field(default_factory=dict)  # step -> complaints whose last step it is
    emotion_start: Dict[str, int] = field(default_factory=dict)
    emotion_end: Dict[str, int] = field(default_factory=dict)
    sqi_trend: List[Tuple[str, int]] = field(default_factory=list)  # (day, SQI), oldest first

    def to_dict(self) -> dict:
        return asdict(self)


def day_range(day: date) -> Tuple[float, float]:
    start = datetime.combine(day, time.min)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def daily_report(summaries: List[Summary], day: date) -> DailyReport:
    start, end = day_range(day)
    readable = [s for s in summaries if not s.broken and not s.is_rerun]
    todays = [s for s in readable if start <= s.started < end]
    complaints = [s for s in todays if s.category]
    report = DailyReport(day.isoformat(), len(todays), len(complaints))
    report.broken = sum(1 for s in summaries if s.broken and start <= s.started < end)
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
    first_complaint = reopened_orders(readable, start)
    report.sqi_counts = sqi_counts(todays, first_complaint)
    report.sqi = sqi_of(report.sqi_counts)
    report.sqi_per_conversation = round(report.sqi / len(todays), 2) if todays else None
    report.ratings_by_score = {str(n): sum(1 for r in ratings if r == n) for n in range(1, 6)}
    report.csat = _rate(sum(1 for r in ratings if r >= CSAT_GOOD), len(ratings))
    report.funnel_reached, report.funnel_stopped = funnel(complaints)
    report.emotion_start = dict(Counter(s.emotion_start for s in todays if s.emotion_start).most_common())
    report.emotion_end = dict(Counter(s.emotion_end for s in todays if s.emotion_end).most_common())
    report.sqi_trend = sqi_trend(readable, day, first_complaint)
    return report


def sqi_of(counts: Dict[str, int]) -> int:
    return sum(SQI_WEIGHTS[k] * n for k, n in counts.items())


def sqi_trend(readable: List[Summary], last_day: date, first_complaint: Dict[str, float],
              days: int = SQI_DAYS) -> List[Tuple[str, int]]:
    """(day, SQI) for each of the ``days`` days up to ``last_day``, oldest first."""
    trend = []
    for back in range(days - 1, -1, -1):
        day = last_day - timedelta(days=back)
        start, end = day_range(day)
        that_day = [s for s in readable if start <= s.started < end]
        trend.append((day.isoformat(), sqi_of(sqi_counts(that_day, first_complaint))))
    return trend


def funnel(complaints: List[Summary]) -> Tuple[Dict[str, int], Dict[str, int]]:
    """How many complaints reached each of the six steps, and how many stopped there
    (their furthest step; ``satisfy`` reached means the procedure ran to its end)."""
    reached = {step: 0 for step in STEPS}
    stopped = {step: 0 for step in STEPS}
    for summary in complaints:
        steps = [s for s in summary.steps if s in STEPS]
        if not steps:
            continue
        furthest = max(steps, key=STEPS.index)
        for step in STEPS[:STEPS.index(furthest) + 1]:
            reached[step] += 1
        stopped[furthest] += 1
    return reached, stopped


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
# Every label is escaped; every chart has a <title> for screen readers and tooltips.

INK, BAR, MUTED, LATE = "#1f2933", "#1f4e79", "#9fb3c8", "#c2410c"


def _svg(width: int, height: int, title: str, body: List[str], kind: str) -> str:
    return (f'<svg class="chart chart-{kind}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _label_width(labels) -> int:
    return min(220, 16 + 13 * max((_text_width(str(label)) for label in labels), default=4))


def _text_width(text: str) -> float:
    return sum(1.0 if ord(ch) > 0x2e80 else 0.6 for ch in text)


def bar_chart(items: List[Tuple[str, float]], unit: str = "", width: int = 460, title: str = "") -> str:
    """A horizontal bar chart as an SVG string; labels are escaped."""
    if not items:
        return '<p class="empty">没有数据</p>'
    row, label_w = 26, _label_width(label for label, _ in items)
    top = max(value for _, value in items) or 1
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * row + 4
        bar = max(1, int((width - label_w - 60) * value / top)) if value else 0
        parts.append(f'<text x="0" y="{y + 15}" font-size="13" fill="#334e68">{escape(str(label))}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar}" height="18" fill="{BAR}" rx="3">'
                     f'<title>{escape(str(label))}：{escape(_number(value))}{escape(unit)}</title></rect>'
                     f'<text x="{label_w + bar + 6}" y="{y + 15}" font-size="13" fill="{INK}">'
                     f'{escape(_number(value))}{escape(unit)}</text>')
    return _svg(width, row * len(items) + 4, title or "柱状图", parts, "bars")


def funnel_chart(steps: List[Tuple[str, int, int]], width: int = 460) -> str:
    """The six-step funnel: (step name, reached, stopped there) per step, bars centred."""
    if not any(reached for _, reached, _ in steps):
        return '<p class="empty">没有数据</p>'
    row, label_w, note_w = 30, 44, 130
    top = max(reached for _, reached, _ in steps) or 1
    room = width - label_w - note_w
    parts = []
    for i, (name, reached, stopped) in enumerate(steps):
        y = i * row + 4
        bar = max(2, int(room * reached / top)) if reached else 0
        x = label_w + (room - bar) // 2
        parts.append(f'<text x="0" y="{y + 16}" font-size="13" fill="#334e68">{escape(name)}</text>'
                     f'<rect class="funnel-step" x="{x}" y="{y}" width="{bar}" height="22" fill="{BAR}" rx="3">'
                     f'<title>{escape(name)}：到达 {reached}，停在这里 {stopped}</title></rect>'
                     f'<text x="{label_w + room + 6}" y="{y + 16}" font-size="12" fill="{INK}">'
                     f'到达 {reached} · 停 {stopped}</text>')
    return _svg(width, row * len(steps) + 4, "六步漏斗：每一步到达和停下的投诉数", parts, "funnel")


def paired_chart(items: List[Tuple[str, int, int]], legend: Tuple[str, str], width: int = 460,
                 title: str = "") -> str:
    """Two bars per label (e.g. emotion at the start and at the end)."""
    if not items:
        return '<p class="empty">没有数据</p>'
    row, label_w = 40, _label_width(label for label, _, _ in items)
    top = max(max(a, b) for _, a, b in items) or 1
    room = width - label_w - 40
    parts = [f'<rect x="{label_w}" y="2" width="10" height="10" fill="{MUTED}"/>'
             f'<text x="{label_w + 14}" y="11" font-size="12" fill="{INK}">{escape(legend[0])}</text>'
             f'<rect x="{label_w + 90}" y="2" width="10" height="10" fill="{BAR}"/>'
             f'<text x="{label_w + 104}" y="11" font-size="12" fill="{INK}">{escape(legend[1])}</text>']
    for i, (label, first, last) in enumerate(items):
        y = 18 + i * row
        parts.append(f'<text x="0" y="{y + 20}" font-size="13" fill="#334e68">{escape(str(label))}</text>')
        for j, (value, color, name) in enumerate(((first, MUTED, legend[0]), (last, BAR, legend[1]))):
            bar = max(1, int(room * value / top)) if value else 0
            parts.append(f'<rect x="{label_w}" y="{y + j * 16}" width="{bar}" height="14" fill="{color}" rx="2">'
                         f'<title>{escape(str(label))} {escape(name)}：{value}</title></rect>'
                         f'<text x="{label_w + bar + 4}" y="{y + j * 16 + 12}" font-size="11" fill="{INK}">{value}</text>')
    return _svg(width, 18 + row * len(items), title or "对比图", parts, "paired")


def line_chart(points: List[Tuple[str, float]], width: int = 900, height: int = 200, title: str = "") -> str:
    """Values per day as a line with a dot per day; the x axis labels every fifth day."""
    if not points:
        return '<p class="empty">没有数据</p>'
    left, right, top_pad, bottom = 40, 30, 10, 30
    top = max(value for _, value in points) or 1
    step = (width - left - right) / max(1, len(points) - 1)
    scale = (height - top_pad - bottom) / top

    def xy(i, value):
        return left + i * step, height - bottom - value * scale

    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="{MUTED}"/>',
             f'<text x="0" y="{top_pad + 10}" font-size="11" fill="{INK}">{escape(_number(top))}</text>',
             f'<text x="0" y="{height - bottom}" font-size="11" fill="{INK}">0</text>']
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, (_, v) in enumerate(points)))
    parts.append(f'<polyline points="{line}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    for i, (day, value) in enumerate(points):
        x, y = xy(i, value)
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LATE if value else BAR}">'
                     f'<title>{escape(day)}：{escape(_number(value))}</title></circle>')
        if i % 5 == 0 or i == len(points) - 1:
            parts.append(f'<text x="{x - 14:.1f}" y="{height - 10}" font-size="11" fill="{INK}">{escape(day[5:])}</text>')
    return _svg(width, height, title or "趋势", parts, "line")


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
             f"CSAT（4-5 分占比）: {pct(report.csat)}",
             "六步漏斗（到达/停下）: " + ", ".join(f"{k} {report.funnel_reached.get(k, 0)}/{report.funnel_stopped.get(k, 0)}"
                                              for k in STEPS),
             f"已损坏、跳过的会话: {report.broken}",
             f"服务质量指数 SQI: {report.sqi} (每会话 {report.sqi_per_conversation if report.sqi_per_conversation is not None else '-'}; 越低越好)"]
    lines += [f"  {SQI_NAMES[k]} ×{SQI_WEIGHTS[k]}: {n}" for k, n in report.sqi_counts.items() if n]
    return "\n".join(lines)
