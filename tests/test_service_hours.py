"""Callbacks only inside service hours (KEFU_SERVICE_HOURS), otherwise the next opening."""
from datetime import datetime

import pytest

from kefu.complaint import hours

DAY = datetime(2026, 12, 5)


def at(hour, minute=0):
    return DAY.replace(hour=hour, minute=minute)


def test_inside_hours_the_ticket_promise_is_said():
    text = hours.callback_when(at(10), "2小时内", "12月05日 12:00", at(12))
    assert "2小时内" in text and "12月05日 12:00前" in text


@pytest.mark.parametrize("now, opening", [(at(23, 15), "明天（12月06日）09:00"), (at(3), "今天（12月05日）09:00")])
def test_at_night_the_next_opening_is_said(now, opening):
    text = hours.callback_when(now, "2小时内", "whatever", None)
    assert opening in text and "2小时内" not in text


def test_a_deadline_after_closing_names_the_next_morning():
    text = hours.callback_when(at(20, 30), "2小时内", "12月05日 22:30", at(22, 30))
    assert "明天（12月06日）09:00" in text and "22:30" not in text


def test_the_hours_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KEFU_SERVICE_HOURS", "08:00-18:00")
    assert hours.is_open(at(8)) and not hours.is_open(at(18, 30))
    assert hours.next_opening(at(19)) == datetime(2026, 12, 6, 8, 0)
    monkeypatch.setenv("KEFU_SERVICE_HOURS", "nonsense")
    assert hours.service_hours()[0].hour == 9
