"""Off the happy path, one message at a time (kefu.complaint.form): stalls, risks,
repeat complaints, facts given early, ratings in words."""
from kefu.complaint.form import Message, handle_message, person_offer
from tests.test_complaint_form import CONFIRMED, FakeRecords, run

ASKING_PHONE = {"account_complete": True, "complaint_category": "delivery", "order_id": "KF20261101",
                "requested_slot": "contact_phone", "complaint_step": "probe"}


def test_two_unclear_answers_count_and_the_third_hands_over_naming_the_step():
    slots, outcome = run(ASKING_PHONE, "嗯嗯")
    assert slots["unclear_count"] == 1 and not slots.get("handoff_reason")
    slots, outcome = run(slots, "啥")
    assert slots["unclear_count"] == 2 and not slots.get("handoff_reason")
    slots, outcome = run(slots, "你猜")
    assert slots["handoff_reason"] == "stalled" and slots["stalled_step"] == "probe"


def test_the_same_fact_again_is_no_progress():
    slots, _ = run(ASKING_PHONE, "KF20261101")
    assert slots["unclear_count"] == 1
    slots, _ = run(slots, "订单号KF20261101啊")
    assert slots["unclear_count"] == 2


def test_a_useful_answer_resets_the_count():
    slots, _ = run(ASKING_PHONE, "嗯")
    slots, _ = run(slots, "13800000001")
    assert slots["unclear_count"] == 0 and slots["order_verified"] is True


def test_unclear_answers_at_check_stall_too():
    slots = {**CONFIRMED, "facts_confirmed": None, "requested_slot": "facts_confirmed"}
    for _ in range(2):
        slots, _ = run(slots, "嗯……", intent="nlu_fallback", confidence=0.2)
    slots, _ = run(slots, "随便", intent="nlu_fallback", confidence=0.2)
    assert slots["handoff_reason"] == "stalled" and slots["stalled_step"] == "check"


def test_a_threat_hands_over_at_any_step_with_the_risk_named():
    slots = {**CONFIRMED, "requested_slot": "chosen_remedy", "offered_remedies": ["refund"]}
    outcome = handle_message(slots, Message("再不给我退我就打12315", "inform", 0.9,
                                            [{"entity": "risk", "value": "threat"}]), FakeRecords())
    assert outcome.updates["handoff_reason"] == "risk" and outcome.updates["risk_kind"] == "threat"
    assert "chosen_remedy" not in outcome.updates and not outcome.replies  # no remedy first


def test_a_safety_complaint_is_a_risk_even_without_an_entity():
    outcome = handle_message({}, Message("热水壶烧着烧着就不对劲了", "complain_safety", 0.8), FakeRecords())
    assert outcome.updates["handoff_reason"] == "risk" and outcome.updates["risk_kind"] == "safety"


def test_a_repeat_complaint_is_marked_and_linked_to_the_earlier_ticket():
    slots, _ = run({}, "上次就是漏水，换了一个又漏了，还是没解决", intent="complain_quality",
                   entities=[{"entity": "repeat", "value": "上次"}])
    assert slots["repeat_complaint"] is True and not slots.get("previous_ticket_id")
    slots, _ = run({**slots, "requested_slot": "contact_phone", "order_id": "KF20261101"}, "13800000001")
    assert slots["previous_ticket_id"] == "T-earlier"


def test_an_order_number_alone_is_not_the_story():
    slots, _ = run({"order_id": "KF20261101", "requested_slot": "account_complete"}, "KF20261101")
    assert not slots.get("complaint_account") and slots["unclear_count"] == 1


def test_a_whole_first_message_goes_straight_to_check():
    text = "订单KF20261101的保温杯盖子裂了漏水，昨天收到的，手机13800000001，我要退款"
    slots, _ = run({}, text, intent="complain_quality", entities=[{"entity": "time", "value": "昨天"}])
    assert slots["account_complete"] is True and slots["order_verified"] is True
    assert slots["requested_slot"] == "facts_confirmed"


def test_a_rating_in_words_is_read_and_a_negative_one_is_low():
    slots = {**CONFIRMED, "chosen_remedy": "refund", "requested_slot": "satisfaction", "alternative_offered": True}
    slots, _ = run(slots, "不满意，拖了这么久", intent="complain_service")
    assert slots["satisfaction"] == 2.0


def test_a_callback_asks_for_the_phone_first():
    slots = {**CONFIRMED, "contact_phone": None, "order_unavailable": True, "order_verified": None,
             "requested_slot": "chosen_remedy", "offered_remedies": ["callback"]}
    slots, outcome = run(slots, "给我回个电话吧", entities=[{"entity": "remedy", "value": "callback"}])
    assert slots.get("chosen_remedy") is None and outcome.replies[0][0] is None
    slots, outcome = run(slots, "13912345678")
    assert slots["chosen_remedy"] == "callback" and slots["contact_phone"] == "13912345678"


def test_a_person_is_offered_after_two_idle_answers_or_after_one_said_in_anger():
    assert person_offer({"unclear_count": 0, "emotion_tone": "furious"}) == ()  # the answer helped
    assert person_offer({"unclear_count": 1, "emotion_tone": "neutral"}) == ()
    assert person_offer({"unclear_count": 1, "emotion_tone": "angry"}) == ("angry",)
    assert person_offer({"unclear_count": 2, "emotion_tone": "neutral"}) == ("stalled",)
    assert person_offer({"unclear_count": 2, "emotion_tone": "angry"}) == ("angry", "stalled")
