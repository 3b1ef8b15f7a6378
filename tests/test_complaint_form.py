"""The six steps' rules, one customer message at a time (kefu.complaint.form)."""
from types import SimpleNamespace

import pytest

from kefu.complaint import policy
from kefu.complaint.form import Message, handle_message, next_slot, remedies_to_offer
from kefu.complaint.steps import steps_to_enter

ORDERS = {"KF20261101": SimpleNamespace(phone="13800000001", status="delivered", products="保温杯 ×1")}


class FakeRecords:
    """Orders in a dict and tickets in a list: the form's view of the shop."""

    def __init__(self):
        self.tickets = []

    def find_order(self, order_id):
        return ORDERS.get(order_id)

    def beyond_authority(self, slots, remedy):
        return remedy == "refund" and slots.get("order_id") == "KF88888888"

    def earlier_ticket(self, slots):
        return "T-earlier" if slots.get("contact_phone") == "13800000001" else None

    def open_ticket(self, slots, remedy):
        self.tickets.append((remedy, dict(slots)))
        return {"ticket_id": f"T{len(self.tickets)}", "tier": "normal", "deadline_iso": "2026-11-26T10:00",
                "deadline": "11月26日 10:00", "promise": "24小时内", "owner": "售后组", "remedy_name": remedy}


# A complaint whose facts are all known and confirmed: the Action step comes next.
CONFIRMED = {"account_complete": True, "complaint_category": "quality", "order_id": "KF20261101",
             "contact_phone": "13800000001", "order_verified": True, "problem": "杯子裂了",
             "incident_time": "昨天", "wished_remedy": "refund", "facts_confirmed": True}


def run(slots, text, intent="inform", entities=(), confidence=0.95):
    outcome = handle_message(slots, Message(text, intent, confidence, list(entities)), FakeRecords())
    merged = {**slots, **outcome.updates}
    merged["requested_slot"] = next_slot(merged)
    return merged, outcome


def test_listen_collects_short_messages_and_does_not_ask_for_the_order_first():
    slots, _ = run({}, "我买的耳机", intent="complain_quality")
    assert slots["complaint_category"] == "quality"
    assert slots["requested_slot"] == "account_complete"
    slots, _ = run(slots, "收到")
    assert slots["requested_slot"] == "account_complete"
    slots, _ = run(slots, "左边就没声音")
    assert slots["account_complete"] is True
    assert slots["complaint_account"] == ["我买的耳机", "收到", "左边就没声音"]
    assert "左边就没声音" in slots["problem"]
    assert slots["requested_slot"] == "order_id"


def test_a_vague_first_line_gives_way_to_the_specific_complaint_that_follows():
    slots, _ = run({}, "你们这什么破杯子", intent="complain_other", confidence=0.43)
    assert slots["complaint_category"] == "other"
    slots, _ = run(slots, "收到盖子就是裂的，一倒水全漏桌上了😡", intent="complain_quality")
    assert slots["complaint_category"] == "quality"  # the remedies offered are a quality complaint's
    slots, _ = run(slots, "而且快递也慢", intent="complain_delivery")
    assert slots["complaint_category"] == "quality"  # a specific category is never replaced


def test_when_the_customer_needs_it_is_not_when_it_happened():
    slots, _ = run({}, "快递一个礼拜了还没到，我明天就要用，昨天问客服也没人管", intent="complain_delivery",
                   entities=[{"entity": "time", "value": "明天"}, {"entity": "time", "value": "昨天"}])
    assert slots["incident_time"] == "昨天"
    slots, _ = run({}, "我下周要出差，快递还没到", intent="complain_delivery",
                   entities=[{"entity": "time", "value": "下周"}])
    assert slots.get("incident_time") is None


def test_listen_ends_when_the_customer_says_that_is_all():
    slots, _ = run({}, "快递一直没到", intent="complain_delivery")
    slots, _ = run(slots, "没了", intent="deny")
    assert slots["account_complete"] is True
    assert slots["complaint_account"] == ["快递一直没到"]


def test_facts_given_at_once_are_not_asked_again():
    slots, _ = run({}, "订单KF20261101的杯子裂了，昨天收到的，我要退款", intent="complain_quality",
                   entities=[{"entity": "time", "value": "昨天"}])
    assert slots["order_id"] == "KF20261101"
    assert slots["incident_time"] == "昨天"
    assert slots["wished_remedy"] == "refund"
    # the whole account in one message: no "anything else?", straight to what is missing
    assert slots["account_complete"] is True
    assert slots["requested_slot"] == "contact_phone"
    slots, _ = run(slots, "13800000001")
    assert slots["order_verified"] is True
    assert slots["requested_slot"] == "facts_confirmed"


def test_unknown_order_is_asked_again_twice_then_left_to_a_person():
    slots = {"requested_slot": "order_id", "account_complete": True, "complaint_category": "delivery"}
    slots, outcome = run(slots, "KF99999999")
    assert outcome.replies[0][0] == "utter_order_not_found"
    assert slots["order_id"] is None and slots["requested_slot"] == "order_id"
    slots, outcome = run(slots, "KF99999998")
    assert outcome.replies[0][0] == "utter_order_not_found"
    slots, outcome = run(slots, "KF99999997")
    assert outcome.replies[0][0] == "utter_order_unverified"
    assert slots["order_unavailable"] is True
    assert slots["requested_slot"] == "problem"


