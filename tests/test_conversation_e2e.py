"""Complete complaints through the real Rasa server, action server and database.

Each conversation goes over the REST webhook as a customer would send it; the tracker
(read through the token-protected HTTP API) must show the six steps in order, and the
ticket the bot promised must exist in the database with that deadline.
"""
import json
import subprocess
import sys
import uuid
from datetime import datetime

import pytest

from kefu.complaint import STEPS

pytestmark = pytest.mark.usefixtures("servers")


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def texts(replies) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def step_values(tracker: dict) -> list:
    return [event["value"] for event in tracker["events"]
            if event.get("event") == "slot" and event.get("name") == "complaint_step" and event.get("value")]


def slot(tracker: dict, name: str):
    return tracker["slots"].get(name)


def ticket_rows(kefu_env, sender: str) -> list:
    result = subprocess.run([sys.executable, "-m", "kefu.store", "tickets", "--sender", sender, "--json"],
                            env=kefu_env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


FIRST_BUTTON = "<press the first button>"

COMPLAINTS = [
    # (category, messages): each message is what a customer types or a button payload.
    ("quality", ["你们这什么破杯子", "收到盖子就是裂的，一倒水全漏桌上了😡", "kf20261101", "13800000001",
                 "前天到的", "换个新的吧", "/affirm", '/inform{"remedy":"replace"}', '/rate{"rating":"5"}']),
    ("delivery", ["我的羽绒服八天了物流一动不动！！！", "没了", "KF20261103", "13800000003",
                  "上周下的单", "给我补发", "/affirm", '/inform{"remedy":"resend"}', '/rate{"rating":"4"}']),
    ("billing", ["退款一个多星期了还没到账", "钱到底去哪了", "订单KF20261106 手机13800000006",
                 "退货是上个月底", "就是要把钱退给我", "/affirm", FIRST_BUTTON,
                 '/rate{"rating":"5"}']),
]


@pytest.mark.parametrize("category,messages", COMPLAINTS, ids=[c for c, _ in COMPLAINTS])
def test_complete_complaint_walks_the_six_steps_to_a_ticket(servers, kefu_env, category, messages):
    sender = new_sender(category)
    replies = []
    for message in messages:
        if message == FIRST_BUTTON:
            message = next(reply["buttons"][0]["payload"] for reply in replies if reply.get("buttons"))
        replies = servers.say(sender, message)
        assert replies, f"no reply to {message!r}"
    tracker = servers.tracker(sender)
    steps = step_values(tracker)
    assert [step for step in steps if step in STEPS][:6] == list(STEPS), steps

    rows = ticket_rows(kefu_env, sender)
    open_tickets = [row for row in rows if row["status"] != "cancelled"]
    assert len(open_tickets) == 1, rows
    ticket = open_tickets[0]
    assert ticket["category"] == category
    assert ticket["satisfaction"] in (4, 5)
    assert ticket["root_cause"]
    deadline = datetime.fromisoformat(ticket["deadline"])
    closing = texts(replies)
    assert ticket["id"] in closing and ticket["promise"] in closing
    assert deadline.strftime("%m月%d日 %H:%M") in closing


def test_every_message_and_reply_is_stored_once(servers):
    """Later turns run on the conversation kefu.tracker_store kept in memory; the database
    (the tracker API reads it) must still hold each message and each reply exactly once."""
    sender = new_sender("memory")
    sent, answered = ["快递一直不到，急死了", "都一个礼拜了", "没了", "KF20261103", "13800000003",
                      "上周下的单", "给我补发"], []
    for message in sent:
        answered += [reply.get("text") for reply in servers.say(sender, message)]
    events = servers.tracker(sender)["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == sent
    assert [e.get("text") for e in events if e["event"] == "bot"] == answered
    assert len(answered) >= len(sent)


def test_listen_does_not_ask_for_the_order_first(servers):
    sender = new_sender("listen")
    first = texts(servers.say(sender, "我买的耳机收到就坏了"))
    assert "订单号" not in first
    assert slot(servers.tracker(sender), "complaint_step") == "listen"


def test_facts_given_at_once_are_not_asked_again(servers):
    sender = new_sender("allatonce")
    # a whole account at once: no "还有别的情况想补充吗？", and nothing it said is asked again
    replies = texts(servers.say(sender, "订单KF20261103的羽绒服丢了，圆通八天没动静，我要补发"))
    assert "订单号" not in replies and "补充" not in replies and "手机号" in replies
    tracker = servers.tracker(sender)
    assert slot(tracker, "order_id") == "KF20261103"
    assert slot(tracker, "wished_remedy") == "resend"
    assert slot(tracker, "requested_slot") == "contact_phone"


def test_order_of_another_phone_is_not_revealed(servers):
    sender = new_sender("privacy")
    servers.say(sender, "我买的东西坏了")
    servers.say(sender, "没了")
    servers.say(sender, "KF20261104")
    replies = texts(servers.say(sender, "13911112222"))
    assert "对不上" in replies
    assert "连衣裙" not in replies and "刘洋" not in replies
    assert slot(servers.tracker(sender), "order_id") is None


def test_off_topic_in_the_middle_returns_to_the_step(servers):
    sender = new_sender("digress")
    servers.say(sender, "快递一直不到，急死了")
    servers.say(sender, "没了")
    asked = slot(servers.tracker(sender), "requested_slot")
    replies = texts(servers.say(sender, "今天天气怎么样"))
    assert "帮不上忙" in replies
    tracker = servers.tracker(sender)
    assert tracker["active_loop"].get("name") == "complaint_form"
    assert slot(tracker, "requested_slot") == asked


def test_give_up_closes_politely_and_is_recorded(servers, kefu_env):
    sender = new_sender("giveup")
    servers.say(sender, "你们的客服态度太差了")
    servers.say(sender, "问两句就挂我电话")
    replies = texts(servers.say(sender, "算了，不想说了"))
    assert "尊重您的决定" in replies
    rows = ticket_rows(kefu_env, sender)
    assert rows and rows[0]["status"] == "cancelled"
    assert not servers.tracker(sender)["active_loop"].get("name")


def test_progress_of_an_existing_ticket(servers):
    sender = new_sender("progress")
    first = texts(servers.say(sender, "KF20261110的工单处理到哪了"))
    assert "工单T" not in first and "手机号" in first  # ticket details only after the phone matches
    replies = texts(servers.say(sender, "13800000010"))
    assert "工单T" in replies and "处理" in replies


ODD_MESSAGES = {"empty": "", "blank": "   ", "emoji": "😡😡😡",
                "english": "My order never arrived, I want a refund!", "5000 chars": "快递没到" * 1250}


@pytest.mark.parametrize("text", ODD_MESSAGES.values(), ids=ODD_MESSAGES.keys())
def test_odd_messages_get_a_reply_and_the_conversation_goes_on(servers, text):
    sender = new_sender("odd")
    status, replies = servers.post("/webhooks/rest/webhook", {"sender": sender, "message": text})
    assert status == 200
    assert replies and all(reply.get("text") for reply in replies)
    status, _ = servers.post("/webhooks/rest/webhook", {"sender": sender, "message": "你好"})
    assert status == 200
    tracker = servers.tracker(sender)
    assert tracker["latest_message"]["text"] == "你好"  # nothing lost
    if tracker["paused"]:  # handed to a person: the message waits for the agent
        assert "action_handoff" in [e.get("name") for e in tracker["events"] if e["event"] == "action"]


def test_malformed_json_is_a_client_error(servers):
    status, _ = servers.post("/webhooks/rest/webhook", b'{"sender": "x", "message": ', raw=True)
    assert 400 <= status < 500


def test_unknown_sender_halfway_through_a_form_gets_a_clear_answer(servers):
    replies = texts(servers.say(new_sender("stranger"), '/inform{"remedy":"refund"}'))
    assert "什么问题" in replies or "具体情况" in replies


def test_rising_anger_marks_the_conversation_and_a_person_takes_over(servers):
    sender = new_sender("anger")
    servers.say(sender, "我买的耳机有点问题")
    servers.say(sender, "都坏了好几天了，你们到底管不管！")
    servers.say(sender, "再不给我解决我就去12315投诉你们！！！曝光你们！")
    tracker = servers.tracker(sender)
    marks = [e for e in tracker["events"] if e.get("event") == "slot" and e.get("name") == "needs_human"]
    assert any(mark["value"] is True for mark in marks)
    reasons = {e["value"] for e in tracker["events"]
               if e.get("event") == "slot" and e.get("name") == "needs_human_reason" and e["value"]}
    assert "threat" in reasons
    actions = [e.get("name") for e in tracker["events"] if e.get("event") == "action"]
    assert "action_handoff" in actions
    assert tracker["events"][-1]["event"] == "pause" or any(e["event"] == "pause" for e in tracker["events"])
    emotions = [e["value"] for e in tracker["events"] if e.get("event") == "slot" and e.get("name") == "emotion"]
    assert emotions[-1] == "angry"
