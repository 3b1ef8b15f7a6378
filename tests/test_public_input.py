"""Public inputs refuse what a stranger should not send: 4xx with a Chinese reason, never 5xx.

The channels run in a small Sanic app with a fake bot (tests/channel_harness.py); the
last tests send the same bodies to the real Rasa server of tests/conftest.py.
"""
import asyncio
import json
import time
import uuid

import aiohttp
import pytest
import socketio
from rasa.core.lock_store import LockError

from kefu.channels import public_input
from kefu.channels.public_input import TEXTS, Refused
from kefu.channels.rest import ADDRESS_KEY, BUSY_TEXT, FAILURE_TEXT, MESSAGE_ID_KEY, RestInput
from kefu.channels.wechat import WeChatInput
from kefu.channels.wechat_config import WeChatConfig
from kefu.guard import check
from kefu.webchat.channel import WebChatInput
from tests.channel_harness import FakeBot, hang_up, run, serving
from tests.wechat_fake import WeChatPusher, sign, text_xml

MALFORMED = {
    "empty": b"",
    "null": b"null",
    "list": b"[]",
    "number": b"42",
    "string": b'"hello"',
    "not json": b"sender=x&message=y",
    "cut json": b'{"sender": "x", "message": ',
    "not utf-8": b'{"sender": "x", "message": "\xff\xfe"}',
    "no sender": b'{"message": "hi"}',
    "sender null": b'{"sender": null, "message": "hi"}',
    "sender number": b'{"sender": 12, "message": "hi"}',
    "sender object": b'{"sender": {"a": 1}, "message": "hi"}',
    "sender too long": json.dumps({"sender": "a" * 65, "message": "hi"}).encode(),
    "sender with slash": b'{"sender": "../../etc", "message": "hi"}',
    "sender chinese": json.dumps({"sender": "顾客", "message": "hi"}).encode(),
    "no message": b'{"sender": "x"}',
    "message null": b'{"sender": "x", "message": null}',
    "message list": b'{"sender": "x", "message": ["a"]}',
    "message number": b'{"sender": "x", "message": 5}',
    "message too long": json.dumps({"sender": "x", "message": "快" * 5001}).encode(),
    "message id number": b'{"sender": "x", "message": "hi", "message_id": 7}',
    "message id chinese": json.dumps({"sender": "x", "message": "hi", "message_id": "编号"}).encode(),
    "nul in message": b'{"sender": "x", "message": "a\\u0000b"}',
    "lone surrogate": b'{"sender": "x", "message": "\\ud800"}',
    "metadata list": b'{"sender": "x", "message": "hi", "metadata": [1]}',
    "metadata huge": json.dumps({"sender": "x", "message": "hi", "metadata": {"a": "b" * 5000}}).encode(),
    "deep nesting": b'{"sender": "x", "message": "hi", "metadata": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    "huge body": b'{"sender": "x", "message": "' + b"a" * 200_000 + b'"}',
}


def test_every_refusal_text_passes_the_guard():
    for code, text in TEXTS.items():
        assert check(text.format(limit=5000)) == [], code


@pytest.mark.parametrize("sender", ["a", "wx_o6_uBs-fake:1.2@x", "a" * 64, uuid.uuid4().hex])
def test_plausible_sender_ids_pass(sender):
    assert public_input.sender_id(sender) == sender


@pytest.mark.parametrize("sender", ["", "a" * 65, "a b", "a/b", "顾客", None, 3, ["a"]])
def test_other_sender_ids_are_refused(sender):
    with pytest.raises(Refused) as refused:
        public_input.sender_id(sender)
    assert refused.value.status == 400


def test_rate_limit_counts_per_sender_and_per_address(monkeypatch):
    monkeypatch.setenv("KEFU_RATE_SENDER", "3/60")
    monkeypatch.setenv("KEFU_RATE_ADDRESS", "5/60")
    address, tag = f"10.0.0.{uuid.uuid4().int % 250}", uuid.uuid4().hex
    for _ in range(3):
        public_input.check_rate("t", address, f"one-{tag}")
    with pytest.raises(Refused) as refused:
        public_input.check_rate("t", address, f"one-{tag}")
    assert refused.value.status == 429 and "频繁" in refused.value.message
    public_input.check_rate("t", address, f"two-{tag}")  # address: 5th use
    with pytest.raises(Refused):
        public_input.check_rate("t", address, f"three-{tag}")  # address: 6th


