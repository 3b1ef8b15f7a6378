"""WeChat Official Account (微信公众号) input channel for Rasa.

WeChat pushes each customer message to `/webhooks/wechat/webhook` and waits 5 seconds
for a passive XML reply, retrying up to three times (same MsgId) when it gets none.
This channel:

- checks WeChat's signature (and decrypts safe-mode messages) before anything else,
  and refuses a replayed request (403): its timestamp must be within
  `WECHAT_MAX_CLOCK_SKEW` seconds (300) of ours and its nonce new within that window
  (kefu.ratelimit.seen_before: in Redis with KEFU_REDIS_URL, so replicas share it);
- answers a customer sending too fast or too long (kefu.channels.public_input) with
  the Chinese reason as the passive reply, never an HTTP error WeChat would show as
  "该公众号暂时无法提供服务";
- passes text (and recognised voice) to the bot once per MsgId, whatever the retries;
- answers with the bot's reply when it comes within `reply_timeout`, otherwise says
  "success" at once and pushes the answer later through the customer-service API;
- renders Rasa buttons as numbered options and maps a numeric answer back to the
  button's payload;
- welcomes new followers and asks for words when it receives pictures, locations …

credentials.yml / environment: see `kefu.channels.wechat_config`.
"""
import asyncio
import inspect
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional
from xml.parsers.expat import ExpatError

import xmltodict
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from kefu.channels import public_input
from kefu.channels.public_input import Refused
from kefu.channels.wechat_api import (
    CustomerServiceApi,
    WeChatOutput,
    customer_service_api,
    send_to_customer,
)
from kefu.channels.wechat_config import WeChatConfig, WeChatConfigError
from kefu.channels.wechat_dedup import SharedClaims, TtlCache
from kefu.channels.wechat_text import (
    SORRY_TEXT,
    WELCOME_TEXT,
    ask_for_text,
    pack_messages,
    parse_choice,
    render_bot_message,
)
from kefu.ratelimit import seen_before
from kefu.settings import settings

__all__ = ["WeChatInput", "WeChatOutput", "WeChatConfig", "send_to_customer"]

logger = logging.getLogger(__name__)

# Tells WeChat the message was received and there is no passive reply (no retry).
SUCCESS = "success"
MAX_CLOCK_SKEW_ENV = "WECHAT_MAX_CLOCK_SKEW"
DEFAULT_MAX_CLOCK_SKEW = 300.0  # seconds


def max_clock_skew() -> float:
    try:
        return float(os.environ.get(MAX_CLOCK_SKEW_ENV) or DEFAULT_MAX_CLOCK_SKEW)
    except ValueError:
        return DEFAULT_MAX_CLOCK_SKEW

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
Button = Dict[str, Any]


class _Rejected(Exception):
    """A request WeChat did not send (or sent broken): answered with an HTTP error."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Turn:
    """One customer message on its way through the bot, shared by WeChat's retries."""

    task: Optional["asyncio.Task[None]"] = None
    # Requests for this message that still hold their connection open, waiting.
    waiting: int = 0
    # The answer given as passive reply; None when it went (or goes) through the API.
    passive_text: Optional[str] = None


