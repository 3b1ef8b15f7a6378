"""WeChat's side of the Official Account protocol, played on loopback for tests.

- `WeChatPusher` does what WeChat's servers do with a developer's server URL: the GET
  verification and the POST of customer messages, signed with the token (signature =
  sha1 of the sorted token, timestamp and nonce) and, in safe mode, encrypted with the
  EncodingAESKey (msg_signature = sha1 of the sorted token, timestamp, nonce and
  ciphertext), with the XML bodies of WeChat's documentation.
- `FakeWeChatApi` is a small HTTP server for the two API calls the channel makes:
  `GET /cgi-bin/token` and `POST /cgi-bin/message/custom/send`. It checks them like
  WeChat does (app id/secret, access token, 2048-byte text limit) and records them.
"""
import asyncio
import json
import random
import string
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import aiohttp
import xmltodict
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

ACCOUNT = "gh_kefu_test_account"  # the Official Account's own id (ToUserName)
TEXT_LIMIT_BYTES = 2048


def openid() -> str:
    """A customer's openid: 28 characters, like WeChat's."""
    return "o" + uuid.uuid4().hex[:27]


def new_msg_id() -> int:
    return random.randint(10**18, 9 * 10**18)


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _nonce() -> str:
    return "".join(random.choice(string.digits) for _ in range(10))


def _cdata(value: Any) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _xml(fields: Dict[str, Any]) -> str:
    """Renders a push body the way WeChat does: strings in CDATA, numbers bare."""
    nodes = []
    for name, value in fields.items():
        rendered = str(value) if isinstance(value, (int, float)) else _cdata(value)
        nodes.append(f"<{name}>{rendered}</{name}>")
    return "<xml>" + "".join(nodes) + "</xml>"


def _header(sender: str, msg_type: str, create_time: Optional[int]) -> Dict[str, Any]:
    return {
        "ToUserName": ACCOUNT,
        "FromUserName": sender,
        "CreateTime": create_time or int(time.time()),
        "MsgType": msg_type,
    }


def text_xml(
    sender: str, content: str, msg_id: Optional[int] = None, create_time: Optional[int] = None
) -> str:
    fields = _header(sender, "text", create_time)
    fields.update(Content=content, MsgId=msg_id or new_msg_id())
    return _xml(fields)


def voice_xml(sender: str, recognition: Optional[str] = None, msg_id: Optional[int] = None) -> str:
    fields = _header(sender, "voice", None)
    fields.update(MediaId="media_voice_1", Format="amr")
    if recognition is not None:
        fields["Recognition"] = recognition
    fields["MsgId"] = msg_id or new_msg_id()
    return _xml(fields)


# The other customer message types, with the fields of WeChat's documentation.
MEDIA_FIELDS = {
    "image": {"PicUrl": "http://mmbiz.qpic.cn/test.jpg", "MediaId": "media_image_1"},
    "video": {"MediaId": "media_video_1", "ThumbMediaId": "thumb_1"},
    "shortvideo": {"MediaId": "media_svideo_1", "ThumbMediaId": "thumb_2"},
    "location": {"Location_X": 31.2304, "Location_Y": 121.4737, "Scale": 15, "Label": "上海市黄浦区"},
    "link": {"Title": "订单截图", "Description": "我的订单", "Url": "http://example.com/order"},
}


def media_xml(sender: str, msg_type: str, msg_id: Optional[int] = None) -> str:
    fields = _header(sender, msg_type, None)
    fields.update(MEDIA_FIELDS[msg_type])
    fields["MsgId"] = msg_id or new_msg_id()
    return _xml(fields)


def event_xml(sender: str, event: str, create_time: Optional[int] = None, **extra: Any) -> str:
    fields = _header(sender, "event", create_time)
    fields["Event"] = event
    fields.update(extra)
    return _xml(fields)


@dataclass
class PushResult:
    status: int
    body: str
    # The passive reply's fields (decrypted in safe mode); None for "success"/errors.
    reply: Optional[Dict[str, Any]] = None

    @property
    def content(self) -> Optional[str]:
        return self.reply.get("Content") if self.reply else None


