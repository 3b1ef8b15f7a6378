"""The WeChat Official Account channel against a fake WeChat on loopback.

Each test starts a real Sanic server with the channel registered as Rasa does it
(`rasa.core.channels.channel.register`), a fake bot in place of Rasa's agent, and
`tests/wechat_fake.py` playing WeChat: its servers pushing signed (and in safe mode
encrypted) messages, and its API receiving customer-service messages.
"""
import asyncio
import socket
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.exceptions import RasaException
from sanic import Sanic
from wechatpy.crypto import WeChatCrypto

from kefu.channels.wechat import WeChatInput, send_to_customer
from kefu.channels.wechat_config import ENVIRONMENT_VARIABLES, WeChatConfig, WeChatConfigError
from kefu.channels.wechat_dedup import TtlCache
from kefu.channels.wechat_text import (
    MAX_TEXT_BYTES,
    SORRY_TEXT,
    WELCOME_TEXT,
    pack_messages,
    parse_choice,
    split_text,
    utf8_size,
)
from tests import wechat_fake
from tests.wechat_fake import (
    ACCOUNT,
    FakeWeChatApi,
    WeChatPusher,
    event_xml,
    media_xml,
    new_msg_id,
    text_xml,
    voice_xml,
)

TOKEN = "kefu_test_token"
APP_ID = "wx1234567890abcdef"
APP_SECRET = "test_app_secret_0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, like WeChat's
OTHER_AES_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"

Answer = Callable[[str], List[Dict[str, Any]]]


def echo(text: str) -> List[Dict[str, Any]]:
    return [{"text": f"收到：{text}"}]


