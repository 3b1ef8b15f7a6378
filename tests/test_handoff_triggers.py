"""Hand-off decisions without servers: every trigger, priority, the Chinese summary, and
the hooks other actions use (form_handover, hand_over_on_failure)."""

import asyncio

import pytest
from rasa_sdk import Tracker
from sqlalchemy.exc import OperationalError

from actions.handoff import form_handover, hand_over_on_failure, handover, rating_in
from kefu.handoff import priority
from kefu.handoff.summary import summarize
from kefu.handoff.triggers import REASONS, handoff_reason, reason_text, refund_limit


def test_customer_asks_for_a_person():
    assert handoff_reason({}, intent="request_human") == "customer_request"


def test_emotion_marks_the_conversation():
    assert handoff_reason({"needs_human": True, "needs_human_reason": "愤怒上升"}) == "emotion"
    assert handoff_reason({"needs_human": False}) is None


def test_two_fallbacks_in_a_row_but_not_one():
    assert handoff_reason({}, intent="nlu_fallback", previous_intent="nlu_fallback") == "not_understood"
    assert handoff_reason({}, intent="nlu_fallback", previous_intent="greet") is None


def test_unsatisfied_only_after_an_alternative():
    low = {"satisfaction": 2.0}
    assert handoff_reason(low) is None  # the form offers an alternative first
    assert handoff_reason({**low, "alternative_offered": True}) == "unsatisfied"
    assert handoff_reason({"satisfaction": 4.0, "alternative_offered": True}) is None


def test_system_failure_comes_first():
    assert handoff_reason({}, intent="greet", system_failure=True) == "system_failure"


def test_refund_above_the_configurable_limit(monkeypatch):
    slots = {"chosen_remedy": "refund"}
    assert refund_limit() == 500.0
    assert handoff_reason(slots, order_amount=499) is None
    assert handoff_reason(slots, order_amount=800) == "over_authority"
    assert handoff_reason({"chosen_remedy": "replace"}, order_amount=800) is None
    monkeypatch.setenv("KEFU_HANDOFF_REFUND_LIMIT", "1000")
    assert handoff_reason(slots, order_amount=800) is None


def test_every_reason_has_chinese_text():
    assert set(REASONS) == {"system_failure", "customer_request", "emotion", "over_authority",
                            "unsatisfied", "not_understood"}
    assert reason_text("emotion") == "顾客情绪需要人工安抚"


@pytest.mark.parametrize("reason, slots, texts, expected", [
    ("customer_request", {"emotion": "neutral"}, ["转人工"], "normal"),
    ("customer_request", {"emotion": "angry", "emotion_intensity": 0.5}, ["转人工"], "high"),
    ("emotion", {"emotion": "angry", "emotion_intensity": 0.9, "emotion_trend": "rising"}, ["气死了"], "urgent"),
    ("not_understood", {}, ["我要打12315投诉你们"], "urgent"),
    ("unsatisfied", {"emotion": "disappointed"}, ["还是不行"], "high"),
    # Angry two messages ago, then a calm-sounding one: still angry.
    ("customer_request", {"emotion": "neutral", "emotion_history": [
        {"label": "angry", "intensity": 0.8}, {"label": "neutral", "intensity": 0.3}]}, ["转人工"], "high"),
])
def test_priority(reason, slots, texts, expected):
    assert priority.priority_for(reason, slots, texts) == expected


def test_summary_is_one_chinese_sentence():
    record = {"category": "delivery", "reason_text": "顾客要求人工服务", "emotion_trend": "rising",
              "facts": {"problem": "快递一周了还没到，催了三次都没人管", "order_id": "KF20261102",
                        "wished_remedy": "refund"},
              "emotion": [{"label": "angry", "intensity": 0.8}],
              "offered": [["resend", "refund"]], "promises": []}
    text = summarize(record)
    assert text == ("顾客反映配送问题「快递一周了还没到，催了三次都没人管」（订单KF20261102），"
                    "情绪愤怒且在升级，希望退款，机器人已提供补发、退款方案，因顾客要求人工服务转人工。")
    assert text.count("。") == 1
    calmer = {**record, "emotion": [{"label": "angry", "intensity": 0.8}, {"label": "neutral", "intensity": 0.2}]}
    assert "之前情绪愤怒，现已缓和" in summarize(calmer)


def tracker_with(slots, intent="inform", loop="complaint_form"):
    return Tracker("c1", slots, {"intent": {"name": intent}, "text": "x", "entities": []},
                   [], False, None, {"name": loop} if loop else {}, "action_listen")


def test_form_hook_hands_over_on_emotion_and_authority():
    events = form_handover(tracker_with({"needs_human": True}))
    assert (events[-1]["event"], events[-1]["name"]) == ("followup", "action_handoff")
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    assert any(e.get("name") == "handoff_reason" and e.get("value") == "emotion" for e in events)
    events = form_handover(tracker_with({"chosen_remedy": "refund"}), order_amount=2000)
    assert any(e.get("value") == "over_authority" for e in events)
    assert form_handover(tracker_with({"chosen_remedy": "refund"}), order_amount=20) is None


def test_a_failing_system_hands_over():
    class Failing:
        def name(self):
            return "action_x"

        @hand_over_on_failure
        async def run(self, dispatcher, tracker, domain):
            raise OperationalError("select", {}, Exception("database is locked"))

    events = asyncio.run(Failing().run(None, tracker_with({}), {}))
    assert (events[-1]["event"], events[-1]["name"]) == ("followup", "action_handoff")
    assert any(e.get("value") == "system_failure" for e in events)


def test_handover_events():
    events = handover("customer_request")
    assert events[0]["name"] == "handoff_reason" and events[1]["name"] == "action_handoff"


@pytest.mark.parametrize("text, expected", [("5", 5), ("不满意", 2), ("非常满意", 5), ("好的", None)])
def test_rating_in(text, expected):
    assert rating_in({"text": text, "entities": []}) == expected
