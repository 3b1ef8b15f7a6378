"""Customers who don't follow the script (issue 14), through the real Rasa server, action
server and database over the REST webhook: each conversation checks the tracker (slots,
the hand-off and its reason) and what the bot said."""
import uuid
from datetime import datetime

import pytest
from e2e.desk_server import escalations_of, set_agents_offline
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.usefixtures("servers")

THANKS_FOR_PRAISE = ("谢谢您的认可", "谢谢您的理解和好评", "谢谢您的评价，很高兴")


@pytest.fixture(autouse=True)
def nobody_online(kefu_env):
    set_agents_offline(kefu_env["KEFU_DB_URL"])


def talk(servers, prefix, messages):
    """Send the messages; returns (sender, replies per message, tracker)."""
    sender = f"{prefix}-{uuid.uuid4().hex[:8]}"
    replies = [servers.say(sender, text) for text in messages]
    return sender, replies, servers.tracker(sender)


def texts(replies):
    return [reply.get("text") or "" for turn in replies for reply in turn]


def handed_over(kefu_env, tracker, sender):
    assert tracker["paused"] is True
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    return case


def assert_never_thanked(replies):
    for said in texts(replies):
        assert not any(phrase in said for phrase in THANKS_FOR_PRAISE), said


def assert_no_question_said_three_times(replies):
    said = texts(replies)
    for line in set(said):
        assert said.count(line) <= 2, line


RISKS = [
    ("fire", "电暖器开了半小时就冒烟了，插头那还冒火花，吓死我了", ("冒烟", "安全")),
    ("food", "昨晚吃了你们家的烤鱼，全家拉肚子拉到半夜", ("身体", "健康")),
    ("child", "宝宝玩的积木有个小零件掉了，差点吞下去，你们这也太不安全了", ("孩子",)),
    ("scam", "有人冒充你们客服打电话给我，说要退款让我转账", ("冒充", "转账")),
    ("privacy", "我的手机号和地址被你们泄露了吧，刚下单就一堆骚扰电话", ("信息",)),
]


@pytest.mark.parametrize("kind, text, named", RISKS, ids=[r[0] for r in RISKS])
def test_a_risk_goes_to_a_person_at_once_naming_it(servers, kefu_env, kind, text, named):
    sender, replies, tracker = talk(servers, f"risk-{kind}", [text])
    case = handed_over(kefu_env, tracker, sender)
    assert case["reason"] == "risk" and case["priority"] == "urgent"
    said = texts(replies)
    assert any(word in said[0] for word in named), said  # the risk is named first
    assert not any(reply.get("buttons") for turn in replies for reply in turn
                   if any(b.get("payload", "").startswith("/inform") for b in reply.get("buttons") or []))
    assert not said[-1].startswith("好的")


def test_a_threat_at_the_check_step_hands_over_before_any_remedy(servers, kefu_env):
    sender, replies, tracker = talk(servers, "threat", [
        "订单KF20261102的耳机快递晚了四天还没到，手机13800000002，上周下的单，我要退款",
        "再拖下去我就去12315投诉你们，还要找媒体曝光"])
    case = handed_over(kefu_env, tracker, sender)
    assert case["reason"] == "risk" and case["priority"] == "urgent"
    assert tracker["slots"]["chosen_remedy"] is None
    assert any("外部反映" in text for text in texts(replies[1:]))


def test_are_you_a_bot_gets_the_truth_and_a_person_offered(servers):
    sender, replies, tracker = talk(servers, "bot", ["你是机器人吗"])
    [reply] = replies[0]
    assert "不是真人" in reply["text"] and reply["buttons"][0]["payload"] == "/request_human"
    assert tracker["paused"] is False


def test_are_you_a_bot_inside_the_form_and_the_form_goes_on(servers):
    sender, replies, tracker = talk(servers, "bot-form", ["快递一个礼拜了还没到", "你是真人吗？"])
    assert any("不是真人" in text for text in texts(replies[1:]))
    assert tracker["active_loop"]["name"] == "complaint_form"


@pytest.mark.parametrize("text", ["呵呵，你们可真行", "好样的，说好次日达，一个礼拜了还没到"])
def test_sarcasm_is_a_complaint_never_thanked(servers, text):
    sender, replies, tracker = talk(servers, "sarcasm", [text])
    assert_never_thanked(replies)
    assert tracker["active_loop"]["name"] == "complaint_form"


def test_a_repeat_complaint_is_linked_to_the_earlier_ticket(servers, kefu_env):
    sender, replies, tracker = talk(servers, "repeat", [
        "跑步鞋上次就开胶投诉过，这次寄回来还是没解决，订单KF20261110 手机13800000010"])
    assert tracker["slots"]["repeat_complaint"] is True, (tracker["latest_message"]["entities"], tracker["slots"])
    assert tracker["slots"]["previous_ticket_id"]


def test_stalling_at_the_phone_question_offers_then_hands_over(servers, kefu_env):
    sender, replies, tracker = talk(servers, "stall", [
        "买的鞋子开胶了", "没了", "KF20261101", "嗯", "啊？", "嗯嗯嗯"])
    case = handed_over(kefu_env, tracker, sender)
    assert case["reason"] == "stalled at probe"
    offers = [reply for turn in replies for reply in turn
              if any(b.get("payload") == "/request_human" for b in reply.get("buttons") or [])]
    assert offers, texts(replies)  # a person was offered before the hand-off
    assert_no_question_said_three_times(replies)