class WeChatPusher:
    """Plays WeChat's servers calling the developer's webhook."""

    def __init__(self, webhook_url: str, token: str, app_id: str, aes_key: str) -> None:
        self.webhook_url = webhook_url
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id)
        self.session: Optional[aiohttp.ClientSession] = None

    async def __aenter__(self) -> "WeChatPusher":
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.session.close()

    def signed_query(self, token: Optional[str] = None) -> Dict[str, str]:
        timestamp, nonce = str(int(time.time())), _nonce()
        signature = sign(token or self.token, timestamp, nonce)
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce}

    async def verify(self, echostr: str, token: Optional[str] = None) -> PushResult:
        """The GET WeChat sends when the server URL is saved in the admin console."""
        params = {**self.signed_query(token), "echostr": echostr}
        async with self.session.get(self.webhook_url, params=params) as response:
            return PushResult(response.status, await response.text())

    async def push(
        self,
        xml: str,
        *,
        safe: bool = False,
        token: Optional[str] = None,
        msg_token: Optional[str] = None,
        crypto: Optional[WeChatCrypto] = None,
        tamper_ciphertext: bool = False,
        content_type: str = "text/xml",
        timeout: float = 5.0,
    ) -> PushResult:
        """POSTs a message like WeChat (5 s timeout); safe mode encrypts it first.

        `token`, `msg_token` (msg_signature) and `crypto` sign or encrypt with other
        secrets than the channel's;
        `tamper_ciphertext` corrupts the ciphertext but signs the corrupted text.
        """
        query = self.signed_query(token)
        query["openid"] = _sender_of(xml)
        body = xml
        if safe:
            body, msg_signature = self._encrypt(xml, query, msg_token, crypto, tamper_ciphertext)
            query.update(encrypt_type="aes", msg_signature=msg_signature)
        async with self.session.post(
            self.webhook_url,
            params=query,
            data=body.encode("utf-8"),
            timeout=aiohttp.ClientTimeout(total=timeout),
            **_content_type(content_type),
        ) as response:
            text = await response.text()
            reply = self._read_reply(text, safe) if response.status == 200 else None
            return PushResult(response.status, text, reply)

    async def push_raw(
        self, body: bytes, content_type: Optional[str] = "text/xml", safe: bool = False
    ) -> PushResult:
        """POSTs any body with a valid signature (for malformed requests)."""
        query = self.signed_query()
        if safe:
            msg_signature = sign(self.token, query["timestamp"], query["nonce"], "")
            query.update(encrypt_type="aes", msg_signature=msg_signature)
        async with self.session.post(
            self.webhook_url, params=query, data=body, **_content_type(content_type)
        ) as response:
            return PushResult(response.status, await response.text())

    def _encrypt(
        self,
        xml: str,
        query: Dict[str, str],
        msg_token: Optional[str],
        crypto: Optional[WeChatCrypto],
        tamper: bool,
    ) -> "tuple[str, str]":
        sealed = (crypto or self.crypto).encrypt_message(xml, query["nonce"], query["timestamp"])
        ciphertext = xmltodict.parse(sealed)["xml"]["Encrypt"]
        if tamper:
            # Garble the last AES block (padding and app id) yet keep valid base64.
            position = len(ciphertext.rstrip("=")) - 8
            replacement = "A" if ciphertext[position] != "A" else "B"
            ciphertext = ciphertext[:position] + replacement + ciphertext[position + 1 :]
        timestamp, nonce = query["timestamp"], query["nonce"]
        msg_signature = sign(msg_token or self.token, timestamp, nonce, ciphertext)
        # WeChat's safe-mode body: the account id and the ciphertext.
        body = _xml({"ToUserName": ACCOUNT, "Encrypt": ciphertext})
        return body, msg_signature

    def _read_reply(self, text: str, safe: bool) -> Optional[Dict[str, Any]]:
        if text in ("", "success"):
            return None
        if safe:
            envelope = xmltodict.parse(text)["xml"]
            # Checks the reply's msg_signature as WeChat does, then decrypts.
            text = self.crypto.decrypt_message(
                envelope, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
        return dict(xmltodict.parse(text)["xml"])


def _content_type(content_type: Optional[str]) -> Dict[str, Any]:
    """aiohttp arguments for this Content-Type; none at all when it is empty."""
    if content_type:
        return {"headers": {"Content-Type": content_type}}
    return {"skip_auto_headers": ["Content-Type"]}


def _sender_of(xml: str) -> str:
    try:
        return xmltodict.parse(xml)["xml"]["FromUserName"]
    except Exception:
        return ""


@dataclass
class SentMessage:
    touser: str
    content: str
    raw: Dict[str, Any] = field(default_factory=dict)


class FakeWeChatApi:
    """WeChat's API server for `/cgi-bin/token` and `/cgi-bin/message/custom/send`."""

    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.access_token = "ACCESS_TOKEN_" + uuid.uuid4().hex
        self.token_requests: List[Dict[str, str]] = []
        self.sent: List[SentMessage] = []
        self.refused: List[Dict[str, Any]] = []
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def wait_for_sent(self, count: int, timeout: float = 5.0) -> List[SentMessage]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return list(self.sent)

    async def _token(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.token_requests.append(query)
        if query.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        return web.json_response({"access_token": self.access_token, "expires_in": 7200})

    async def _custom_send(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") != self.access_token:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        data = json.loads(await request.read())
        content = (data.get("text") or {}).get("content", "")
        if data.get("msgtype") != "text" or not data.get("touser"):
            self.refused.append(data)
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if len(content.encode("utf-8")) > TEXT_LIMIT_BYTES:
            self.refused.append(data)
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        self.sent.append(SentMessage(data["touser"], content, data))
        return web.json_response({"errcode": 0, "errmsg": "ok"})
