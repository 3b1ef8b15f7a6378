"""Rasa's ``socketio`` channel, fixed for session persistence and telling agents apart.

1. Rasa 3.6 joins a persistent session's room with ``sio.enter_room(...)`` without
   ``await``; since python-socketio 5.10 that is a coroutine, so the room is never
   joined and no reply reaches the page (RasaHQ/rasa#13027, never fixed in 3.6).  This
   channel's ``session_request`` awaits it.
2. Rasa's stock ``SocketIOOutput`` sends only ``{"text": …}`` and drops the metadata
   the hand-off relay puts on an agent's reply (``kefu_from: agent``, ``agent``), so
   the page could not show who wrote it.  This output adds ``metadata: {kefu_from,
   agent}`` — nothing else of the metadata leaves the server.
3. Rasa's ``user_uttered`` handler trusted its data: a non-object crashed it, any
   ``session_id`` was taken (a page could write into another customer's conversation)
   and any text length passed.  This channel checks each message as the REST webhook
   does (kefu.channels.public_input) and answers a refused one with a
   ``bot_uttered`` carrying the Chinese reason and ``refused: <HTTP status>``.

4. With several Rasa replicas (``KEFU_REDIS_URL`` set), the server's client manager is
   python-socketio's ``AsyncRedisManager``: a reply emitted on one replica (an agent's
   message pushed through ``/execute``) reaches the customer whose socket is held by
   another. The balancer keeps each socket on one replica (sticky), as socket.io's
   polling-then-websocket handshake needs.

The name stays ``socketio`` and the path ``/socket.io``, so clients,
``output_channel=socketio|latest`` and the trackers' ``input_channel`` are unchanged.
In credentials.yml::

    kefu.webchat.channel.WebChatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
"""
import functools
import inspect
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.core.lock_store import LockError
from sanic import response

from kefu.channels import public_input
from kefu.channels.public_input import Refused
from kefu.channels.rest import BUSY_TEXT, FAILURE_TEXT, clean_metadata
from kefu.handoff.transcript import AGENT_MARK
from kefu.settings import settings
from kefu.webchat.history import valid_session_id

VISIBLE_KEYS = ("kefu_from", "agent")
logger = logging.getLogger(__name__)
CLOSED_SESSION_TEXT = "连接刚刚断开了，页面会自动重新连接，请稍后再发送。"


def customer_marks(message_kwargs: Dict[Text, Any]) -> Dict[Text, Any]:
    """``{"metadata": {...}}`` for an agent's message, else ``{}``."""
    if message_kwargs.get("kefu_from") != AGENT_MARK:
        return {}
    return {"metadata": {key: message_kwargs.get(key) for key in VISIBLE_KEYS}}


class WebChatOutput(SocketIOOutput):
    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        marks = customer_marks(kwargs)
        for part in text.strip().split("\n\n"):  # split as the stock channel does
            await self._send_message(recipient_id, {"text": part, **marks})


