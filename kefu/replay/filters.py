"""The list's filters, parsed from strings (a query string or command-line options)
with a clear message for any malformed value."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import List, Mapping, Optional

from kefu.complaint import CATEGORIES
from kefu.replay.conversations import Summary

BEHAVIOURS = ("doubt", "insist_right", "rush_conclusion", "joke", "shift_blame", "nitpick",
              "broken_promise", "blame_other_dept", "play_dumb", "blame_customer")
EMOTIONS = ("angry", "anxious", "disappointed", "neutral", "satisfied")
MAX_QUERY = 200


class FilterError(ValueError):
    pass


@dataclass
class Filters:
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    channel: Optional[str] = None
    category: Optional[str] = None
    handed_off: Optional[bool] = None
    max_confidence: Optional[float] = None  # lowest intent confidence at most this
    emotion: Optional[str] = None  # label of the strongest emotion
    min_intensity: Optional[float] = None  # strongest emotion at least this intense
    guard: Optional[str] = None  # a behaviour id, or "any"
    rating: Optional[str] = None  # 1..5, "low" (1-3), "none"
    q: Optional[str] = None

    def active(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, "")}


def parse_filters(params: Mapping[str, str]) -> Filters:
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    filters = Filters(
        date_from=_date(get("from"), "from"), date_to=_date(get("to"), "to"),
        channel=get("channel") or None, category=_choice(get("category"), CATEGORIES, "category"),
        handed_off=_yes_no(get("handed_off")),
        max_confidence=_fraction(get("max_confidence"), "max_confidence"),
        emotion=_choice(get("emotion"), EMOTIONS, "emotion"),
        min_intensity=_fraction(get("min_intensity"), "min_intensity"),
        guard=_choice(get("guard"), BEHAVIOURS + ("any",), "guard"),
        rating=_choice(get("rating"), ("1", "2", "3", "4", "5", "low", "none"), "rating"),
        q=get("q")[:MAX_QUERY] or None)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise FilterError("from must not be after to")
    if filters.channel and (len(filters.channel) > 32 or not filters.channel.replace("_", "").isalnum()):
        raise FilterError("channel is a channel name such as rest, socketio or wechat")
    return filters


def _date(value: str, name: str) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name} must be a date like 2026-11-25, not {value[:30]!r}") from None


def _choice(value: str, allowed, name: str) -> Optional[str]:
    if not value:
        return None
    if value not in allowed:
        raise FilterError(f"{name} must be one of {', '.join(allowed)}")
    return value


def _yes_no(value: str) -> Optional[bool]:
    if not value:
        return None
    if value.lower() in ("yes", "true", "1"):
        return True
    if value.lower() in ("no", "false", "0"):
        return False
    raise FilterError("handed_off must be yes or no")


def _fraction(value: str, name: str) -> Optional[float]:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0 <= number <= 1:  # also false for nan
        raise FilterError(f"{name} must be a number from 0 to 1, not {value[:30]!r}")
    return number


def _day_bounds(filters: Filters):
    start = datetime.combine(filters.date_from, time.min).timestamp() if filters.date_from else -math.inf
    end = (datetime.combine(filters.date_to + timedelta(days=1), time.min).timestamp()
           if filters.date_to else math.inf)
    return start, end


def matches(summary: Summary, filters: Filters) -> bool:
    """Broken conversations match no filter: they are listed apart (see :func:`broken`)."""
    if summary.broken:
        return False
    start, end = _day_bounds(filters)
    checks = [
        start <= summary.started < end,
        filters.channel is None or summary.channel == filters.channel,
        filters.category is None or summary.category == filters.category,
        filters.handed_off is None or summary.handed_off == filters.handed_off,
        filters.max_confidence is None or (summary.min_confidence is not None
                                            and summary.min_confidence <= filters.max_confidence),
        filters.emotion is None or summary.emotion == filters.emotion,
        filters.min_intensity is None or (summary.emotion_intensity or 0) >= filters.min_intensity,
        _guard_matches(summary, filters.guard),
        _rating_matches(summary, filters.rating),
        not filters.q or filters.q.lower() in summary.search_text or filters.q in summary.sender_id,
    ]
    return all(checks)


def _guard_matches(summary: Summary, guard: Optional[str]) -> bool:
    if guard is None:
        return True
    return bool(summary.findings) if guard == "any" else guard in summary.findings


def _rating_matches(summary: Summary, rating: Optional[str]) -> bool:
    if rating is None:
        return True
    if rating == "none":
        return summary.rating is None
    if rating == "low":
        return summary.rating is not None and summary.rating <= 3
    return summary.rating == int(rating)


def apply(summaries: List[Summary], filters: Filters) -> List[Summary]:
    return [summary for summary in summaries if matches(summary, filters)]


def broken(summaries: List[Summary]) -> List[Summary]:
    return [summary for summary in summaries if summary.broken]
