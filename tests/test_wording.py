"""Every text the bot can send passes kefu.guard: the domain's responses as they are
filled in by the actions, and every text built in code (kefu.complaint.wording and the
texts the actions compose)."""
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from actions.complaint import restatement
from actions.conversation import PROGRESS_PHONE
from kefu.complaint import hours, policy, wording
from kefu.guard.engine import check

ROOT = Path(__file__).resolve().parents[1]
RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
TICKET = {"ticket_id": "T20261205001", "promise": "2小时内", "deadline": "12月05日 16:00",
          "owner": "客服主管", "remedy_name": "专人回电跟进", "queue_ahead": 2, "wait_minutes": 6,
          "order_id": "KF20261101"}
TICKET_CONTEXT = {"complaint_step": "action", "ticket_id": "T20261205001", "ticket_tier": "urgent"}


def filled(name, **values):
    return [variation["text"].format(**{**TICKET, **values}) for variation in RESPONSES[name]]


def hand_off_texts():
    """The hand-off responses with every reason's opening and every callback time."""
    texts = []
    times = [datetime(2026, 12, 5, h, m) for h, m in ((3, 0), (10, 0), (20, 30), (23, 15))]
    for why in wording.HANDOFF_WHY.values():
        texts += filled("utter_handoff_waiting", why=why) + filled("utter_handoff_next", why=why)
        for now in times:
            when = hours.callback_when(now, "2小时内", "12月05日 16:00", now.replace(hour=min(now.hour + 2, 23)))
            for phone_line in ("回电会打到138****0001，号码有变的话直接发新号码给我。",
                               "麻烦留一个方便接听的手机号，客服回电时用。"):
                texts += filled("utter_handoff_callback", why=why, when=when, phone_line=phone_line)
    return texts


def code_texts():
    texts = list(wording.all_texts()) + [PROGRESS_PHONE]
    slots = {"order_id": "KF20261101", "product": "保温杯", "problem": "垃圾杯子😡盖子裂了，漏一桌子水",
             "incident_time": "昨天", "wished_remedy": "refund", "complaint_category": "delivery"}
    for asked in range(3):
        for status in ("delivered", "in_transit", None):
            texts.append(restatement(slots, status, asked))
    for remedy in policy.REMEDY_NAMES:
        texts.append(policy.remedy_title(remedy, 199.0))
    return texts


@pytest.mark.parametrize("text", hand_off_texts())
def test_hand_off_texts_pass_the_guard(text):
    assert check(text, TICKET_CONTEXT) == []


@pytest.mark.parametrize("text", code_texts())
def test_texts_built_in_code_pass_the_guard(text):
    for step in ("listen", "probe", "check", "action", "satisfy"):
        assert check(text, {"complaint_step": step}) == [], step


def test_no_hand_off_text_opens_with_a_plain_ok():
    for text in hand_off_texts():
        assert not text.startswith("好的"), text


def test_share_lines_are_never_repeated_in_a_conversation():
    said = []
    for tone in ("angry", "angry", "angry", "furious"):
        lines = wording.share_lines(tone, "delivery", False, said)
        assert not set(lines) & set(said)
        said += lines


def test_restatement_drops_insults_and_emoji_and_does_not_doubt_a_missing_parcel():
    text = restatement({"problem": "你们这垃圾快递😡😡三天没到，SB", "complaint_category": "delivery"}, "delivered")
    assert "垃圾" not in text and "😡" not in text and "SB" not in text
    assert "三天没到" in text and "显示已签收" not in text


def test_no_promise_beyond_the_ticket():
    for variation in RESPONSES["utter_ticket_created"] + RESPONSES["utter_close_satisfied"]:
        assert "第一时间" not in variation["text"] and "通知您" not in variation["text"]