class _TurnCollector(CollectingOutputChannel):
    """Collects the bot's messages of one turn.

    Named "wechat" so that the domain's channel-specific responses apply. Messages
    arriving after the turn (e.g. reminders) are pushed through the API instead.
    """

    def __init__(self, push_late: Callable[[Dict[str, Any]], Awaitable[None]]) -> None:
        super().__init__()
        self.push_late = push_late
        self.closed = False

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def _persist_message(self, message: Dict[str, Any]) -> None:
        if self.closed:
            await self.push_late(message)
        else:
            self.messages.append(message)


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat Official Account (plaintext and safe mode)."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WeChatInput":
        try:
            return cls(WeChatConfig.load(credentials))
        except WeChatConfigError as error:
            raise RasaException(str(error)) from error

    def __init__(self, config: WeChatConfig) -> None:
        config.require_token()
        self.config = config
        self.crypto = _make_crypto(config)
        self.api: Optional[CustomerServiceApi] = (
            customer_service_api(config) if config.can_push else None
        )
        if self.api is None:
            logger.warning(
                "WeChat channel without WECHAT_APP_ID/WECHAT_APP_SECRET: answers slower "
                "than %ss and long answers cannot be delivered.",
                config.reply_timeout,
            )
        self.turns: TtlCache[_Turn] = TtlCache(config.dedup_ttl, config.dedup_max_entries)
        # Several replicas: a retry that lands on another one is not run twice.
        self.claims = SharedClaims(settings().redis_url or "", config.dedup_ttl)
        self.last_buttons: TtlCache[List[Button]] = TtlCache(
            config.buttons_ttl, config.buttons_max_entries
        )
        self._background: set = set()

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Output channel for messages not answering a request (Rasa API, desk)."""
        if self.api is None:
            return None
        return WeChatOutput(self.api, self.remember_buttons)

    def remember_buttons(self, openid: str, buttons: List[Button]) -> None:
        """Keeps the options last shown to a customer (none: forget the old ones)."""
        if buttons:
            self.last_buttons.set(openid, list(buttons))
        else:
            self.last_buttons.pop(openid)

    # ----------------------------------------------------------------- routes

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            """WeChat's server check when the URL is saved in the admin console."""
            try:
                self._check_signature(request)
            except _Rejected as rejected:
                return _refuse(rejected)
            return response.text(request.args.get("echostr", ""))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                message = self._read_message(request)
            except _Rejected as rejected:
                return _refuse(rejected)
            reply_text = await self._answer(message, on_new_message)
            return self._passive_reply(request, message, reply_text)

        return webhook

    # --------------------------------------------------------- reading a push

    def _read_message(self, request: Request) -> BaseMessage:
        self._check_signature(request)
        body = _xml_body(request)
        if _is_encrypted(request):
            body = self._decrypt(request, body)
        return _parse(body)

    def _check_signature(self, request: Request) -> None:
        try:
            check_signature(
                self.config.token,
                request.args.get("signature", ""),
                request.args.get("timestamp", ""),
                request.args.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise _Rejected(403, "invalid signature") from None
        self._check_fresh(request.args.get("timestamp", ""), request.args.get("nonce", ""))

    def _check_fresh(self, timestamp: str, nonce: str) -> None:
        """A signed request is WeChat's once: an old timestamp or a nonce seen within
        the window means someone is sending a captured request again."""
        skew = max_clock_skew()
        try:
            age = time.time() - int(timestamp)
        except ValueError:
            raise _Rejected(403, "invalid timestamp") from None
        if abs(age) > skew:
            raise _Rejected(403, "stale timestamp")
        if not nonce or seen_before(f"wechat-nonce:{timestamp}:{nonce}", 2 * skew):
            raise _Rejected(403, "replayed nonce")

    def _decrypt(self, request: Request, body: bytes) -> str:
        if self.crypto is None:
            logger.error("WeChat sent a safe-mode message but WECHAT_AES_KEY is not set.")
            raise _Rejected(403, "safe mode is not configured")
        try:
            encrypted = xmltodict.parse(body, disable_entities=True)["xml"]["Encrypt"]
        except (ExpatError, KeyError, TypeError, ValueError):  # ValueError: a DOCTYPE's entities
            raise _Rejected(400, "malformed XML") from None
        try:
            return self.crypto.decrypt_message(
                {"Encrypt": encrypted},
                request.args.get("msg_signature", ""),
                request.args.get("timestamp", ""),
                request.args.get("nonce", ""),
            )
        except InvalidSignatureException:
            raise _Rejected(403, "invalid message signature") from None
        except Exception:  # bad base64, padding, length or app id: not from WeChat
            raise _Rejected(403, "cannot decrypt message") from None

    # --------------------------------------------------------------- answers

    async def _answer(self, message: BaseMessage, on_new_message: OnNewMessage) -> Optional[str]:
        """The passive reply's text, or None to answer "success"."""
        msg_type = _raw_type(message)
        if msg_type == "event":
            # Unsubscribe, menu clicks, scans …: nothing to tell the customer.
            event = getattr(message, "event", "")  # unknown events have none
            return WELCOME_TEXT if event in ("subscribe", "subscribe_scan") else None
        if msg_type == "text":
            return await self._answer_text(message, message.content, on_new_message)
        if msg_type == "voice" and message.recognition:
            return await self._answer_text(message, message.recognition, on_new_message)
        return ask_for_text(msg_type)

    async def _answer_text(
        self, message: BaseMessage, text: str, on_new_message: OnNewMessage
    ) -> Optional[str]:
        key = _dedup_key(message)
        if self.turns.get(key) is None and not await self.claims.claim(key):
            logger.info("WeChat retry of message %s: another replica answers it.", key)
            return None
        turn = self.turns.get(key)  # again: a retry may have come in during the claim
        if turn is None:
            try:
                public_input.message_text(text)
                public_input.check_rate(self.name(), None, message.source)
            except Refused as refused:
                logger.info("WeChat message %s refused: %s", key, refused)
                return refused.message
            turn = _Turn()
            self.turns.set(key, turn)
            turn.task = self._spawn(self._run_turn(turn, message, text, on_new_message))
        else:
            logger.info("WeChat retry of message %s: not processed again.", key)
        return await self._wait_for_passive_answer(turn)

    async def _wait_for_passive_answer(self, turn: _Turn) -> Optional[str]:
        if not turn.task.done():
            turn.waiting += 1
            try:
                await asyncio.wait({turn.task}, timeout=self.config.reply_timeout)
            finally:
                turn.waiting -= 1
        return turn.passive_text if turn.task.done() else None

    async def _run_turn(
        self, turn: _Turn, message: BaseMessage, text: str, on_new_message: OnNewMessage
    ) -> None:
        chunks = await self._ask_bot(message, text, on_new_message)
        # No await from here on: the decision below sees exactly the requests that
        # are still waiting, and those will all return `passive_text`.
        extras, delay = chunks, 0.0
        if chunks and turn.waiting:
            turn.passive_text = chunks[0]
            extras, delay = chunks[1:], self.config.followup_delay
        if extras:
            self._spawn(self._push(message.source, extras, delay))

    async def _ask_bot(
        self, message: BaseMessage, text: str, on_new_message: OnNewMessage
    ) -> List[str]:
        """Runs the bot on one customer message; returns WeChat-sized answer texts."""
        openid = message.source
        metadata = _metadata(message)
        button = self._chosen_button(openid, text)
        if button:
            text = button["payload"]
            metadata["button_title"] = button.get("title")
        collector = _TurnCollector(self._push_late_message)
        user_message = UserMessage(
            text,
            collector,
            sender_id=openid,
            input_channel=self.name(),
            message_id=metadata["msg_id"],
            metadata=metadata,
        )
        try:
            await on_new_message(user_message)
        except Exception:
            logger.exception("The bot failed on WeChat message %s.", metadata["msg_id"])
            return [SORRY_TEXT]
        finally:
            collector.closed = True
        return self._render_turn(openid, collector.messages)

    def _chosen_button(self, openid: str, text: str) -> Optional[Button]:
        number = parse_choice(text)
        buttons = self.last_buttons.get(openid) or []
        if number and number <= len(buttons) and buttons[number - 1].get("payload"):
            return buttons[number - 1]
        return None

    def _render_turn(self, openid: str, messages: List[Dict[str, Any]]) -> List[str]:
        """Texts of the bot's messages, buttons numbered across the whole turn."""
        texts, buttons = [], []
        for message in messages:
            texts.append(render_bot_message(message, first_number=len(buttons) + 1))
            buttons.extend(message.get("buttons") or [])
        # Only the latest options count: a number typed later refers to them.
        self.remember_buttons(openid, buttons)
        return pack_messages(text for text in texts if text)

    # ------------------------------------------------- customer-service API

    async def _push_late_message(self, message: Dict[str, Any]) -> None:
        openid = message["recipient_id"]
        await self._push(openid, self._render_turn(openid, [message]))

    async def _push(self, openid: str, texts: List[str], delay: float = 0.0) -> None:
        if self.api is None:
            logger.error("Cannot push WeChat answer to %s: no app id/secret.", openid)
            return
        try:
            await self.api.send_texts(openid, texts, delay)
        except Exception:
            logger.exception("Could not push WeChat answer to %s.", openid)

    def _spawn(self, coroutine: Awaitable[None]) -> "asyncio.Task[None]":
        # Keep a reference: the event loop only holds weak ones to tasks.
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # ------------------------------------------------------------- replying

    def _passive_reply(
        self, request: Request, message: BaseMessage, text: Optional[str]
    ) -> HTTPResponse:
        if not text:
            return response.text(SUCCESS)
        xml = TextReply(message=message, content=_cdata_safe(text)).render()
        if _is_encrypted(request) and self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, request.args.get("nonce", ""))
        return response.text(xml, content_type="application/xml")


