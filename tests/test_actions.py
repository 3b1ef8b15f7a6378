"""Custom actions called as the action server calls them, on a real (temporary) database."""
import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.complaint import ValidateComplaintForm
from actions.conversation import AskProgress, CloseComplaint, GiveUp, OutsideComplaint
from kefu.store import tickets_for
from kefu.store.seed import seed


@pytest.fixture(autouse=True)
def demo_db(tmp_path, monkeypatch):
    monkeypatch.setenv("KEFU_DB_URL", f"sqlite:///{tmp_path}/kefu.db")
    seed()


def make_tracker(slots=None, text="", intent="inform", entities=(), events=None, sender="t-actions"):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": list(entities)}
    if events is None:  # the form runs right after the customer's message
        events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text},
                  {"event": "action", "name": "complaint_form"}]
    return Tracker(sender, dict(slots or {}), latest, events, False, None,
                   {"name": "complaint_form"}, "action_listen")


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_validation_takes_the_account_and_asks_on():
    messages, slots = run(ValidateComplaintForm(), make_tracker(text="耳机左边没声音", intent="complain_quality"))
    assert slots["complaint_account"] == ["耳机左边没声音"]
    assert slots["complaint_category"] == "quality"
    assert slots["requested_slot"] == "account_complete"


def test_validation_rejects_a_digression_so_rules_answer_it():
    messages, slots = run(ValidateComplaintForm(),
                          make_tracker({"requested_slot": "problem"}, text="讲个笑话", intent="out_of_scope"))
    assert slots == {} and messages == []


def test_validation_after_a_digression_only_asks_again():
    events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "你好"},
              {"event": "action", "name": "utter_greet"}, {"event": "action", "name": "complaint_form"}]
    messages, slots = run(ValidateComplaintForm(),
                          make_tracker({"requested_slot": "problem", "account_complete": True, "order_unavailable": True,
                                        "complaint_step": "probe", "shared": True},
                                       text="你好", intent="greet", events=events))
    assert slots == {"requested_slot": "problem", "question_counts": {"problem": 1}}
    assert [m["response"] for m in messages] == ["utter_question_problem"]


def test_a_question_asked_again_comes_in_other_words():
    events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "你好"},
              {"event": "action", "name": "utter_greet"}, {"event": "action", "name": "complaint_form"}]
    messages, slots = run(ValidateComplaintForm(),
                          make_tracker({"requested_slot": "problem", "account_complete": True, "order_unavailable": True,
                                        "complaint_step": "probe", "shared": True, "question_counts": {"problem": 1}},
                                       text="你好", intent="greet", events=events))
    assert slots["question_counts"] == {"problem": 2}
    assert messages[-1].get("text") and not messages[-1].get("response")


def test_unknown_order_is_checked_in_the_store():
    messages, slots = run(ValidateComplaintForm(),
                          make_tracker({"requested_slot": "order_id", "account_complete": True}, text="KF19990101"))
    assert slots["order_id"] is None and slots["order_attempts"] == 1
    assert messages[0]["response"] == "utter_order_not_found"


ASKING_PHONE = {"requested_slot": "contact_phone", "account_complete": True, "order_id": "KF20261101",
                "complaint_category": "quality", "complaint_step": "probe", "shared": True,
                "question_counts": {"contact_phone": 1}}


def test_an_angry_answer_that_gives_nothing_is_answered_and_offered_a_person_before_the_question():
    from kefu.complaint.wording import ANGER_OFFERS, REASK
    angry = {**ASKING_PHONE, "emotion": "angry", "emotion_tone": "angry", "emotion_trend": "rising"}
    messages, slots = run(ValidateComplaintForm(), make_tracker(angry, text="我去你们的，说了半天还没人管",
                                                                intent="complain_service"))
    assert slots["unclear_count"] == 1 and slots["requested_slot"] == "contact_phone"
    offer, question = messages[-2], messages[-1]
    assert offer["text"] in ANGER_OFFERS and offer["buttons"][0]["payload"] == "/request_human"
    assert question["text"] in REASK["contact_phone"]  # the question still comes, in other words


def test_a_calm_answer_that_gives_nothing_only_gets_the_question_again():
    calm = {**ASKING_PHONE, "emotion": "neutral", "emotion_tone": "neutral"}
    messages, slots = run(ValidateComplaintForm(), make_tracker(calm, text="嗯", intent="affirm"))
    assert slots["unclear_count"] == 1
    assert not any(m.get("buttons") for m in messages) and len(messages) == 1


def test_an_angry_customer_is_never_offered_a_person_in_the_same_words_twice():
    from kefu.complaint.wording import ANGER_OFFERS
    said = [{"event": "bot", "text": line} for line in ANGER_OFFERS]
    events = said + [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "烦死了"},
                     {"event": "action", "name": "complaint_form"}]
    angry = {**ASKING_PHONE, "emotion_tone": "furious"}
    messages, _ = run(ValidateComplaintForm(), make_tracker(angry, text="烦死了", intent="complain_other",
                                                            events=events))
    assert not any(m.get("text") in ANGER_OFFERS for m in messages)
    assert not any(m.get("buttons") for m in messages)  # one idle answer: no stall offer either


