"""A Sanic server on loopback serving kefu's input channels as Rasa registers them,
with a fake bot in place of Rasa's agent (no model, starts in a moment)."""
import asyncio
import socket
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

Answer = Callable[[str], List[Dict[str, Any]]]


def echo(text: str) -> List[Dict[str, Any]]:
    return [{"text": f"收到：{text}"}]


class FakeBot:
    """Answers through the message's output channel and records each message."""

    def __init__(self, answer: Answer = echo) -> None:
        self.answer = answer
        self.calls: List[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.calls.append(message)
        for bot_message in self.answer(message.text):
            await message.output_channel.send_response(message.sender_id, dict(bot_message))


@asynccontextmanager
async def serving(channels: list, bot: Optional[FakeBot] = None) -> AsyncIterator[str]:
    """Yields the base URL (``http://127.0.0.1:PORT``) of an app serving ``channels``."""
    Sanic.test_mode = True  # several apps in one process, as sanic-testing does
    app = Sanic(f"channel_test_{uuid.uuid4().hex}")
    app.ctx.agent = bot or FakeBot()
    register(channels, app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def hang_up(client) -> None:
    """Leaves a long-polling Socket.IO connection as a closing browser tab does.

    After the client's close packet, Engine.IO's server answers the client's pending
    long-poll only at its ping interval (25 + 5 s); a browser aborts that request, while
    python-socketio's ``disconnect()`` waits for it. The server sees the same close.
    """
    if client.eio.state == "connected":
        await client.eio.disconnect(abort=True)


def run(coroutine) -> Any:
    return asyncio.run(coroutine)
