"""10,000 generated inputs to each public endpoint of the real server: 0 answers 5xx, 0 crashes.

A seeded generator (hypothesis is not in the venv) mixes what strangers and broken
clients send: random bytes, random JSON of any shape, the right keys with wrong types,
long and odd Unicode, forged and replayed WeChat requests, broken XML, and a few
well-formed messages of random text that go through the whole bot. A crash is the
server process gone, or a traceback in its log during the run; afterwards a normal
message must still get its normal answer. Set KEFU_FUZZ_SEED to replay a run.
"""
import asyncio
import json
import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests.channel_harness import hang_up
from tests.wechat_fake import sign

INPUTS = 10_000
CONCURRENCY = 16
WELL_FORMED = 0.02  # share of inputs that reach the bot (each is a real turn: slow)
SEED = int(os.environ.get("KEFU_FUZZ_SEED") or 20261205)

ODD_TEXT = ["", " ", "\x00", "\ud800", "\u202e反转", "😡" * 50, "快递没到", "转人工", "/restart",
            "/inform{\"order_id\": ", "/", "/affirm", "<script>alert(1)</script>", "' OR 1=1 --",
            "${jndi:ldap://x}", "%s%s%n", "\\u0000", "]]>", "<![CDATA[", "a" * 70_000]