def test_a_second_idle_answer_in_anger_gets_the_other_anger_line_not_the_stall_offer():
    from kefu.complaint.wording import ANGER_OFFERS, STALL_OFFERS
    events = [{"event": "bot", "text": ANGER_OFFERS[0]}, {"event": "action", "name": "action_listen"},
              {"event": "user", "text": "到底有没有人管"}, {"event": "action", "name": "complaint_form"}]
    angry = {**ASKING_PHONE, "emotion_tone": "angry", "unclear_count": 1}
    messages, slots = run(ValidateComplaintForm(), make_tracker(angry, text="到底有没有人管", intent="complain_service",
                                                                events=events))
    assert slots["unclear_count"] == 2
    offers = [m["text"] for m in messages if m.get("buttons")]
    assert offers == [ANGER_OFFERS[1]] and not set(offers) & set(STALL_OFFERS)


def ask(slots):
    """The validation coming back to the form after a digression: it asks the next question."""
    events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "你好"},
              {"event": "action", "name": "utter_greet"}, {"event": "action", "name": "complaint_form"}]
    tracker = make_tracker(slots, text="你好", intent="greet", events=events)
    return run(ValidateComplaintForm(), tracker)


def test_first_probe_question_shares_the_feeling_first():
    messages, slots = ask({"complaint_step": "listen", "account_complete": True})
    assert [m.get("response") for m in messages] == [None, None, "utter_question_order_id"]
    assert all(m["text"] for m in messages[:2])  # the two Share lines (kefu.complaint.wording)
    assert slots == {"requested_slot": "order_id", "shared": True, "complaint_step": "probe",
                     "question_counts": {"order_id": 1}}


def test_a_message_that_completes_the_account_is_shared_with_its_new_category():
    """Rasa renders the Share responses before the validation's events apply: the category
    found in this very message goes along, so the apology fits it."""
    messages, slots = run(ValidateComplaintForm(), make_tracker(
        {"requested_slot": "account_complete", "complaint_step": "listen", "complaint_account": ["你好"]},
        text="你们快递一个礼拜了还没送到，到底怎么回事，我明天就要用", intent="complain_delivery"))
    assert slots["account_complete"] is True and slots["complaint_category"] == "delivery"
    from kefu.complaint.wording import SHARE_APOLOGY
    said = [m.get("text") for m in messages]
    assert any(line in said for line in SHARE_APOLOGY["delivery"])  # the apology fits the new category
    assert messages[-1]["response"] == "utter_question_order_id"


def test_check_restates_with_the_order_status_and_buttons():
    slots = {"complaint_step": "probe", "shared": True, "order_id": "KF20261103", "order_verified": True,
             "product": "羽绒服", "problem": "物流八天没动", "incident_time": "上周", "wished_remedy": "resend",
             "account_complete": True, "contact_phone": "13800000003"}
    messages, events = ask(slots)
    text = messages[-1]["text"]
    assert "KF20261103" in text and "物流八天没动" in text and "补发" in text and "物流异常" in text
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/affirm", "/deny"]
    assert events["complaint_step"] == "check" and events["requested_slot"] == "facts_confirmed"


def test_action_offers_remedies_as_buttons_with_the_wish_first():
    slots = {"complaint_step": "check", "complaint_category": "quality", "order_id": "KF20261101",
             "order_verified": True, "wished_remedy": "refund", "facts_confirmed": True,
             "account_complete": True, "contact_phone": "13800000001", "problem": "杯盖漏水", "incident_time": "昨天"}
    messages, events = ask(slots)
    payloads = [b["payload"] for b in messages[-1]["buttons"]]
    assert payloads[0] == '/inform{"remedy":"refund"}'
    assert events["offered_remedies"][0] == "refund"
    assert events["complaint_step"] == "action"


def test_choosing_a_remedy_records_a_ticket_with_its_deadline():
    slots = {"requested_slot": "chosen_remedy", "complaint_category": "quality", "order_id": "KF20261101",
             "contact_phone": "13800000001", "order_verified": True, "problem": "杯盖漏水",
             "offered_remedies": ["replace", "refund"], "account_complete": True, "incident_time": "昨天",
             "wished_remedy": "replace", "facts_confirmed": True}
    messages, events = run(ValidateComplaintForm(), make_tracker(slots, text='/inform{"remedy":"replace"}',
                                                                 entities=[{"entity": "remedy", "value": "replace"}],
                                                                 sender="t-ticket"))
    [ticket] = tickets_for(sender_id="t-ticket")
    assert events["ticket_id"] == ticket.id and ticket.remedy == "replace" and ticket.owner
    said = next(m for m in messages if m.get("response") == "utter_ticket_created")
    assert said["promise"] == ticket.promise
    assert messages[-1]["response"] == "utter_question_satisfaction" and events["complaint_step"] == "satisfy"
    assert said["deadline"] == ticket.deadline.strftime("%m月%d日 %H:%M")