def test_order_of_another_phone_is_not_revealed():
    slots = {"requested_slot": "contact_phone", "account_complete": True, "order_id": "KF20261101"}
    slots, outcome = run(slots, "13912345678")
    assert outcome.replies == [("utter_order_phone_mismatch", {"order_id": "KF20261101"})]
    assert slots["order_id"] is None and slots["contact_phone"] is None
    assert not slots.get("product")


def test_check_no_goes_back_to_probe_for_the_wrong_fact_only():
    slots = {"requested_slot": "facts_confirmed", "account_complete": True, "order_unavailable": True,
             "problem": "杯子裂了", "incident_time": "昨天", "wished_remedy": "refund", "complaint_step": "check"}
    slots, _ = run(slots, "不对", intent="deny")
    assert slots["requested_slot"] == "wrong_fact"
    slots, _ = run(slots, "时间不对")
    assert slots["incident_time"] is None
    assert slots["problem"] == "杯子裂了" and slots["wished_remedy"] == "refund"
    assert slots["requested_slot"] == "incident_time"
    slots, _ = run(slots, "前天晚上")
    assert slots["requested_slot"] == "facts_confirmed"


def test_a_correction_at_check_is_taken_and_restated():
    slots = {"requested_slot": "facts_confirmed", "account_complete": True, "order_unavailable": True,
             "problem": "杯子裂了", "incident_time": "昨天", "wished_remedy": "refund", "complaint_step": "check"}
    slots, outcome = run(slots, "不对，我想换货", intent="deny")
    assert slots["wished_remedy"] == "replace"
    assert ("utter_fact_updated", {}) in outcome.replies
    assert slots["requested_slot"] == "facts_confirmed"


def test_digressions_are_left_to_the_rules():
    outcome = handle_message({"requested_slot": "problem"}, Message("今天天气怎么样", "out_of_scope", 0.9),
                             FakeRecords())
    assert outcome.updates == {} and outcome.replies == []


def test_unclear_answer_keeps_the_form_and_counts():
    slots = {**CONFIRMED, "requested_slot": "chosen_remedy", "offered_remedies": ["refund", "replace"]}
    slots, outcome = run(slots, "我再想想")
    assert slots["unclear_count"] == 1 and slots["requested_slot"] == "chosen_remedy"


def test_remedy_choice_opens_a_ticket_and_promises_its_deadline():
    records = FakeRecords()
    slots = {"requested_slot": "chosen_remedy", "offered_remedies": ["refund", "replace"],
             "complaint_category": "quality"}
    outcome = handle_message(slots, Message("/inform", "inform", 1.0, [{"entity": "remedy", "value": "refund"}]),
                             records)
    assert outcome.updates["chosen_remedy"] == "refund"
    assert outcome.updates["ticket_id"] == "T1"
    assert outcome.replies[0][0] == "utter_ticket_created"
    assert outcome.replies[0][1]["promise"] == "24小时内"


def test_remedy_not_offered_is_refused():
    slots = {"requested_slot": "chosen_remedy", "offered_remedies": ["compensate", "callback"]}
    slots, _ = run(slots, "我要退款")
    assert slots.get("chosen_remedy") is None


def test_low_rating_offers_one_alternative_then_records_the_rating():
    slots = {**CONFIRMED, "requested_slot": "satisfaction", "chosen_remedy": "refund"}
    slots, outcome = run(slots, "2分", intent="rate")
    assert outcome.replies == [("utter_offer_alternative", {})]
    assert slots["chosen_remedy"] is None and slots["requested_slot"] == "chosen_remedy"
    assert "refund" not in remedies_to_offer(slots, "delivered")
    slots.update(chosen_remedy="replace", requested_slot="satisfaction")
    slots, _ = run(slots, "还是不满意 1分", intent="rate")
    assert slots["satisfaction"] == 1.0 and slots["requested_slot"] is None


def test_high_rating_finishes_the_form():
    slots = {**CONFIRMED, "requested_slot": "satisfaction", "chosen_remedy": "refund"}
    slots, _ = run(slots, "5", intent="rate", entities=[{"entity": "rating", "value": "5"}])
    assert slots["satisfaction"] == 5.0 and slots["requested_slot"] is None


@pytest.mark.parametrize("current,target,expected", [
    (None, "listen", ["listen"]),
    ("listen", "probe", ["share", "probe"]),
    ("listen", "check", ["share", "probe", "check"]),
    ("check", "probe", ["probe"]),
    ("probe", "probe", []),
])
def test_steps_are_never_skipped_forward(current, target, expected):
    assert steps_to_enter(current, target) == expected


def test_policy_offers_only_what_fits_the_order():
    assert "resend" not in policy.allowed_remedies("delivery", "in_transit")
    assert policy.allowed_remedies("quality", None) == ["callback"]
    assert policy.order_remedies("quality", "delivered", "refund")[0] == "refund"
    assert policy.ticket_plan("quality", "repair")[1] == "complex"
    assert policy.ticket_plan("delivery", "resend")[1] == "urgent"
    assert policy.compensation_amount(1000) == policy.COMPENSATION_CAP


def test_a_refund_beyond_the_bots_authority_goes_to_a_person():
    slots = {**CONFIRMED, "order_id": "KF88888888", "requested_slot": "chosen_remedy",
             "offered_remedies": ["refund", "replace"]}
    records = FakeRecords()
    outcome = handle_message(slots, Message("退款", "inform", 0.99, [{"entity": "remedy", "value": "refund"}]), records)
    assert outcome.updates["handoff_reason"] == "over_authority"
    assert records.tickets == []
