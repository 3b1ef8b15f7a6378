"""A tiny static server for the web chat page (standard library only).

Routes: ``/`` the page, ``/static/*`` its CSS and JS, ``/vendor/socket.io.min.js`` the
socket.io client installed by ``npm ci`` (nothing is fetched from a CDN), ``/config.js``
where Rasa is, ``/api/history?session=ID`` the customer's own transcript (see
:mod:`kefu.webchat.history`), ``/healthz``.
"""
import json
import logging
import mimetypes
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from kefu.webchat import history

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SOCKET_IO = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
logger = logging.getLogger(__name__)

# Scripts and styles only from this server; the socket may go to Rasa on another port.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Settings:
    """Where Rasa is: ``rasa_url`` for this server (with the token), ``public_rasa_url``
    for the browser (empty: the page's own host name on Rasa's port)."""

    def __init__(self, rasa_url: str, token: str, public_rasa_url: str = ""):
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.public_rasa_url = public_rasa_url.rstrip("/")
        self.rasa_port = urlsplit(self.rasa_url).port or 5005

    def page_config(self) -> dict:
        return {"rasaUrl": self.public_rasa_url, "rasaPort": self.rasa_port,
                "socketPath": "/socket.io", "maxLength": 1000, "typingPath": "/api/typing"}


class Handler(BaseHTTPRequestHandler):
    server_version = "kefu-webchat"

    def __init__(self, *args, settings: Settings, **kwargs):
        self.settings = settings
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self.send_file(STATIC / "index.html")
        elif url.path.startswith("/static/"):
            self.send_file(static_file(url.path[len("/static/"):]))
        elif url.path == "/vendor/socket.io.min.js":
            self.send_file(SOCKET_IO, missing="run `make setup` (npm ci in kefu/webchat)")
        elif url.path == "/config.js":
            script = "window.KEFU_CONFIG = " + json.dumps(self.settings.page_config()) + ";\n"
            self.send_bytes(script.encode(), "application/javascript")
        elif url.path == "/api/history":
            self.send_history(parse_qs(url.query).get("session", [""])[0])
        elif url.path == "/healthz":
            self.send_json({"status": "ok"})
        else:
            self.send_json({"error": "not found"}, HTTPStatus.NOT_FOUND)

    def send_history(self, session_id: str) -> None:
        if not history.valid_session_id(session_id):
            self.send_json({"error": "bad session id"}, HTTPStatus.BAD_REQUEST)
            return
        try:
            tracker = history.fetch_tracker(self.settings.rasa_url, self.settings.token, session_id)
        except history.HistoryUnavailable as error:
            logger.warning("%s", error)
            self.send_json({"error": "history unavailable"}, HTTPStatus.BAD_GATEWAY)
            return
        view = history.customer_view(tracker)
        view["handoff"] = handoff_status(session_id)
        self.send_json(view)

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        """``/api/typing?session=ID``: the customer is typing; the desk shows it."""
        url = urlsplit(self.path)
        if url.path != "/api/typing":
            self.send_json({"error": "not found"}, HTTPStatus.NOT_FOUND)
            return
        session_id = parse_qs(url.query).get("session", [""])[0]
        if not history.valid_session_id(session_id):
            self.send_json({"error": "bad session id"}, HTTPStatus.BAD_REQUEST)
            return
        self.send_json({"announced": typing_announced(session_id)})

    def send_file(self, path: Optional[Path], missing: str = "not found") -> None:
        if path is None or not path.is_file():
            self.send_json({"error": missing}, HTTPStatus.NOT_FOUND)
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.send_bytes(path.read_bytes(), kind)

    def send_json(self, body: dict, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_bytes(json.dumps(body, ensure_ascii=False).encode(), "application/json", status)

    def send_bytes(self, body: bytes, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        charset = "; charset=utf-8" if kind.startswith("text/") or kind.endswith(("json", "javascript")) else ""
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # a reload always gets the current page
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the standard library's name)
        logger.info("%s " + format, self.address_string(), *args)


def handoff_status(session_id: str) -> Optional[dict]:
    """What the header should say about a hand-off; None when the database is down
    (the page then shows what the transcript alone tells)."""
    from sqlalchemy.exc import SQLAlchemyError

    from kefu.handoff import escalations
    try:
        return escalations.customer_status(session_id)
    except (SQLAlchemyError, OSError):
        logger.warning("hand-off status of a web chat session unavailable", exc_info=True)
        return None


def typing_announced(session_id: str) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    from kefu.desk import events
    try:
        return events.customer_typing(session_id)
    except (SQLAlchemyError, OSError):
        logger.warning("typing of a web chat session not announced", exc_info=True)
        return False


def static_file(name: str) -> Optional[Path]:
    """A file directly in ``static/``; anything else (``..``, sub-folders) is refused."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    return STATIC / name


def make_server(host: str, port: int, settings: Settings) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), partial(Handler, settings=settings))
    server.daemon_threads = True
    return server