def random_text(rng: random.Random, limit: int = 200) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return rng.choice(ODD_TEXT)
    if kind == 1:
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(0, limit)))
    if kind == 2:
        return "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, limit)))
    if kind == 3:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 _-.:@/\\\"'{}[]")
                       for _ in range(rng.randint(0, limit)))
    return rng.choice(["我的快递三天没到", "耳机坏了要退货", "退款还没到账", "你们客服怎么回事", "订单KF20261101"])


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 1.5, 1e308, -0.0])
    if kind in (3, 4, 5):
        return random_text(rng, 80)
    if kind in (6, 7):
        return {random_text(rng, 10): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def random_sender(rng: random.Random):
    return rng.choice([f"fuzz-{rng.randrange(10**9)}", random_value(rng), "a" * rng.choice([64, 65, 5000]),
                       "../" * 3, "顾客", "", None, 7])


def rest_body(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < WELL_FORMED:
        return json.dumps({"sender": f"fuzz-ok-{rng.randrange(10**9)}", "message": random_text(rng)[:300]},
                          ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    if kind < 0.2:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    if kind < 0.35:
        return json.dumps(random_value(rng)).encode("utf-8", "surrogatepass")
    if kind < 0.4:
        return rng.choice([b"", b"null", b"[]", b"{}", b"{", b'{"sender":', b"[" * 5000, b"1e999999"])
    body = {"sender": random_sender(rng), "message": random_value(rng) if rng.random() < 0.5 else random_text(rng)}
    if rng.random() < 0.3:
        body["metadata"] = random_value(rng)
    if rng.random() < 0.2:
        body[random_text(rng, 10)] = random_value(rng)
    return json.dumps(body).encode("utf-8", "surrogatepass")


def wechat_xml(rng: random.Random) -> str:
    fields = {"ToUserName": "gh_fuzz", "FromUserName": rng.choice([f"o{rng.randrange(10**12)}", random_text(rng, 30)]),
              "CreateTime": rng.choice([int(time.time()), "x", -1, 2**70]),
              "MsgType": rng.choice(["text", "voice", "image", "event", "location", "link", random_text(rng, 8)]),
              "MsgId": rng.choice([rng.randrange(10**18), "abc", ""])}
    for key in rng.sample(["Content", "Recognition", "Event", "EventKey", "PicUrl", "Location_X"], rng.randint(0, 3)):
        fields[key] = random_text(rng, 100)
    nodes = "".join(f"<{k}><![CDATA[{v}]]></{k}>" if rng.random() < 0.7 else f"<{k}>{v}</{k}>"
                    for k, v in fields.items())
    return "<xml>" + nodes + "</xml>"


def wechat_request(rng: random.Random, token: str):
    """(query, body, content type) of one generated WeChat push."""
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    kind = rng.random()
    if kind < WELL_FORMED:
        xml = (f"<xml><ToUserName>gh_fuzz</ToUserName><FromUserName>o-fuzz-{rng.randrange(10**9)}</FromUserName>"
               f"<CreateTime>{timestamp}</CreateTime><MsgType>text</MsgType>"
               f"<Content><![CDATA[{random_text(rng, 100).replace(']]>', '')}]]></Content>"
               f"<MsgId>{rng.randrange(10**18)}</MsgId></xml>")
        body = xml.encode("utf-8", "surrogatepass")
    elif kind < 0.3:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    elif kind < 0.4:
        body = rng.choice([b"", b"<xml>", b"<xml></xml>", b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>",
                           b"<xml><Encrypt>AAAA</Encrypt></xml>", b"<" * 10000])
    else:
        body = wechat_xml(rng).encode("utf-8", "surrogatepass")
    query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    roll = rng.random()
    if roll < 0.1:
        query["signature"] = random_text(rng, 40)
    elif roll < 0.15:
        query["timestamp"] = rng.choice(["", "x", str(int(time.time()) - 10_000), "9" * 30])
    elif roll < 0.2:
        query = {}
    elif roll < 0.3:
        query.update(encrypt_type="aes", msg_signature=random_text(rng, 40))
    elif roll < 0.35:
        query[random_text(rng, 5)] = random_text(rng, 20)
    content_type = rng.choice(["text/xml", "text/xml", "application/xml", "application/json", "", "text/plain"])
    return query, body, content_type


def server_log(tmp_path_factory) -> Path:
    """The session Rasa server's log (tests/conftest.py writes it to a `logs` folder)."""
    logs = sorted(Path(tmp_path_factory.getbasetemp()).glob("logs[0-9]*/rasa.log"))
    assert logs, "no log of the session's Rasa server"
    return logs[0]


# What the server writes when an input broke something it did not handle. (A traceback
# alone is not one: pushing an answer to WeChat's API, faked and not running here, fails
# and is logged with its traceback, as it should be.)
CRASH_MARKS = ("Exception occurred while handling uri",  # Sanic: an unhandled error, a 500
               "Task exception was never retrieved",  # a socket.io handler that raised
               "post request handler error", "Exception in handler",  # Engine.IO / Socket.IO
               "Encountered an exception while running action",  # Rasa's processor
               "REST message of",  # kefu.channels.rest: the bot failed on a message
               "The bot failed on WeChat message",  # kefu.channels.wechat
               "The bot failed on web chat message")  # kefu.webchat.channel


def tracebacks(log: Path) -> int:
    text = log.read_text(errors="replace")
    return sum(text.count(mark) for mark in CRASH_MARKS)


async def send_all(requests, send) -> Counter:
    statuses: Counter = Counter()
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(request):
        async with limit:
            statuses[await send(request)] += 1

    await asyncio.gather(*(one(request) for request in requests))
    return statuses


def assert_still_answers(servers):
    replies = servers.say(f"after-fuzz-{uuid.uuid4().hex[:8]}", "我买的耳机收到就坏了")
    assert replies and all(reply.get("text") for reply in replies)


def report(name: str, statuses: Counter, seconds: float) -> None:
    print(f"\nfuzz {name}: {sum(statuses.values())} inputs in {seconds:.0f} s, statuses {dict(sorted(statuses.items()))}")


@pytest.fixture
def log(servers, tmp_path_factory):
    path = server_log(tmp_path_factory)
    before = tracebacks(path)
    yield path
    assert tracebacks(path) == before, path.read_text(errors="replace")[-5000:]


def test_fuzz_rest_webhook(servers, log):
    rng = random.Random(SEED)
    bodies = [rest_body(rng) for _ in range(INPUTS)]
    url = f"{servers.rasa_url}/webhooks/rest/webhook"

    async def main():
        # a new connection per request: a kept-alive one may be closed by the server's
        # keep-alive timeout while the next request is written (a reset, not a crash)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120),
                                         connector=aiohttp.TCPConnector(force_close=True)) as session:
            async def send(body):
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                    await response.read()
                    return response.status
            return await send_all(bodies, send)

    start = time.monotonic()
    statuses = asyncio.run(main())
    report("REST", statuses, time.monotonic() - start)
    assert sum(statuses.values()) == INPUTS
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses[200] > 0 and any(400 <= status < 500 for status in statuses)
    assert_still_answers(servers)


def test_fuzz_wechat_webhook(servers, log):
    rng = random.Random(SEED + 1)
    requests = [wechat_request(rng, servers.env["WECHAT_TOKEN"]) for _ in range(INPUTS)]
    url = f"{servers.rasa_url}/webhooks/wechat/webhook"

    async def main():
        # a new connection per request: a kept-alive one may be closed by the server's
        # keep-alive timeout while the next request is written (a reset, not a crash)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120),
                                         connector=aiohttp.TCPConnector(force_close=True)) as session:
            async def send(request):
                query, body, content_type = request
                headers = {"Content-Type": content_type} if content_type else {}
                async with session.post(url, params=query, data=body, headers=headers) as response:
                    await response.read()
                    return response.status
            return await send_all(requests, send)

    start = time.monotonic()
    statuses = asyncio.run(main())
    report("WeChat", statuses, time.monotonic() - start)
    assert sum(statuses.values()) == INPUTS
    assert not [status for status in statuses if status >= 500], statuses
    assert statuses[200] > 0 and statuses[403] > 0 and statuses[400] > 0
    assert_still_answers(servers)


def socketio_event(rng: random.Random, session_id: str):
    kind = rng.random()
    if kind < WELL_FORMED:
        return "user_uttered", {"message": random_text(rng)[:300], "session_id": session_id}
    if kind < 0.1:
        return "session_request", random_value(rng)
    if kind < 0.15:
        return random_text(rng, 12) or "x", random_value(rng)
    if kind < 0.25:
        return "user_uttered", bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 100)))
    if kind < 0.5:
        return "user_uttered", random_value(rng)
    data = {"message": random_value(rng) if rng.random() < 0.5 else random_text(rng),
            "session_id": rng.choice([session_id, uuid.uuid4().hex, random_sender(rng)])}
    if rng.random() < 0.3:
        data["metadata"] = rng.choice([random_value(rng), random_text(rng, 50)])
    return "user_uttered", data