class WebChatInput(SocketIOInput):
    """Rasa's socket.io input with a working ``session_request``.  Its output for
    pushed messages (``/execute``, which the desk's relay uses) is
    :class:`WebChatOutput`; replies within a customer's turn never come from an agent,
    so Rasa's stock output serves them."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]):
        blueprint = super().blueprint(on_new_message)
        share_rooms_across_replicas(self.sio)
        # Registering again replaces Rasa's handler of the same event.
        self.sio.on("session_request", namespace=self.namespace)(self.session_request)
        self._on_new_message = on_new_message
        self.sio.on(self.user_message_evt, namespace=self.namespace)(self.handle_message)
        refuse_closed_sessions(self.sio.eio)  # before the blueprint attaches its route
        return blueprint

    async def handle_message(self, sid: Text, data: Any = None, *_extra: Any) -> None:
        try:
            message = self.read(sid, data)
        except Refused as refused:
            logger.info("web chat refused a message: %s", refused)
            await self._tell(sid, refused.message, refused=refused.status)
            return
        try:
            await self._on_new_message(message)
        except LockError:  # still busy with this conversation's earlier messages
            logger.warning("web chat message of %s not taken: its conversation stayed locked", message.sender_id)
            await self._tell(sid, BUSY_TEXT)
        except Exception:  # a socket.io task must not die silently, leaving the customer unanswered
            logger.exception("The bot failed on web chat message of %s", message.sender_id)
            await self._tell(sid, FAILURE_TEXT)

    async def _tell(self, sid: Text, text: Text, **marks: Any) -> None:
        """A line from the channel itself (a refusal or an apology), not from the bot."""
        await self.sio.emit(self.bot_message_evt, {"text": text, **marks}, room=sid, namespace=self.namespace)

    def read(self, sid: Text, data: Any) -> UserMessage:
        """The customer's message in a ``user_uttered`` event, or :class:`Refused`."""
        if not isinstance(data, dict):
            raise Refused(400, "bad_body")
        if self.session_persistence:
            if not valid_session_id(data.get("session_id")):
                raise Refused(400, "bad_sender")
            sender = data["session_id"]
        else:
            sender = public_input.sender_id(sid)
        text = public_input.message_text(data.get("message", ""))
        address = self._address(sid)
        raw_metadata = data.get(self.metadata_key)
        if isinstance(raw_metadata, str):
            try:
                raw_metadata = public_input.json_object(raw_metadata.encode("utf-8", "surrogatepass"))
            except Refused:
                raise Refused(400, "bad_metadata") from None
        metadata = clean_metadata(raw_metadata, address)
        public_input.check_rate(self.name(), address, sender)
        return UserMessage(text, SocketIOOutput(self.sio, self.bot_message_evt), sender,
                           input_channel=self.name(), metadata=metadata)

    def _address(self, sid: Text) -> str:
        environ = self.sio.get_environ(sid, namespace=self.namespace) or {}
        request = environ.get("sanic.request")
        return public_input.client_address(request) if request is not None else \
            environ.get("REMOTE_ADDR", "unknown")

    async def session_request(self, sid: Text, data: Optional[Dict] = None, *_extra: Any) -> None:
        """Join the session's room; an id in another form than Rasa's (32 hex digits)
        gets a fresh one, so a page cannot pick, say, a WeChat customer's id."""
        asked = data.get("session_id") if isinstance(data, dict) else None
        session_id = asked if valid_session_id(asked) else uuid.uuid4().hex
        if self.session_persistence:
            try:
                joined = self.sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):  # a coroutine since python-socketio 5.10
                    await joined
            except ValueError:  # the page left before its request was handled
                logger.info("session request of a disconnected client ignored")
                return
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

    def get_output_channel(self) -> Optional[OutputChannel]:
        stock = super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt) if stock else None


def refuse_closed_sessions(eio) -> None:
    """Engine.IO (4.x) raises KeyError for a POST to a session closed a moment before,
    which Sanic would answer with 500: answer 400 instead; the page's client reconnects.
    The route takes ``eio.handle_request`` when the blueprint is registered."""
    original = eio.handle_request

    @functools.wraps(original)
    async def handle_request(*args: Any, **kwargs: Any) -> Any:
        try:
            return await original(*args, **kwargs)
        except KeyError as error:
            logger.info("socket.io request for a closed session: %s", error)
            return response.json({"error": "session_closed", "message": CLOSED_SESSION_TEXT}, status=400)

    eio.handle_request = handle_request


def share_rooms_across_replicas(sio, url: Optional[str] = None) -> None:
    """Use Redis (``KEFU_REDIS_URL``) as ``sio``'s client manager; without it, keep the
    in-process one. Done before the server handles anything (the manager is set up on
    first use)."""
    url = url if url is not None else (settings().redis_url or "")
    if not url:
        return
    from socketio import AsyncRedisManager

    sio.manager = AsyncRedisManager(url, channel="kefu-socketio")
    sio.manager.set_server(sio)
    sio.manager_initialized = False