class FakeBot:
    """Plays Rasa's agent: answers through the message's output channel, records calls."""

    def __init__(self, answer: Answer = echo, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.calls: List[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.calls.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        for bot_message in self.answer(message.text):
            await message.output_channel.send_response(message.sender_id, dict(bot_message))

    @property
    def texts(self) -> List[str]:
        return [call.text for call in self.calls]


@dataclass
class Setup:
    channel: WeChatInput
    bot: FakeBot
    api: FakeWeChatApi
    wechat: WeChatPusher
    config: WeChatConfig


@asynccontextmanager
async def running_channel(bot: Optional[FakeBot] = None, **settings: Any) -> AsyncIterator[Setup]:
    """Starts the fake WeChat API and a Sanic app serving the channel; stops both."""
    bot = bot or FakeBot()
    api = FakeWeChatApi(APP_ID, APP_SECRET)
    await api.start()
    config = WeChatConfig(
        token=TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        encoding_aes_key=AES_KEY,
        api_base_url=api.base_url,
        **{"reply_timeout": 0.5, "followup_delay": 0.05, **settings},
    )
    channel = WeChatInput(config)
    # Several apps in one process (one per test) need Sanic's test mode, as
    # sanic-testing sets it; otherwise Sanic's TouchUp breaks on the second app.
    Sanic.test_mode = True
    app = Sanic(f"wechat_test_{uuid.uuid4().hex}")
    app.ctx.agent = bot  # what rasa's register() hands messages to
    register([channel], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Sanic 21.12 starts listening inside create_server; startup() finalizes routes.
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    webhook = f"http://127.0.0.1:{port}/webhooks/wechat/webhook"
    try:
        async with WeChatPusher(webhook, TOKEN, APP_ID, AES_KEY) as wechat:
            yield Setup(channel, bot, api, wechat, config)
    finally:
        server.close()
        await server.wait_closed()
        await api.stop()


def run(scenario: Callable[..., Any], bot: Optional[FakeBot] = None, **settings: Any) -> Setup:
    """Runs `scenario(setup)` against a fresh channel; returns the setup for asserts."""

    async def main() -> Setup:
        async with running_channel(bot, **settings) as setup:
            await scenario(setup)
            return setup

    return asyncio.run(main())


# ------------------------------------------------------------ verification


def test_server_verification_echoes_echostr():
    async def scenario(s: Setup):
        result = await s.wechat.verify("echo_5842013")
        assert (result.status, result.body) == (200, "echo_5842013")

    run(scenario)


def test_server_verification_with_bad_signature_is_forbidden():
    async def scenario(s: Setup):
        result = await s.wechat.verify("echo_5842013", token="not_the_token")
        assert result.status == 403
        assert "echo_5842013" not in result.body

    run(scenario)


# --------------------------------------------------------------- text turns


def test_text_message_gets_the_bot_answer_as_passive_reply():
    customer = wechat_fake.openid()
    msg_id = new_msg_id()

    async def scenario(s: Setup):
        xml = text_xml(customer, "快递一周了还没到", msg_id=msg_id, create_time=1700000000)
        result = await s.wechat.push(xml)
        assert result.status == 200
        assert result.reply["MsgType"] == "text"
        assert result.reply["ToUserName"] == customer
        assert result.reply["FromUserName"] == ACCOUNT
        assert result.content == "收到：快递一周了还没到"

    s = run(scenario)
    [call] = s.bot.calls
    assert call.text == "快递一周了还没到"
    assert call.sender_id == customer
    assert call.input_channel == "wechat"
    assert call.output_channel.name() == "wechat"  # domain's channel-specific responses
    assert call.metadata == {
        "openid": customer,
        "msg_id": str(msg_id),
        "msg_type": "text",
        "create_time": 1700000000,
    }
    assert s.api.sent == []


def test_safe_mode_message_is_decrypted_and_reply_encrypted():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        result = await s.wechat.push(text_xml(customer, "耳机坏了"), safe=True)
        assert result.status == 200
        assert "<Encrypt>" in result.body and "耳机" not in result.body
        assert result.content == "收到：耳机坏了"  # decrypted (and signature checked) by the fake
        assert result.reply["ToUserName"] == customer

    s = run(scenario)
    assert s.bot.texts == ["耳机坏了"]


def test_slow_bot_gets_empty_reply_then_answer_through_customer_service_api():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        started = time.monotonic()
        result = await s.wechat.push(text_xml(customer, "我要退款"))
        assert (result.status, result.body) == (200, "success")
        assert time.monotonic() - started < 0.9  # did not wait for the bot
        assert s.api.sent == []
        sent = await s.api.wait_for_sent(1)
        assert [(m.touser, m.content) for m in sent] == [(customer, "收到：我要退款")]

    s = run(scenario, FakeBot(delay=1.0), reply_timeout=0.3)
    assert len(s.api.token_requests) == 1
    assert s.api.token_requests[0]["appid"] == APP_ID
    assert s.api.refused == []


def test_bot_failure_gets_an_apology():
    def crash(text: str) -> List[Dict[str, Any]]:
        raise RuntimeError("model not loaded")

    async def scenario(s: Setup):
        result = await s.wechat.push(text_xml(wechat_fake.openid(), "在吗"))
        assert result.content == SORRY_TEXT

    run(scenario, FakeBot(crash))


def test_no_bot_answer_gets_success():
    """E.g. a conversation paused for a human agent: nothing to say, no retries."""

    async def scenario(s: Setup):
        result = await s.wechat.push(text_xml(wechat_fake.openid(), "人呢"))
        assert (result.status, result.body) == (200, "success")

    s = run(scenario, FakeBot(lambda text: []))
    assert len(s.bot.calls) == 1


# ------------------------------------------------------------------ retries


def test_retry_with_same_msg_id_is_processed_once():
    customer = wechat_fake.openid()
    xml = text_xml(customer, "发错货了", msg_id=new_msg_id())

    async def scenario(s: Setup):
        first = await s.wechat.push(xml)
        retry = await s.wechat.push(xml)
        assert first.content == retry.content == "收到：发错货了"

    s = run(scenario)
    assert s.bot.texts == ["发错货了"]


def test_three_concurrent_retries_are_processed_once_and_all_carry_the_reply():
    xml = text_xml(wechat_fake.openid(), "少发了一个配件", msg_id=new_msg_id())

    async def scenario(s: Setup):
        results = await asyncio.gather(*(s.wechat.push(xml) for _ in range(3)))
        assert [r.content for r in results] == ["收到：少发了一个配件"] * 3
        await asyncio.sleep(0.2)
        assert s.api.sent == []  # delivered passively, not a second time

    s = run(scenario, FakeBot(delay=0.2), reply_timeout=1.0)
    assert len(s.bot.calls) == 1


def test_retry_after_wechat_gave_up_carries_the_passive_reply():
    """WeChat drops a request after its timeout and retries; the retry gets the answer."""
    xml = text_xml(wechat_fake.openid(), "退款还没到账", msg_id=new_msg_id())

    async def scenario(s: Setup):
        with pytest.raises(asyncio.TimeoutError):
            await s.wechat.push(xml, timeout=0.2)  # WeChat gives up on this one
        retry = await s.wechat.push(xml)
        assert retry.content == "收到：退款还没到账"
        await asyncio.sleep(0.3)
        assert s.api.sent == []

    s = run(scenario, FakeBot(delay=0.8), reply_timeout=1.5)
    assert len(s.bot.calls) == 1


def test_retries_of_a_slow_turn_are_answered_once_through_the_api():
    customer = wechat_fake.openid()
    xml = text_xml(customer, "客服态度太差", msg_id=new_msg_id())

    async def scenario(s: Setup):
        results = [await s.wechat.push(xml) for _ in range(3)]
        assert [r.body for r in results] == ["success"] * 3
        await s.api.wait_for_sent(1)
        late_retry = await s.wechat.push(xml)
        assert late_retry.body == "success"
        await asyncio.sleep(0.2)
        assert [m.content for m in s.api.sent] == ["收到：客服态度太差"]

    s = run(scenario, FakeBot(delay=1.2), reply_timeout=0.15)
    assert len(s.bot.calls) == 1


def test_different_messages_are_all_processed():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        for text in ("第一条", "第二条"):
            assert (await s.wechat.push(text_xml(customer, text))).content == f"收到：{text}"

    s = run(scenario)
    assert s.bot.texts == ["第一条", "第二条"]


# ----------------------------------------------------- events and media


def test_subscribe_gets_a_welcome_and_does_not_reach_the_bot():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        result = await s.wechat.push(event_xml(customer, "subscribe", EventKey=""))
        assert result.content == WELCOME_TEXT
        assert result.reply["ToUserName"] == customer
        scan_xml = event_xml(customer, "subscribe", EventKey="qrscene_123", Ticket="TICKET")
        scan = await s.wechat.push(scan_xml)
        assert scan.content == WELCOME_TEXT

    s = run(scenario)
    assert "人工" in WELCOME_TEXT and "您好" in WELCOME_TEXT
    assert s.bot.calls == []


def test_unsubscribe_and_menu_events_get_success_and_nothing_else():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        for xml in (
            event_xml(customer, "unsubscribe", EventKey=""),
            event_xml(customer, "CLICK", EventKey="MENU_HELP"),
            event_xml(customer, "some_future_event"),
        ):
            result = await s.wechat.push(xml)
            assert (result.status, result.body) == (200, "success")
        await asyncio.sleep(0.1)

    s = run(scenario)
    assert s.bot.calls == [] and s.api.sent == []


@pytest.mark.parametrize("msg_type", ["image", "video", "shortvideo", "location", "link"])
def test_media_messages_get_asked_to_describe_the_problem_in_words(msg_type):
    async def scenario(s: Setup):
        result = await s.wechat.push(media_xml(wechat_fake.openid(), msg_type))
        assert result.status == 200
        assert "文字" in result.content and "描述" in result.content

    s = run(scenario)
    assert s.bot.calls == []


def test_voice_with_recognition_is_processed_as_text():
    async def scenario(s: Setup):
        result = await s.wechat.push(voice_xml(wechat_fake.openid(), recognition="外卖洒了"))
        assert result.content == "收到：外卖洒了"

    s = run(scenario)
    [call] = s.bot.calls
    assert call.text == "外卖洒了"
    assert call.metadata["msg_type"] == "voice"


@pytest.mark.parametrize("recognition", [None, ""])
def test_voice_without_recognition_asks_for_text(recognition):
    async def scenario(s: Setup):
        result = await s.wechat.push(voice_xml(wechat_fake.openid(), recognition=recognition))
        assert "文字" in result.content

    s = run(scenario)
    assert s.bot.calls == []


# ------------------------------------------------------------ bot answers


SENTENCE = "非常抱歉给您带来不便，我们已经为您登记了这个问题，会尽快安排专人跟进处理。"


def test_long_answer_is_split_on_sentences_and_rest_pushed_through_api():
    long_answer = SENTENCE * 80  # about 9 KB of UTF-8
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        result = await s.wechat.push(text_xml(customer, "怎么回事"))
        parts = [result.content] + [m.content for m in await s.api.wait_for_sent(4)]
        assert len(parts) == 5
        assert all(utf8_size(part) < 2048 for part in parts)
        assert all(part.endswith("。") for part in parts)  # cut between sentences
        assert "".join(parts) == long_answer
        assert {m.touser for m in s.api.sent} == {customer}

    s = run(scenario, FakeBot(lambda text: [{"text": long_answer}]))
    assert s.api.refused == []  # the fake refuses anything over WeChat's 2048 bytes


def test_several_bot_messages_are_joined_into_one_reply():
    answers = [{"text": "非常抱歉让您久等了。"}, {"text": "请问您的订单号是多少？"}]

    async def scenario(s: Setup):
        result = await s.wechat.push(text_xml(wechat_fake.openid(), "快递丢了"))
        assert result.content == "非常抱歉让您久等了。\n\n请问您的订单号是多少？"
        await asyncio.sleep(0.2)
        assert s.api.sent == []

    run(scenario, FakeBot(lambda text: answers))


REMEDY_BUTTONS = [
    {"title": "退款", "payload": '/inform{"remedy":"refund"}'},
    {"title": "换货", "payload": '/inform{"remedy":"replace"}'},
    {"title": "补发", "payload": '/inform{"remedy":"resend"}'},
]


def remedy_bot(text: str) -> List[Dict[str, Any]]:
    if text == "杯子碎了":
        return [{"text": "您希望怎么处理？", "buttons": REMEDY_BUTTONS}]
    return echo(text)


def test_buttons_become_numbered_options_and_a_number_maps_to_the_payload():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        offer = await s.wechat.push(text_xml(customer, "杯子碎了"))
        assert offer.content == "您希望怎么处理？\n回复 1 退款 / 2 换货 / 3 补发"
        await s.wechat.push(text_xml(customer, "２"))  # full-width, as phones type it
        after = await s.wechat.push(text_xml(customer, "2"))  # options were used up
        assert after.content == "收到：2"

    s = run(scenario, FakeBot(remedy_bot))
    assert s.bot.texts == ["杯子碎了", '/inform{"remedy":"replace"}', "2"]
    assert s.bot.calls[1].metadata["button_title"] == "换货"


def test_numbers_without_matching_options_stay_text():
    customer, other = wechat_fake.openid(), wechat_fake.openid()

    async def scenario(s: Setup):
        await s.wechat.push(text_xml(customer, "杯子碎了"))
        await s.wechat.push(text_xml(customer, "7"))  # no 7th option
        await s.wechat.push(text_xml(other, "1"))  # options belong to the other customer

    s = run(scenario, FakeBot(remedy_bot))
    assert s.bot.texts == ["杯子碎了", "7", "1"]


def test_bot_messages_after_the_turn_are_pushed_through_the_api():
    """E.g. a Rasa reminder firing later on the turn's output channel."""
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        await s.wechat.push(text_xml(customer, "好的"))
        output = s.bot.calls[0].output_channel
        reminder = {"text": "您的工单已处理完毕，请评价：", "buttons": REMEDY_BUTTONS[:2]}
        await output.send_response(customer, reminder)
        sent = await s.api.wait_for_sent(1)
        assert sent[0].content == "您的工单已处理完毕，请评价：\n回复 1 退款 / 2 换货"
        await s.wechat.push(text_xml(customer, "1"))

    s = run(scenario)
    assert s.bot.texts[-1] == '/inform{"remedy":"refund"}'


# ------------------------------------------------------- rejected requests


def test_post_with_bad_signature_is_forbidden_and_not_processed():
    async def scenario(s: Setup):
        result = await s.wechat.push(text_xml(wechat_fake.openid(), "你好"), token="forged")
        assert (result.status, result.body) == (403, "invalid signature")

    s = run(scenario)
    assert s.bot.calls == []


def test_safe_mode_with_bad_msg_signature_is_forbidden():
    async def scenario(s: Setup):
        xml = text_xml(wechat_fake.openid(), "你好")
        result = await s.wechat.push(xml, safe=True, msg_token="forged")
        assert (result.status, result.body) == (403, "invalid message signature")

    s = run(scenario)
    assert s.bot.calls == []


@pytest.mark.parametrize("corruption", ["tampered", "other_key"])
def test_undecryptable_message_is_forbidden_and_not_processed(corruption):
    async def scenario(s: Setup):
        xml = text_xml(wechat_fake.openid(), "你好")
        if corruption == "tampered":
            result = await s.wechat.push(xml, safe=True, tamper_ciphertext=True)
            assert s.bot.calls == []
        else:
            crypto = WeChatCrypto(TOKEN, OTHER_AES_KEY, APP_ID)
            result = await s.wechat.push(xml, safe=True, crypto=crypto)
        assert (result.status, result.body) == (403, "cannot decrypt message")

    s = run(scenario)
    assert s.bot.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o_1",  # cut off
        b"not xml at all",
        b"<xml><ToUserName>gh_1</ToUserName></xml>",  # no MsgType, no sender
        b"<xml><FromUserName>o_1</FromUserName><MsgType>text</MsgType><MsgId>abc</MsgId></xml>",
        b"<xml/>",
    ],
)
def test_malformed_xml_is_a_bad_request(body):
    async def scenario(s: Setup):
        result = await s.wechat.push_raw(body)
        assert (result.status, result.body) == (400, "malformed XML")

    s = run(scenario)
    assert s.bot.calls == []


@pytest.mark.parametrize(
    "body", [b"<xml><Encrypt>abc", b"<xml><ToUserName>gh_1</ToUserName></xml>"]
)
def test_malformed_safe_mode_envelope_is_a_bad_request(body):
    async def scenario(s: Setup):
        result = await s.wechat.push_raw(body, safe=True)
        assert (result.status, result.body) == (400, "malformed XML")

    run(scenario)


VALID_XML = text_xml("o_valid_customer_openid_00001", "你好").encode("utf-8")


@pytest.mark.parametrize(
    "body, content_type, reason",
    [
        (b"", "text/xml", "empty body"),
        (b"   ", "text/xml", "empty body"),
        (b'{"text": "hi"}', "application/json", "expected an XML body"),
        (VALID_XML, "application/json", "expected an XML body"),
        (VALID_XML, "application/x-www-form-urlencoded", "expected an XML body"),
    ],
)
def test_wrong_content_type_or_empty_body_is_a_bad_request(body, content_type, reason):
    async def scenario(s: Setup):
        result = await s.wechat.push_raw(body, content_type=content_type)
        assert (result.status, result.body) == (400, reason)

    s = run(scenario)
    assert s.bot.calls == []


def test_missing_content_type_is_tolerated():
    async def scenario(s: Setup):
        result = await s.wechat.push(text_xml(wechat_fake.openid(), "你好"), content_type="")
        assert result.content == "收到：你好"

    run(scenario)


# ------------------------------------------------------------ odd content


def test_emoji_and_a_very_long_customer_message_are_fine():
    angry = "😡😡 东西到了是坏的！！👎 " + "我真的非常生气，" * 400 + "]]> <xml>&amp;"

    async def scenario(s: Setup):
        short = await s.wechat.push(text_xml(wechat_fake.openid(), "谢谢👍"), safe=True)
        assert short.content == "收到：谢谢👍"
        tricky = await s.wechat.push(text_xml(wechat_fake.openid(), "标价<99元>]]>&amp;"))
        assert tricky.content == "收到：标价<99元>]]>&amp;"  # "]]>" must not break the reply
        long = await s.wechat.push(text_xml(wechat_fake.openid(), angry))
        assert long.status == 200
        assert long.content.startswith("收到：😡😡")
        assert utf8_size(long.content) < 2048

    s = run(scenario)
    assert s.bot.texts == ["谢谢👍", "标价<99元>]]>&amp;", angry.strip()]


# ------------------------------------------------- pushes from the desk


def test_send_to_customer_uses_the_customer_service_api():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        await send_to_customer(customer, "您好，我是客服小王，您的退款已经提交。", config=s.config)
        await send_to_customer(customer, SENTENCE * 60, config=s.config)
        sent = await s.api.wait_for_sent(5)
        assert sent[0].content == "您好，我是客服小王，您的退款已经提交。"
        assert all(m.touser == customer for m in sent)
        assert "".join(m.content for m in sent[1:]) == SENTENCE * 60

    s = run(scenario)
    assert s.api.refused == []
    assert len(s.api.token_requests) == 1  # the access token is cached


def test_output_channel_sends_numbered_buttons_and_remembers_them():
    customer = wechat_fake.openid()

    async def scenario(s: Setup):
        output = s.channel.get_output_channel()
        assert output.name() == "wechat"
        await output.send_response(customer, {"text": "请为本次服务打分", "buttons": REMEDY_BUTTONS})
        [sent] = await s.api.wait_for_sent(1)
        assert sent.content == "请为本次服务打分\n回复 1 退款 / 2 换货 / 3 补发"
        await s.wechat.push(text_xml(customer, "3"))

    s = run(scenario)
    assert s.bot.texts == ['/inform{"remedy":"resend"}']


# --------------------------------------------------------- configuration


def test_credentials_come_from_the_file_and_environment_overrides(monkeypatch):
    for variable in ENVIRONMENT_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WECHAT_TOKEN", "token_from_env")
    monkeypatch.setenv("WECHAT_AES_KEY", AES_KEY)
    channel = WeChatInput.from_credentials(
        {"token": "from_file", "app_id": APP_ID, "reply_timeout": "2.5", "api_base_url": None}
    )
    assert channel.config.token == "token_from_env"  # the environment wins
    assert channel.config.app_id == APP_ID
    assert channel.config.encoding_aes_key == AES_KEY
    assert channel.config.reply_timeout == 2.5
    assert channel.config.api_base_url == "https://api.weixin.qq.com"
    assert channel.get_output_channel() is None  # no app secret: no pushes


def test_missing_token_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("WECHAT_TOKEN", raising=False)
    with pytest.raises(RasaException, match="WECHAT_TOKEN"):
        WeChatInput.from_credentials({"app_id": APP_ID})
    with pytest.raises(RasaException, match="WECHAT_TOKEN"):
        WeChatInput.from_credentials(None)


def test_bad_aes_key_and_unknown_settings_are_clear_errors():
    with pytest.raises(WeChatConfigError, match="43"):
        WeChatInput(WeChatConfig(token=TOKEN, app_id=APP_ID, encoding_aes_key="short"))
    with pytest.raises(WeChatConfigError, match="tokn"):
        WeChatConfig.load({"tokn": "x"}, environ={})


def test_channel_name_and_webhook_path():
    assert WeChatInput.name() == "wechat"
    assert WeChatInput(WeChatConfig(token=TOKEN)).url_prefix() == "wechat"


# ------------------------------------------------------- pure helpers


def test_dedup_cache_expires_and_stays_bounded():
    now = [0.0]
    cache: TtlCache[int] = TtlCache(ttl_seconds=10, max_entries=3, clock=lambda: now[0])
    for key in range(5):
        cache.set(key, key)
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) == 4
    now[0] = 11
    assert cache.get(4) is None and len(cache) == 0


def test_split_text_respects_size_and_sentences():
    assert split_text("") == []
    assert split_text("短句。") == ["短句。"]
    chunks = split_text("一句话。" * 1000)
    assert all(utf8_size(c) <= MAX_TEXT_BYTES for c in chunks)
    assert "".join(chunks) == "一句话。" * 1000
    unbroken = split_text("没有标点" * 600)  # no sentence end: cut by size
    assert all(utf8_size(c) <= MAX_TEXT_BYTES for c in unbroken)
    assert "".join(unbroken) == "没有标点" * 600
    assert pack_messages(["好的。", "请稍等。"]) == ["好的。\n\n请稍等。"]


def test_parse_choice():
    typed = ("1", " 2 ", "３", "3。", "1分", "十", "")
    assert [parse_choice(text) for text in typed] == [1, 2, 3, 3, None, None, None]