def test_rate_limit_in_redis_is_shared(monkeypatch):
    """With KEFU_REDIS_URL the count is in Redis: a second process would see it."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (issue 17: tests use the real one)")
    monkeypatch.setenv("KEFU_REDIS_URL", url)
    monkeypatch.setenv("KEFU_RATE_SENDER", "2/60")
    sender = f"redis-{uuid.uuid4().hex}"
    public_input.check_rate("t", None, sender)
    public_input.check_rate("t", None, sender)
    with pytest.raises(Refused):
        public_input.check_rate("t", None, sender)
    assert int(redis.Redis.from_url(url).get(f"kefu:rate:kefu_rate_sender:t:{sender}")) == 3


# ------------------------------------------------------------------- REST webhook

async def post_all(base: str, bodies, content_type="application/json"):
    results = {}
    async with aiohttp.ClientSession() as session:
        for name, body in bodies.items():
            async with session.post(f"{base}/webhooks/rest/webhook", data=body,
                                    headers={"Content-Type": content_type}) as response:
                results[name] = (response.status, await response.text())
    return results


def test_rest_refuses_malformed_bodies_with_a_chinese_reason():
    bot = FakeBot()

    async def scenario():
        async with serving([RestInput()], bot) as base:
            return await post_all(base, MALFORMED)

    for name, (status, text) in run(scenario()).items():
        assert 400 <= status < 500, (name, status, text[:200])
        answer = json.loads(text)
        assert answer["message"] in [t.format(limit=5000) for t in TEXTS.values()], name
    assert bot.calls == []  # nothing reached the bot


def test_rest_passes_a_good_message_on_with_the_callers_address():
    bot = FakeBot()
    body = json.dumps({"sender": "good-1", "message": "快递三天没到",
                       "metadata": {"page": "订单页", "kefu_from": "agent"}, "input_channel": "wechat"})

    async def scenario():
        async with serving([RestInput()], bot) as base:
            return await post_all(base, {"good": body.encode()})

    status, text = run(scenario())["good"]
    assert status == 200
    assert json.loads(text) == [{"recipient_id": "good-1", "text": "收到：快递三天没到"}]
    [message] = bot.calls
    assert message.input_channel == "rest"  # the body cannot pose as another channel
    assert message.metadata == {"page": "订单页", ADDRESS_KEY: "127.0.0.1"}  # no forged kefu_ mark


def test_rest_passes_the_clients_message_id_on_for_resends():
    bot = FakeBot()
    body = json.dumps({"sender": "good-2", "message": "快递三天没到", "message_id": "a1b2-c3"})

    async def scenario():
        async with serving([RestInput()], bot) as base:
            return await post_all(base, {"good": body.encode()})

    assert run(scenario())["good"][0] == 200
    [message] = bot.calls
    assert message.message_id == "a1b2-c3"
    assert message.metadata == {ADDRESS_KEY: "127.0.0.1", MESSAGE_ID_KEY: "a1b2-c3"}


def test_rest_answers_429_in_chinese_beyond_the_sender_limit(monkeypatch):
    monkeypatch.setenv("KEFU_RATE_SENDER", "2/60")
    sender = f"fast-{uuid.uuid4().hex[:8]}"
    bodies = {i: json.dumps({"sender": sender, "message": f"第{i}条"}).encode() for i in range(4)}
    bot = FakeBot()

    async def scenario():
        async with serving([RestInput()], bot) as base:
            return await post_all(base, bodies)

    results = run(scenario())
    assert [results[i][0] for i in range(4)] == [200, 200, 429, 429]
    assert json.loads(results[2][1])["message"] == TEXTS["too_fast"]
    assert [call.text for call in bot.calls] == ["第0条", "第1条"]


@pytest.mark.parametrize("error, answer", [(RuntimeError("boom"), FAILURE_TEXT), (LockError("busy"), BUSY_TEXT)],
                         ids=["the bot fails", "the conversation stays locked"])
def test_rest_answers_when_the_bot_cannot_take_the_message(error, answer):
    def fail(text):
        raise error

    async def scenario():
        async with serving([RestInput()], FakeBot(fail)) as base:
            return await post_all(base, {"x": b'{"sender": "crash-1", "message": "hi"}'})

    status, text = run(scenario())["x"]
    assert status == 200 and json.loads(text)[0]["text"] == answer
    assert check(answer) == []


# ------------------------------------------------------------------------ web chat

def webchat_channel() -> WebChatInput:
    return WebChatInput(user_message_evt="user_uttered", bot_message_evt="bot_uttered",
                        session_persistence=True)


async def webchat_exchange(base: str, payloads: list, wait: float = 0.3) -> list:
    client = socketio.AsyncClient(reconnection=False)
    received = []
    client.on("bot_uttered", lambda data: received.append(data))
    await client.connect(base, socketio_path="/socket.io", transports=["polling"])
    try:
        for payload in payloads:
            await client.emit("user_uttered", payload)
        await asyncio.sleep(wait)
        return received
    finally:
        await hang_up(client)


def test_webchat_refuses_malformed_messages_and_passes_good_ones():
    bot = FakeBot()
    session = uuid.uuid4().hex
    bad = [None, [], "text", 5, {"message": "hi"}, {"message": "hi", "session_id": "wechat-openid"},
           {"message": ["a"], "session_id": session}, {"message": "快" * 5001, "session_id": session},
           {"message": "hi", "session_id": session, "metadata": "not json"},
           {"message": "hi", "session_id": session, "metadata": "{\"a\": \"\ud800\"}"},
           {"message": "\ud800", "session_id": session}]

    async def scenario():
        async with serving([webchat_channel()], bot) as base:
            return await webchat_exchange(base, bad + [{"message": "你好", "session_id": session}])

    received = run(scenario())
    refused = [r for r in received if r.get("refused")]
    assert len(refused) == len(bad)
    assert all(400 <= r["refused"] < 500 and check(r["text"]) == [] for r in refused)
    assert [(call.sender_id, call.text) for call in bot.calls] == [(session, "你好")]


def test_webchat_answers_when_the_bot_fails_or_the_conversation_stays_locked():
    def fail(text):
        raise LockError("busy") if text == "刷屏" else RuntimeError("boom")

    session = uuid.uuid4().hex

    async def scenario():
        async with serving([webchat_channel()], FakeBot(fail)) as base:
            return await webchat_exchange(base, [{"message": "刷屏", "session_id": session},
                                                 {"message": "你好", "session_id": session}])

    received = run(scenario())
    assert [r["text"] for r in received] == [BUSY_TEXT, FAILURE_TEXT]
    assert check(BUSY_TEXT) == [] and not any(r.get("refused") for r in received)


def test_a_post_to_a_socketio_session_closed_meanwhile_is_a_400():
    """Engine.IO raises KeyError when a POST names a session that closed a moment before."""
    from kefu.webchat.channel import CLOSED_SESSION_TEXT

    channel = webchat_channel()

    async def scenario():
        async with serving([channel], FakeBot()) as base:
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(base, socketio_path="/socket.io", transports=["polling"])
            sid = client.eio.sid
            channel.sio.eio.sockets[sid].closed = True  # the race: still listed, already closed
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{base}/socket.io/", params={"EIO": "4", "transport": "polling",
                                                                      "sid": sid}, data=b"42[]") as answer:
                    status, body = answer.status, await answer.json()
            await hang_up(client)
            return status, body

    status, body = run(scenario())
    assert status == 400 and body["message"] == CLOSED_SESSION_TEXT
    assert check(CLOSED_SESSION_TEXT) == []


# -------------------------------------------------------------------------- WeChat

TOKEN, APP_ID = "abuse_test_token", "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def wechat_channel() -> WeChatInput:
    return WeChatInput(WeChatConfig(token=TOKEN, app_id=APP_ID, encoding_aes_key=AES_KEY,
                                    reply_timeout=0.5))


async def wechat_post(base: str, query: dict, xml: str):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/webhooks/wechat/webhook", params=query, data=xml.encode(),
                                headers={"Content-Type": "text/xml"}) as response:
            return response.status, await response.text()


def signed(timestamp: int, nonce: str, token: str = TOKEN) -> dict:
    return {"signature": sign(token, str(timestamp), nonce), "timestamp": str(timestamp), "nonce": nonce}


def test_wechat_refuses_replays_and_wrong_signatures():
    bot = FakeBot()
    now = int(time.time())

    async def scenario():
        async with serving([wechat_channel()], bot) as base:
            fresh = signed(now, uuid.uuid4().hex[:10])
            first = await wechat_post(base, fresh, text_xml("o-replay", "发错货了"))
            replayed = await wechat_post(base, fresh, text_xml("o-replay", "发错货了"))
            stale = await wechat_post(base, signed(now - 3600, uuid.uuid4().hex[:10]),
                                      text_xml("o-replay", "旧消息"))
            future = await wechat_post(base, signed(now + 3600, uuid.uuid4().hex[:10]),
                                       text_xml("o-replay", "未来的消息"))
            wrong = await wechat_post(base, signed(now, uuid.uuid4().hex[:10], token="not-the-token"),
                                      text_xml("o-replay", "伪造"))
            unsigned = await wechat_post(base, {}, text_xml("o-replay", "没签名"))
            return first, replayed, stale, future, wrong, unsigned

    first, *refused = run(scenario())
    assert first[0] == 200 and "发错货了" in first[1]
    assert [status for status, _ in refused] == [403] * 5
    assert [call.text for call in bot.calls] == ["发错货了"]


def test_wechat_customer_sending_too_fast_gets_a_chinese_passive_reply(monkeypatch):
    monkeypatch.setenv("KEFU_RATE_SENDER", "1/60")
    bot = FakeBot()
    openid = f"o-fast-{uuid.uuid4().hex[:8]}"

    async def scenario():
        async with serving([wechat_channel()], bot) as base:
            async with WeChatPusher(f"{base}/webhooks/wechat/webhook", TOKEN, APP_ID, AES_KEY) as wechat:
                return [await wechat.push(text_xml(openid, text)) for text in ("第一条", "第二条")]

    first, second = run(scenario())
    assert first.status == second.status == 200
    assert second.content == TEXTS["too_fast"]
    assert [call.text for call in bot.calls] == ["第一条"]


# ------------------------------------------------------------- the real Rasa server

def test_real_server_refuses_malformed_bodies_and_goes_on(servers):
    for name, body in MALFORMED.items():
        status, answer = servers.post("/webhooks/rest/webhook", body, raw=True)
        assert 400 <= status < 500, (name, status)
        assert json.loads(answer)["message"], name
    sender = f"after-bad-{uuid.uuid4().hex[:8]}"
    assert servers.say(sender, "我买的耳机坏了")


def test_real_server_answers_a_resent_message_id_without_handling_it_twice(servers):
    sender = f"resend-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "我买的耳机坏了，左耳没声音", "message_id": uuid.uuid4().hex}
    first_status, first = servers.post("/webhooks/rest/webhook", body)
    again_status, again = servers.post("/webhooks/rest/webhook", body)
    assert first_status == again_status == 200
    assert first and [reply.get("text") for reply in again] == [reply.get("text") for reply in first]
    users = [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert [e["text"] for e in users] == ["我买的耳机坏了，左耳没声音"]
    assert users[0]["message_id"] == body["message_id"]
    # a new id is a new message
    status, _ = servers.post("/webhooks/rest/webhook", dict(body, message_id=uuid.uuid4().hex))
    assert status == 200
    assert len([e for e in servers.tracker(sender)["events"] if e["event"] == "user"]) == 2
