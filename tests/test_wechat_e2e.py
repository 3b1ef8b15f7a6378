"""The WeChat channel end to end: the REAL Rasa server, action server and desk.

`tests/wechat_fake.py` plays WeChat: `WeChatPusher` posts signed (and in safe mode
encrypted) customer messages to Rasa's `/webhooks/wechat/webhook`, exactly like WeChat's
servers, and `FakeWeChatApi` is WeChat's API on the loopback port that `tests/conftest.py`
gave the Rasa server as WECHAT_API_BASE_URL (with WECHAT_APP_ID/SECRET/AES_KEY).

What a customer sees of a turn is the passive XML reply, plus anything the channel pushed
through the customer-service API (answers slower than WeChat's 5-second window, extra
messages, an agent's replies).
"""
import asyncio
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional
from urllib.parse import urlparse

import pytest
from aiohttp import web
from e2e.desk_server import DeskProcess, escalations_of, set_agents_offline, wait_for

from tests.wechat_fake import FakeWeChatApi, PushResult, WeChatPusher, new_msg_id, openid, text_xml

STEPS = ["listen", "share", "probe", "check", "action", "satisfy"]
PASSWORD = "wechat-desk-pass"


# ----------------------------------------------------------------- fake WeChat API


class ApiThread:
    """FakeWeChatApi served from its own event loop in a background thread, on the port
    the Rasa server was told (WECHAT_API_BASE_URL)."""

    def __init__(self, api: FakeWeChatApi, port: int) -> None:
        self.api, self.port = api, port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(timeout=10)

    async def _serve(self) -> None:
        app = web.Application()
        # The fake's own handlers: they check app id/secret and access token like WeChat.
        app.router.add_get("/cgi-bin/token", self.api._token)
        app.router.add_post("/cgi-bin/message/custom/send", self.api._custom_send)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self.api._runner = runner
        self.api.base_url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="session")
def wechat_api(kefu_env):
    port = urlparse(kefu_env["WECHAT_API_BASE_URL"]).port
    api = FakeWeChatApi(kefu_env["WECHAT_APP_ID"], kefu_env["WECHAT_APP_SECRET"])
    serving = ApiThread(api, port)
    serving.start()
    yield api
    serving.stop()


@pytest.fixture
def wechat(servers, wechat_api):
    """Settings for a customer: the webhook and WeChat's secrets as the server knows them."""
    return WeChatSide(servers, wechat_api)


@dataclass
class WeChatSide:
    servers: object
    api: FakeWeChatApi

    @property
    def webhook(self) -> str:
        return self.servers.rasa_url + "/webhooks/wechat/webhook"

    def pusher(self) -> WeChatPusher:
        env = self.servers.env
        return WeChatPusher(self.webhook, env["WECHAT_TOKEN"], env["WECHAT_APP_ID"], env["WECHAT_AES_KEY"])

    def sent_to(self, customer: str) -> List[str]:
        """Texts the customer-service API delivered to this customer, in order."""
        return [message.content for message in list(self.api.sent) if message.touser == customer]


# ----------------------------------------------------------------- a customer


@dataclass
class Turn:
    text: str
    result: PushResult
    pushed: List[str]

    @property
    def seen(self) -> str:
        """All the customer saw for this turn."""
        return "\n".join(([self.result.content] if self.result.content else []) + self.pushed)


