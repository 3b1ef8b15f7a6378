"""What a public input (REST webhook, web chat, WeChat) accepts from the internet.

Every check raises :class:`Refused` with an HTTP status and a Chinese sentence the
caller can show as it is; nothing a stranger sends reaches Rasa unchecked, and nothing
they send can make the server answer 5xx.

* a body is a JSON object of at most ``KEFU_MAX_BODY_BYTES`` (64 KiB);
* a sender id is 1 to 64 letters, digits or ``_-.:@`` (a conversation id must also
  be a safe file and URL part for the trainer's replay and reports);
* a message is text of at most ``KEFU_MAX_MESSAGE_CHARS`` characters (5,000): a longer
  one is refused whole, with a request to split it, never cut silently;
* metadata is an object of at most 4 KiB once serialised;
* each address and each sender may post ``KEFU_RATE_ADDRESS`` / ``KEFU_RATE_SENDER``
  times per period (kefu.ratelimit; 429 beyond).
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, Optional

from kefu.ratelimit import limiter_from_env

MAX_SENDER_CHARS = 64
SENDER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,%d}" % MAX_SENDER_CHARS)
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_MAX_MESSAGE_CHARS = 5000
DEFAULT_MAX_BODY_BYTES = 64 * 1024
MAX_METADATA_BYTES = 4096
DEFAULT_RATE_ADDRESS = "300/60"  # one office behind one NAT address: many customers
DEFAULT_RATE_SENDER = "30/60"  # one customer: a message every two seconds is plenty

# The texts a refused caller sees (checked by kefu.guard in tests/test_public_input.py).
TEXTS = {
    "bad_body": "没能读懂这条请求：请发送 JSON 对象，例如 {{\"sender\": \"会话编号\", \"message\": \"您的问题\"}}。",
    "too_big": "这条请求太大了，请把内容缩短一些再发送。",
    "bad_sender": "会话编号不正确：需要 1 到 64 位的英文字母、数字或 _-.:@ 符号。",
    "bad_message": "消息内容需要是一段文字，请重新发送。",
    "bad_message_id": "消息编号不正确：需要 1 到 64 位的英文字母、数字或 _- 符号。",
    "too_long": "这条消息有点长（最多 {limit} 字），麻烦您分成几段发送，我们逐段处理。",
    "bad_metadata": "附加信息（metadata）需要是不超过 4KB 的 JSON 对象。",
    "too_fast": "您发送得有些频繁，请过一分钟再发送这条消息，我们会接着处理。",
}


class Refused(Exception):
    """A request refused before it reaches the bot."""

    def __init__(self, status: int, code: str, **values: Any) -> None:
        self.status, self.code = status, code
        self.message = TEXTS[code].format(**values)
        super().__init__(f"{status} {code}")

    def as_dict(self) -> Dict[str, Any]:
        return {"error": self.code, "message": self.message}


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name) or default))
    except ValueError:
        return default


def max_message_chars() -> int:
    return _env_int("KEFU_MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS)


def max_body_bytes() -> int:
    return _env_int("KEFU_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


def json_object(body: Optional[bytes]) -> Dict[str, Any]:
    """The request body as a JSON object."""
    if body is not None and len(body) > max_body_bytes():
        raise Refused(413, "too_big")
    try:
        value = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused(400, "bad_body") from None
    if not isinstance(value, dict):
        raise Refused(400, "bad_body")
    return value


def sender_id(value: Any) -> str:
    if not isinstance(value, str) or not SENDER_ID.fullmatch(value):
        raise Refused(400, "bad_sender")
    return value


def message_id(value: Any) -> Optional[str]:
    """The client's own id of a message (optional): the same id sent again is the same message
    (kefu.patches.repeat_messages answers it again instead of handling it twice)."""
    if value is None:
        return None
    if not isinstance(value, str) or not MESSAGE_ID.fullmatch(value):
        raise Refused(400, "bad_message_id")
    return value


def message_text(value: Any) -> str:
    """The customer's text; an empty one is a message too (the bot asks what is up)."""
    if not isinstance(value, str):
        raise Refused(400, "bad_message")
    limit = max_message_chars()
    if len(value) > limit:
        raise Refused(413, "too_long", limit=limit)
    if "\x00" in value or _has_lone_surrogate(value):
        raise Refused(400, "bad_message")
    return value


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def metadata(value: Any) -> Optional[Dict[str, Any]]:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Refused(400, "bad_metadata")
    try:
        size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError):
        raise Refused(400, "bad_metadata") from None
    if size > MAX_METADATA_BYTES:
        raise Refused(400, "bad_metadata")
    return value


_limiters: Dict[str, Any] = {}


def _limiter(variable: str, default: str):
    configured = (variable, os.environ.get(variable))
    if _limiters.get(variable, (None,))[0] != configured:
        _limiters[variable] = (configured, limiter_from_env(variable, default))
    return _limiters[variable][1]


def check_rate(channel: str, address: Optional[str], sender: Optional[str] = None) -> None:
    """Counts one message from ``address`` (and ``sender``); 429 when either is over."""
    if address and not _limiter("KEFU_RATE_ADDRESS", DEFAULT_RATE_ADDRESS).allow(f"{channel}:{address}"):
        raise Refused(429, "too_fast")
    if sender and not _limiter("KEFU_RATE_SENDER", DEFAULT_RATE_SENDER).allow(f"{channel}:{sender}"):
        raise Refused(429, "too_fast")


def client_address(request: Any) -> str:
    """The caller's address: Sanic's ``remote_addr`` honours the proxy settings
    (``FORWARDED_SECRET``, ``REAL_IP_HEADER``, ``PROXIES_COUNT``), else the peer."""
    return getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown"
