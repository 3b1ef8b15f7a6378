"""What a web chat customer sees again after a reload, read from Rasa's tracker.

The page asks its own server (``/api/history``), which reads the tracker with the
token; the browser gets only the lines a customer saw: their texts (a pressed button
shown as its title), the bot's and agents' texts and buttons, and who wrote each —
never slots, intents, emotions or desk notes.  Only conversations that came in over
the web chat are answered: their ids are random and the page's own credential, while
REST or WeChat ids may be guessable.
"""
import re
from typing import Any, Dict, Iterable, List

from kefu.handoff.transcript import AGENT_MARK
from kefu.rasa_client import RasaClient, RasaError

WEB_CHANNEL = "socketio"
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")  # as Rasa makes them: uuid4().hex


class HistoryUnavailable(RuntimeError):
    """Rasa did not answer; the page keeps what it shows and says so."""


def valid_session_id(value: Any) -> bool:
    return isinstance(value, str) and bool(SESSION_ID.match(value))


def fetch_tracker(rasa_url: str, token: str, session_id: str) -> Dict[str, Any]:
    try:
        return RasaClient(rasa_url, token, timeout=10).tracker(session_id)
    except RasaError as error:
        raise HistoryUnavailable(str(error)) from error


def customer_view(tracker: Dict[str, Any]) -> Dict[str, Any]:
    """``{"messages": [...], "paused": bool}`` for a web chat conversation."""
    events = tracker.get("events") or []
    if not came_from_web_chat(events):
        return {"messages": [], "paused": False}
    return {"messages": messages(events), "paused": bool(tracker.get("paused"))}


def came_from_web_chat(events: Iterable[Dict[str, Any]]) -> bool:
    return any(e.get("event") == "user" and e.get("input_channel") == WEB_CHANNEL for e in events)


def messages(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Lines ``{"role": customer|bot|agent, "text", "buttons"?, "agent"?}`` in order."""
    lines: List[Dict[str, Any]] = []
    buttons: List[Dict[str, str]] = []  # of the latest bot message: titles of pressed payloads
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text") is not None:
            lines.append({"role": "customer", "text": shown_user_text(event["text"], buttons)})
        elif kind == "bot" and event.get("text"):
            new = bot_lines(event)
            buttons = new[-1].get("buttons") or buttons
            lines.extend(new)
    return lines


def shown_user_text(text: str, buttons: List[Dict[str, str]]) -> str:
    """A pressed button's title instead of its payload, as the page showed it."""
    for button in buttons:
        if button["payload"] == text:
            return button["title"]
    return text


def bot_lines(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One bot event as the socket.io channel sent it: split at blank lines, the
    buttons on the last part."""
    metadata = event.get("metadata") or {}
    base: Dict[str, Any] = {"role": "bot"}
    if metadata.get("kefu_from") == AGENT_MARK:
        base = {"role": "agent", "agent": metadata.get("agent") or ""}
    parts = event["text"].strip().split("\n\n")
    lines = [dict(base, text=part) for part in parts]
    buttons = (event.get("data") or {}).get("buttons") or []
    if buttons:
        lines[-1]["buttons"] = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                                for b in buttons]
    return lines