@dataclass
class Customer:
    wechat: WeChatSide
    pusher: WeChatPusher
    id: str = field(default_factory=openid)
    turns: List[Turn] = field(default_factory=list)

    async def say(self, text: str, *, safe: bool = False, msg_id: Optional[int] = None,
                  expect_answer: bool = True) -> Turn:
        before = len(self.wechat.sent_to(self.id))
        result = await self.pusher.push(text_xml(self.id, text, msg_id=msg_id), safe=safe)
        assert result.status == 200, (text, result.status, result.body)
        pushed = await self._pushed_after(before, wait=expect_answer and not result.content)
        turn = Turn(text, result, pushed)
        self.turns.append(turn)
        if expect_answer:
            assert turn.seen, f"no answer to {text!r}"
        return turn

    async def _pushed_after(self, before: int, wait: bool, timeout: float = 40.0) -> List[str]:
        """Pushed messages after `before`; when the passive reply was empty, waits for the
        answer to come through the API and for the turn's messages to stop coming."""
        deadline = time.monotonic() + timeout
        if wait:
            while len(self.wechat.sent_to(self.id)) == before and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            count = -1
            while count != len(self.wechat.sent_to(self.id)) and time.monotonic() < deadline:
                count = len(self.wechat.sent_to(self.id))
                await asyncio.sleep(1.5)  # the channel's follow-up delay is 1 s
        return self.wechat.sent_to(self.id)[before:]


def run(scenario):
    return asyncio.run(scenario())


# ----------------------------------------------------------------- reading answers


def options(text: str) -> Dict[str, int]:
    """The numbered options of the last "回复 1 对的 / 2 不对，要改" line: title -> number."""
    lines = [line for line in text.splitlines() if line.startswith("回复 ")]
    assert lines, f"no numbered options in {text!r}"
    found = {}
    for option in lines[-1][len("回复 "):].split(" / "):
        number, title = option.split(" ", 1)
        found[title] = int(number)
    return found


def user_events(tracker: dict) -> List[dict]:
    return [event for event in tracker["events"] if event.get("event") == "user"]


def step_values(tracker: dict) -> List[str]:
    return [event["value"] for event in tracker["events"]
            if event.get("event") == "slot" and event.get("name") == "complaint_step" and event.get("value")]