def test_close_records_satisfaction_and_root_cause():
    slots = {"requested_slot": "chosen_remedy", "complaint_category": "delivery", "order_id": "KF20261102",
             "contact_phone": "13800000002", "order_verified": True, "problem": "一直没到",
             "offered_remedies": ["refund"], "account_complete": True, "incident_time": "上周",
             "wished_remedy": "refund", "facts_confirmed": True}
    _, events = run(ValidateComplaintForm(), make_tracker(slots, text="退款", sender="t-close",
                                                          entities=[{"entity": "remedy", "value": "refund"}]))
    slots.update(events, satisfaction=5.0, chosen_remedy="refund")
    messages, reset = run(CloseComplaint(), make_tracker(slots, sender="t-close"))
    [ticket] = tickets_for(sender_id="t-close")
    assert ticket.satisfaction == 5 and ticket.root_cause
    assert messages[0]["response"] == "utter_close_satisfied"
    # the thank-you names the ticket as it is after the rating, with its exact deadline
    assert messages[0]["ticket_id"] == ticket.id and messages[0]["promise"] == ticket.promise
    assert messages[0]["deadline"] == ticket.deadline.strftime("%m月%d日 %H:%M")
    assert reset["complaint_step"] is None and reset["order_id"] is None


def test_give_up_is_recorded_as_a_cancelled_ticket():
    slots = {"complaint_account": ["客服挂我电话"], "complaint_category": "service"}
    messages, _ = run(GiveUp(), make_tracker(slots, text="算了", intent="give_up", sender="t-giveup"))
    [ticket] = tickets_for(sender_id="t-giveup")
    assert ticket.status == "cancelled" and "挂我电话" in ticket.problem
    assert messages[0]["response"] == "utter_give_up"


def test_progress_by_order_number_needs_the_phone_first():
    messages, _ = run(AskProgress(), make_tracker(text="KF20261110处理到哪了", intent="ask_progress"))
    assert "工单" not in messages[0]["text"] and "手机号" in messages[0]["text"]
    from kefu.store.orders import SqlOrderLookup
    phone = SqlOrderLookup().get("KF20261110").phone
    messages, _ = run(AskProgress(), make_tracker({"order_id": "KF20261110"}, text=phone, intent="ask_progress"))
    assert "工单T" in messages[0]["text"]
    messages, _ = run(AskProgress(), make_tracker({"order_id": "KF20261110"}, text="13900000000", intent="ask_progress"))
    assert messages[0]["response"] == "utter_progress_none"


def test_progress_without_a_key_asks_for_one():
    messages, _ = run(AskProgress(), make_tracker(text="处理到哪了", intent="ask_progress", sender="nobody"))
    assert messages[0]["response"] == "utter_ask_progress_key"


def test_a_fact_out_of_the_blue_invites_the_story():
    messages, _ = run(OutsideComplaint(), make_tracker(text="你好啊", intent="inform"))
    assert messages[0]["response"] == "utter_outside_complaint"


def test_an_order_number_alone_starts_the_complaint_without_ticket_details():
    dispatcher = CollectingDispatcher()
    events = asyncio.run(OutsideComplaint().run(dispatcher, make_tracker(text="KF20261110", intent="inform"), {}))
    assert dispatcher.messages == []
    assert {"event": "followup", "name": "complaint_form"} in [
        {"event": e["event"], "name": e.get("name")} for e in events]
    assert any(e.get("name") == "order_id" and e.get("value") == "KF20261110" for e in events)


def test_text_built_in_an_action_passes_the_guard():
    from actions.reply import say_text
    dispatcher = CollectingDispatcher()
    say_text(dispatcher, make_tracker({"complaint_step": "probe"}), "您确定真的没收到吗？是不是您自己没看清楚")
    [sent] = dispatcher.messages
    assert "确定真的没收到" not in sent["text"]
    assert sent["guard"]["replaced"] is True
    assert {v["id"] for v in sent["guard"]["violations"]} >= {"doubt"}


def test_the_customers_own_words_quoted_back_are_not_judged_as_ours():
    from actions.reply import say_text
    dispatcher = CollectingDispatcher()
    text = "跟您确认一下：您反映的情况是「仓库那边老是发错货」。我这样理解对吗？"
    say_text(dispatcher, make_tracker({"complaint_step": "check"}), text)
    assert dispatcher.messages[0]["text"] == text


def test_emotion_tracking_sets_only_what_changed():
    from actions.emotion import TrackEmotion

    def message(label, intensity, slots):
        tracker = make_tracker(slots, text="怎么还没到")
        tracker.latest_message["emotion"] = {"label": label, "intensity": intensity, "signals": []}
        return run(TrackEmotion(), tracker)[1]

    first = message("anxious", 0.4, {})
    assert first["emotion"] == "anxious" and first["emotion_trend"] and first["needs_human"] is False
    assert len(first["emotion_history"]) == 1
    second = message("anxious", 0.45, first)
    assert "emotion" not in second and "needs_human" not in second  # unchanged: no event
    assert second["emotion_intensity"] == 0.45
    assert len(second["emotion_history"]) == 2
    calmer = message("neutral", 0.1, {**first, **second})
    assert calmer["emotion"] == "neutral"