# ------------------------------------------------------------------ helpers


def _make_crypto(config: WeChatConfig) -> Optional[WeChatCrypto]:
    if not config.encoding_aes_key:
        return None
    if not config.app_id:
        raise WeChatConfigError("Safe mode (WECHAT_AES_KEY) also needs WECHAT_APP_ID.")
    try:
        return WeChatCrypto(config.token, config.encoding_aes_key, config.app_id)
    except (AssertionError, ValueError):
        raise WeChatConfigError(
            "WECHAT_AES_KEY must be the 43-character EncodingAESKey of the account."
        ) from None


def _refuse(rejected: _Rejected) -> HTTPResponse:
    logger.warning("Refused a WeChat webhook request: %s", rejected.reason)
    return response.text(rejected.reason, status=rejected.status)


def _is_encrypted(request: Request) -> bool:
    return request.args.get("encrypt_type", "raw").lower() == "aes"


def _xml_body(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    # WeChat sends text/xml; tolerate a missing header, refuse anything else.
    if content_type and "xml" not in content_type.lower():
        raise _Rejected(400, "expected an XML body")
    if not request.body or not request.body.strip():
        raise _Rejected(400, "empty body")
    return request.body


def _parse(xml: Any) -> BaseMessage:
    try:
        message = parse_message(xml)
        if message is None or not message.source:
            raise ValueError("no sender")
        public_input.sender_id(message.source)  # an openid is 28 of [A-Za-z0-9_-]
        # wechatpy converts fields on access: let broken numbers fail here.
        _ = (message.id, message.time)
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError, Refused):
        raise _Rejected(400, "malformed XML") from None
    return message


def _raw_type(message: BaseMessage) -> str:
    # wechatpy turns unknown types into UnknownMessage ("unknown", even for events);
    # the raw MsgType (kept in _data) tells an unknown event from an unknown message.
    return str(message._data.get("MsgType", "")).lower()


def _dedup_key(message: BaseMessage) -> str:
    # WeChat's advice: MsgId when there is one, else sender + CreateTime.
    return str(message.id) if message.id else f"{message.source}:{message.time}"


def _metadata(message: BaseMessage) -> Dict[str, Any]:
    return {
        "openid": message.source,
        # A string: MsgId is a 64-bit number that JSON readers in JavaScript would round.
        "msg_id": str(message.id),
        "msg_type": message.type,
        "create_time": message.time,
    }


def _cdata_safe(text: str) -> str:
    # wechatpy wraps the content in CDATA; "]]>" inside would end it early.
    return text.replace("]]>", "]]]]><![CDATA[>")
