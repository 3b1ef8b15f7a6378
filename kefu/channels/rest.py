"""Rasa's REST channel (``POST /webhooks/rest/webhook``), checked before the bot runs.

Same URL, body and answer as Rasa's ``rest`` channel (``{"sender", "message",
"metadata"}`` in, the list of bot messages out), but what a stranger sends is checked
first (kefu.channels.public_input): a malformed body, sender id or message gets a 4xx
with a Chinese sentence (``{"error", "message"}``), too many messages from one address
or sender a 429, and a failure inside the bot an apology instead of an empty answer.

A client may give each message its own ``message_id``: a message sent again with the same
id (a browser's resend after a dropped connection) is answered with the replies it got
the first time, never handled twice.

The input channel is always ``rest`` (Rasa let the body name any channel, e.g. pose as
WeChat), and the caller's address travels in the message's metadata as
``kefu_address`` (the hand-off cap per address, kefu.handoff.priority); other
``kefu_`` keys a caller sends are dropped, since kefu's own marks use that prefix.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasasRestInput
from rasa.core.lock_store import LockError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from kefu.channels import public_input
from kefu.channels.public_input import Refused

logger = logging.getLogger(__name__)
ADDRESS_KEY = "kefu_address"
MESSAGE_ID_KEY = "kefu_message_id"
# What the customer reads when the bot itself failed on their message.
FAILURE_TEXT = "抱歉，系统刚才出了点问题，您这条消息没能处理好。请稍后再发一次，或者回复“转人工”。"
# … and when Rasa gave up waiting for the same conversation's earlier messages (a flood):
# this one was not taken, so the customer sends it again.
BUSY_TEXT = "前面几条消息还在处理，这一条没能接上。麻烦您稍等几秒再发一次，我们接着处理。"


def refusal(refused: Refused) -> HTTPResponse:
    return response.json(refused.as_dict(), status=refused.status)


def clean_metadata(value: Any, address: str) -> Dict[str, Any]:
    given = public_input.metadata(value) or {}
    kept = {key: item for key, item in given.items() if not str(key).startswith("kefu_")}
    kept[ADDRESS_KEY] = address
    return kept


class RestInput(RasasRestInput):
    """``rest``, with kefu's checks of public input."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def read(self, request: Request) -> UserMessage:
        """The message in ``request``, or :class:`Refused`."""
        body = public_input.json_object(request.body)
        sender = public_input.sender_id(body.get("sender"))
        text = public_input.message_text(body.get("message"))
        address = public_input.client_address(request)
        metadata = clean_metadata(body.get("metadata"), address)
        client_id = public_input.message_id(body.get("message_id"))
        if client_id:  # a resend of this id is answered, not handled again (kefu.patches.repeat_messages)
            metadata[MESSAGE_ID_KEY] = client_id
        public_input.check_rate(self.name(), address, sender)
        return UserMessage(text, CollectingOutputChannel(), sender, input_channel=self.name(),
                           metadata=metadata, message_id=client_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                message = self.read(request)
            except Refused as refused:
                logger.info("REST webhook refused a request: %s", refused)
                return refusal(refused)
            return response.json(await self.answer(message, on_new_message))

        return webhook

    @staticmethod
    async def answer(message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                     ) -> list:
        collector: Optional[CollectingOutputChannel] = message.output_channel
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            logger.error("REST message of %s timed out", message.sender_id)
        except LockError:  # still busy with this conversation's earlier messages
            logger.warning("REST: a message of %s not taken: its conversation stayed locked", message.sender_id)
            if not collector.messages:
                return [{"recipient_id": message.sender_id, "text": BUSY_TEXT}]
        except Exception:
            logger.exception("REST message of %s failed", message.sender_id)
            if not collector.messages:
                return [{"recipient_id": message.sender_id, "text": FAILURE_TEXT}]
        return collector.messages