def test_anger_at_the_phone_question_is_answered_before_the_question(servers):
    sender, replies, tracker = talk(servers, "angry-wait", [
        "买的鞋子开胶了", "没了", "KF20261101", "我去你们的，说了半天还没人管"])
    last = replies[-1]
    assert tracker["slots"]["emotion_tone"] in ("angry", "furious"), tracker["latest_message"].get("emotion")
    assert any(b.get("payload") == "/request_human" for reply in last for b in reply.get("buttons") or []), \
        texts([last])
    assert "手机号" in (last[-1].get("text") or ""), texts([last])  # and the question comes again
    assert tracker["active_loop"]["name"] == "complaint_form"


def test_off_topic_again_and_again_reaches_a_person(servers, kefu_env):
    sender, replies, tracker = talk(servers, "offtopic", ["今天天气怎么样", "给我讲个笑话", "推荐一部好看的电影吧"])
    case = handed_over(kefu_env, tracker, sender)
    assert case["reason"] == "stalled at listen"
    assert any(b.get("payload") == "/request_human" for reply in replies[1] for b in reply.get("buttons") or [])


def test_gibberish_outside_a_complaint_reaches_a_person(servers, kefu_env):
    sender, replies, tracker = talk(servers, "gibberish", ["asdkjqwe zxc", "qwpoeiru mnbv", "lkjhg poiuy"])
    assert tracker["paused"] is True, [(e.get("parse_data") or {}).get("intent") for e in tracker["events"]
                                       if e.get("event") == "user"]
    assert escalations_of(kefu_env["KEFU_DB_URL"], sender)


def test_a_whole_first_message_goes_straight_to_check(servers):
    sender, replies, tracker = talk(servers, "whole", [
        "订单KF20261103的羽绒服寄了八天物流一直不动，手机13800000003，上周五下的单，我要补发"])
    assert tracker["slots"]["requested_slot"] == "facts_confirmed"
    assert tracker["slots"]["complaint_step"] == "check"
    assert not any("补充" in text for text in texts(replies))


def test_an_order_number_alone_asks_what_happened_once(servers):
    sender, replies, tracker = talk(servers, "order-first", ["KF20261104", "收到的裙子颜色和尺码都不对"])
    first = texts(replies[:1])
    assert any("什么问题" in text for text in first) and not any("工单" in text for text in first)
    assert tracker["slots"]["order_id"] == "KF20261104"
    later = texts(replies[1:])
    assert not any("什么问题" in text for text in later)
    assert not any("订单号" in text and "发一下" in text for text in later)


def test_insults_and_emoji_are_not_quoted_back(servers):
    sender, replies, tracker = talk(servers, "insult", [
        "坑爹的快递，耳机四天了还没到😡", "没了", "KF20261102", "13800000002", "上周", "退款"])
    restated = [text for text in texts(replies) if "理解对吗" in text]
    assert restated, texts(replies)
    assert "坑爹" not in restated[-1] and "😡" not in restated[-1] and "四天了还没到" in restated[-1]


def test_a_missing_parcel_marked_delivered_is_not_doubted(servers):
    sender, replies, tracker = talk(servers, "not-received", [
        "系统说签收了，可我根本没收到保温杯", "没了", "KF20261101", "13800000001", "前天", "补发"])
    assert not any("显示已签收" in text for text in texts(replies))


def walk_to_rating(servers, prefix):
    return talk(servers, prefix, ["杯子盖子是裂的，一倒水就漏", "没了", "KF20261101", "13800000001", "前天",
                                  "换一个", "/affirm", '/inform{"remedy":"replace"}'])


def test_a_negative_rating_in_words_is_not_thanked(servers):
    sender, replies, tracker = walk_to_rating(servers, "rate-words")
    replies.append(servers.say(sender, "不满意，太麻烦了"))
    tracker = servers.tracker(sender)
    assert tracker["slots"]["alternative_offered"] is True
    assert_never_thanked(replies)


def resolve_on_the_desk(kefu_env, sender):
    """What an agent's "resolved" does to the case (kefu.handoff.escalations.resolve)."""
    engine = create_engine(kefu_env["KEFU_DB_URL"], future=True)
    with engine.begin() as connection:
        connection.execute(text("UPDATE escalations SET status = 'resolved', resolved_at = :now "
                                "WHERE sender_id = :s"), {"now": datetime.now(), "s": sender})
    engine.dispose()


def test_a_rating_in_words_after_a_hand_off_is_accepted(servers, kefu_env):
    sender, replies, tracker = talk(servers, "rate-after", ["转人工"])
    assert tracker["paused"] is True
    resolve_on_the_desk(kefu_env, sender)
    status, _ = servers.post(f"/conversations/{sender}/execute?token={servers.token}",
                             {"name": "action_handoff_resume"})
    assert status == 200
    answer = servers.say(sender, "不太满意，等了好久才有人理")
    tracker = servers.tracker(sender)
    assert tracker["paused"] is False
    assert_never_thanked([answer])
    assert not any("没能准确理解" in (reply.get("text") or "") for reply in answer)
    (case,) = escalations_of(kefu_env["KEFU_DB_URL"], sender)
    assert case["satisfaction"] == 2