def ticket_rows(env: dict, sender: str) -> List[dict]:
    done = subprocess.run([sys.executable, "-m", "kefu.store", "tickets", "--sender", sender, "--json"],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def handled_once_each(tracker: dict, texts: List[str]) -> List[str]:
    """User texts of the tracker; fails unless each of `texts` is there exactly once and
    each user message was followed by the bot's turn (an action before the next one)."""
    events = tracker["events"]
    said = [event["text"] for event in user_events(tracker)]
    for text in texts:
        assert said.count(text) == 1, (text, said)
    for index, event in enumerate(events):
        if event.get("event") == "user":
            rest = events[index + 1:]
            following = next((i for i, e in enumerate(rest) if e.get("event") == "user"), len(rest))
            assert any(e.get("event") == "action" and e.get("name") != "action_listen"
                       for e in rest[:following]), f"{event['text']!r} was not processed"
    return said


# ----------------------------------------------------------------- tests


def test_a_complaint_over_wechat_walks_the_six_steps_to_a_ticket(wechat, servers):
    """Plaintext turns and one safe-mode turn; buttons as numbers, numbers as buttons."""

    async def scenario():
        async with wechat.pusher() as pusher:
            customer = Customer(wechat, pusher)
            for text in ["你们这什么破杯子", "收到盖子就是裂的，一倒水全漏桌上了😡", "kf20261101"]:
                await customer.say(text)
            safe = await customer.say("13800000001", safe=True)  # encrypted both ways
            for text in ["前天到的", "换个新的吧"]:
                await customer.say(text)
            check = customer.turns[-1].seen
            assert "KF20261101" in check and "我这样理解对吗" in check
            confirm = await customer.say(str(options(check)["对的"]))
            remedies = options(confirm.seen)
            (replace,) = [number for title, number in remedies.items() if title.startswith("换货")]
            ticket_turn = await customer.say(str(replace))
            rating = options(ticket_turn.seen)
            assert list(rating.values()) == [1, 2, 3, 4, 5], rating
            closing = await customer.say(str(rating["5分 非常满意"]))
            return customer, safe, closing

    customer, safe, closing = run(scenario)

    # Safe mode: the reply went back encrypted, and decrypted (signature checked) by WeChat.
    assert "<Encrypt>" in safe.result.body and "为了" not in safe.result.body
    assert safe.result.reply["ToUserName"] == customer.id and safe.result.content
    # The passive XML replies carried the bot's answers.
    passive = [turn for turn in customer.turns if turn.result.content]
    assert len(passive) >= len(customer.turns) - 2, [(t.text, t.result.body, t.pushed) for t in customer.turns]
    for turn in passive:
        assert turn.result.reply["MsgType"] == "text" and turn.result.reply["ToUserName"] == customer.id

    tracker = servers.tracker(customer.id)
    steps = step_values(tracker)
    assert [step for step in steps if step in STEPS][:6] == STEPS, steps
    users = user_events(tracker)
    assert len(users) == len(customer.turns)
    assert {event["input_channel"] for event in users} == {"wechat"}
    assert tracker["latest_input_channel"] == "wechat"
    # A typed number became the button's payload, with the button's title kept.
    assert users[-1]["text"] == '/rate{"rating":"5"}'
    assert users[-1]["metadata"]["button_title"] == "5分 非常满意"
    assert users[-1]["metadata"]["openid"] == customer.id
    assert users[-3]["text"] == "/affirm"

    (ticket,) = [row for row in ticket_rows(servers.env, customer.id) if row["status"] != "cancelled"]
    assert ticket["order_id"] == "KF20261101" and ticket["remedy"] == "replace"
    assert ticket["satisfaction"] == 5
    assert ticket["id"] in closing.seen


def test_a_message_retried_three_times_at_once_is_processed_once(wechat, servers):
    async def scenario():
        async with wechat.pusher() as pusher:
            customer = Customer(wechat, pusher)
            msg_id = new_msg_id()
            xml = text_xml(customer.id, "我买的耳机收到就坏了", msg_id=msg_id)
            results = await asyncio.gather(*(pusher.push(xml) for _ in range(3)))
            late_retry = await pusher.push(xml)  # after the turn is over
            await asyncio.sleep(2)  # anything pushed late would have arrived
            return customer, msg_id, results, late_retry

    customer, msg_id, results, late_retry = run(scenario)
    assert [result.status for result in results] == [200, 200, 200]
    answers = {result.content for result in results + [late_retry]} - {None}
    assert len(answers) == 1, answers  # every retry carries the same (single) answer
    users = user_events(servers.tracker(customer.id))
    assert [(event["text"], event["message_id"]) for event in users] == [("我买的耳机收到就坏了", str(msg_id))]
    if answers:  # answered passively: nothing went out a second time through the API
        assert wechat.sent_to(customer.id) == []
    else:
        assert len(wechat.sent_to(customer.id)) >= 1


def test_two_messages_at_once_are_both_processed_in_order(wechat, servers):
    first, second = "我买的耳机收到就坏了", "订单号是KF20261102"

    async def scenario():
        async with wechat.pusher() as pusher:
            customer = Customer(wechat, pusher)

            async def later(text, delay):
                await asyncio.sleep(delay)
                return await pusher.push(text_xml(customer.id, text))

            # The second leaves 0.05 s after the first, while the first is still running.
            results = await asyncio.gather(later(first, 0), later(second, 0.05))
            await asyncio.sleep(2)
            return customer, results

    customer, results = run(scenario)
    assert [result.status for result in results] == [200, 200]
    tracker = servers.tracker(customer.id)
    said = handled_once_each(tracker, [first, second])
    assert said == [first, second]
    # Both turns were answered (passively or, if slow, through the API).
    answered = [result for result in results if result.content]
    assert len(answered) + min(len(wechat.sent_to(customer.id)), 2) >= 2
    assert tracker["slots"]["order_id"] == "KF20261102"  # the second was read after the first


def test_a_burst_of_messages_loses_nothing(wechat, servers):
    texts = ["快递一直不到，急死了", "订单KF20261103", "手机13800000003"]

    async def scenario():
        async with wechat.pusher() as pusher:
            customer = Customer(wechat, pusher)
            results = await asyncio.gather(*(pusher.push(text_xml(customer.id, text)) for text in texts))
            return customer, results

    customer, results = run(scenario)
    assert [result.status for result in results] == [200, 200, 200]
    said = handled_once_each(servers.tracker(customer.id), texts)
    assert sorted(said) == sorted(texts)


# ----------------------------------------------------------------- hand-off


@pytest.fixture(scope="module")
def desk(servers, tmp_path_factory):
    process = DeskProcess(servers.env, servers.rasa_url, tmp_path_factory.mktemp("wechatdesk") / "desk.log")
    process.start()
    process.add_agent("wx_zhao", PASSWORD)
    yield process
    process.stop()
    set_agents_offline(servers.env["KEFU_DB_URL"])


def test_hand_off_over_wechat_agent_reply_and_rating_arrive_live(wechat, servers, desk):
    agent = desk.login("wx_zhao", PASSWORD)  # online: the customer is told the wait
    reply_text = "您好，我是客服小赵，这就帮您查订单KF20261102的耳机。"

    async def scenario():
        async with wechat.pusher() as pusher:
            customer = Customer(wechat, pusher)
            await customer.say("我买的耳机收到就坏了")
            handed = await customer.say("转人工")
            assert "人工客服" in handed.seen and "预计等待约" in handed.seen
            # Paused: no prediction, but the customer hears the message is kept.
            paused = await customer.say("订单是KF20261102，麻烦快点")
            assert "分钟" in paused.seen and "记" in paused.seen
            return customer

    customer = run(scenario)
    (case,) = escalations_of(servers.env["KEFU_DB_URL"], customer.id)
    assert case["channel"] == "wechat" and case["status"] != "resolved"
    assert servers.tracker(customer.id)["paused"] is True

    view = agent.get(f"/api/cases/{case['id']}").json()
    said = [line for line in view["transcript"] if line["text"] == "订单是KF20261102，麻烦快点"]
    assert len(said) == 1 and said[0]["while_paused"] is True
    base = len(wechat.sent_to(customer.id))  # what went through the API before the agent
    sent = agent.post(f"/api/cases/{case['id']}/reply", {"text": reply_text})
    assert sent.status_code == 201 and sent.json()["delivered"] is True
    # Live: the customer-service API received the agent's words for this openid.
    assert wait_for(lambda: wechat.sent_to(customer.id)[base:], timeout=15) == [reply_text]
    (delivered,) = [m for m in wechat.api.sent if m.touser == customer.id]
    assert delivered.raw["msgtype"] == "text"
    agent_event = [e for e in servers.tracker(customer.id)["events"] if e.get("event") == "bot"][-1]
    assert agent_event["text"] == reply_text and agent_event["metadata"]["agent"] == "wx_zhao"

    resolved = agent.post(f"/api/cases/{case['id']}/resolve", {"code": "solved"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    pushed = wait_for(lambda: wechat.sent_to(customer.id)[base + 1:]
                      if len(wechat.sent_to(customer.id)) >= base + 3 else None,
                      timeout=15)
    assert pushed, wechat.sent_to(customer.id)
    assert "人工客服已经处理完毕" in pushed[0]
    assert "打个分" in pushed[1] and list(options(pushed[1]).values()) == [1, 2, 3, 4, 5]
    assert servers.tracker(customer.id)["paused"] is False

    async def rate():
        async with wechat.pusher() as pusher:
            return await Customer(wechat, pusher, id=customer.id).say("5")  # the pushed buttons count

    rated = run(rate)
    assert "谢谢您的评价" in rated.seen
    assert escalations_of(servers.env["KEFU_DB_URL"], customer.id)[0]["satisfaction"] == 5
    last_user = user_events(servers.tracker(customer.id))[-1]
    assert last_user["text"] == '/rate{"rating":"5"}' and last_user["input_channel"] == "wechat"
