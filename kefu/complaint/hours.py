"""Service hours: a person calls back only while the desk is open.

``KEFU_SERVICE_HOURS`` ("09:00-21:00" by default) are the hours agents call customers.
Outside them the bot names the next opening time instead of a deadline that falls in
the night.
"""
import os
from datetime import datetime, time, timedelta
from typing import Optional, Tuple

ENV = "KEFU_SERVICE_HOURS"
DEFAULT = "09:00-21:00"


def service_hours() -> Tuple[time, time]:
    raw = (os.environ.get(ENV) or DEFAULT).strip()
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-", 1))
        return start, end
    except ValueError:
        start, end = DEFAULT.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)


def is_open(at: datetime) -> bool:
    start, end = service_hours()
    return start <= at.time() < end


def next_opening(at: datetime) -> datetime:
    """The next moment the desk opens (``at`` itself when it is open)."""
    if is_open(at):
        return at
    start, _ = service_hours()
    day = at.date() if at.time() < start else at.date() + timedelta(days=1)
    return datetime.combine(day, start)


def callback_when(now: datetime, promise: str, deadline: str, due: Optional[datetime] = None) -> str:
    """When the customer will be called, as the callback text says it.

    Inside service hours: the ticket's own promise ("2小时内（12月05日 15:00前）").
    Outside, or when the ticket's deadline falls after closing: the next opening time.
    """
    _, end = service_hours()
    if is_open(now) and (due is None or (due.date() == now.date() and due.time() <= end)):
        return f"客服专员会在{promise}（{deadline}前）给您回电"
    closing = datetime.combine(now.date(), end)
    opening = next_opening(closing if is_open(now) else now)
    today, tomorrow = now.date(), now.date() + timedelta(days=1)
    day = "今天" if opening.date() == today else "明天" if opening.date() == tomorrow else ""
    when = f"{day}（{opening.strftime('%m月%d日')}）{opening.strftime('%H:%M')}"
    if is_open(now):
        return f"今天{end.strftime('%H:%M')}下班前来不及的话，客服专员会在{when}上班后按工单给您回电"
    return f"现在是下班时间，客服专员{when}上班后按工单给您回电"