def test_fuzz_socketio(servers, log):
    rng = random.Random(SEED + 2)
    clients, per_client = 8, INPUTS // 8
    sent, received = Counter(), Counter()

    async def connected(session_id: str):
        client = socketio.AsyncClient(reconnection=False)
        client.on("bot_uttered", lambda data: received.update(["refused" if data.get("refused") else "answer"]))
        # a browser waits longer than the client's default second for the namespace
        await client.connect(servers.rasa_url, socketio_path="/socket.io", transports=["polling"],
                             wait_timeout=10)
        await client.emit("session_request", {"session_id": session_id})
        return client

    async def client_run(index: int):
        session_id = uuid.uuid4().hex
        client = await connected(session_id)
        try:
            for _ in range(per_client):
                event, data = socketio_event(rng, session_id)
                for _attempt in range(2):
                    if not client.connected or "/" not in client.namespaces:
                        # Socket.IO itself drops a client that breaks its protocol: a refusal
                        received.update(["dropped"])
                        await hang_up(client)
                        client = await connected(session_id)
                    while client.eio.queue.qsize() > 4:  # a browser's pace: Engine.IO refuses huge batches
                        await asyncio.sleep(0.005)
                    try:
                        await client.emit(event, data)
                    except socketio.exceptions.BadNamespaceError:
                        continue
                    sent[event == "user_uttered"] += 1
                    break
            await asyncio.sleep(5)
        finally:
            await hang_up(client)

    async def main():
        await asyncio.gather(*(client_run(i) for i in range(clients)))

    start = time.monotonic()
    asyncio.run(main())
    print(f"\nfuzz socket.io: {sum(sent.values())} events in {time.monotonic() - start:.0f} s, "
          f"answers {received['answer']}, refusals {received['refused']}, dropped by Socket.IO {received['dropped']}")
    assert sum(sent.values()) == INPUTS
    assert received["refused"] > 0 and received["answer"] > 0
    assert_still_answers(servers)
