"""A Rasa conversation (its tracker events) as lines an agent reads.

Shared by the escalation record (a snapshot at hand-off) and the desk (live, from
Rasa's tracker).  Each customer line carries its emotion: from the NLU parse when the
pipeline adds one, else from the ``emotion_history`` slot the emotion action keeps.
Agent replies are bot events whose metadata says ``kefu_from: agent``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional

AGENT_MARK = "agent"  # metadata["kefu_from"] of a message an agent wrote
PUSH_MARK = "kefu_push"  # metadata flag: sent outside a customer's request (poll it)


def transcript(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Lines ``{"seq", "role": customer|bot|agent|system, "text", "at", "emotion", …}``.

    ``seq`` is the event's index in the tracker: stable, so the desk can ask for
    what is new.  ``at`` is the event's Unix timestamp.
    """
    events = list(events)
    history = _emotion_history(events)
    lines: List[Dict[str, Any]] = []
    paused = False
    for seq, event in enumerate(events):
        kind = event.get("event")
        if kind == "user":
            line = _customer_line(seq, event, history)
            line["while_paused"] = paused
            lines.append(line)
        elif kind == "bot" and event.get("text"):
            lines.append(_bot_line(seq, event))
        elif kind == "pause":
            paused = True
            lines.append(_system_line(seq, event, "已转人工，机器人暂停"))
        elif kind == "resume":
            paused = False
            lines.append(_system_line(seq, event, "人工处理结束，机器人继续"))
        elif kind in ("restart", "session_started"):
            paused = False
    return lines


def _customer_line(seq: int, event: Dict[str, Any], history: Dict[str, dict]) -> Dict[str, Any]:
    text = event.get("text") or ""
    parse = event.get("parse_data") or {}
    emotion = _emotion_of(parse.get("emotion")) or history.get(text.strip())
    return {"seq": seq, "role": "customer", "text": text, "at": event.get("timestamp"),
            "intent": (parse.get("intent") or {}).get("name"), "emotion": emotion}


def _bot_line(seq: int, event: Dict[str, Any]) -> Dict[str, Any]:
    metadata = event.get("metadata") or {}
    is_agent = metadata.get("kefu_from") == AGENT_MARK
    line = {"seq": seq, "role": "agent" if is_agent else "bot", "text": event["text"],
            "at": event.get("timestamp")}
    if is_agent:
        line["agent"] = metadata.get("agent")
    buttons = (event.get("data") or {}).get("buttons") or []
    if buttons:
        line["buttons"] = [button.get("title") for button in buttons]
    return line


def _system_line(seq: int, event: Dict[str, Any], text: str) -> Dict[str, Any]:
    return {"seq": seq, "role": "system", "text": text, "at": event.get("timestamp")}


def _emotion_of(value: Any) -> Optional[dict]:
    if not isinstance(value, dict) or not value.get("label"):
        return None
    return {"label": value["label"], "intensity": round(float(value.get("intensity") or 0), 2)}


def _emotion_history(events: List[Dict[str, Any]]) -> Dict[str, dict]:
    """Text → emotion, from every value the ``emotion_history`` slot took."""
    found: Dict[str, dict] = {}
    for event in events:
        if event.get("event") == "slot" and event.get("name") == "emotion_history":
            for entry in event.get("value") or []:
                emotion = _emotion_of(entry)
                if emotion and entry.get("text"):
                    found[entry["text"].strip()] = emotion
    return found


def customer_texts(events: Iterable[Dict[str, Any]]) -> List[str]:
    return [event.get("text") or "" for event in events if event.get("event") == "user"]


def pushed_messages(events: Iterable[Dict[str, Any]], after: float = 0.0) -> List[Dict[str, Any]]:
    """Messages sent to the customer outside a request (agent replies, the bot's
    question after a hand-off), newer than ``after`` — what a REST client polls."""
    found = []
    for event in events:
        metadata = event.get("metadata") or {}
        if (event.get("event") == "bot" and metadata.get(PUSH_MARK)
                and float(event.get("timestamp") or 0) > after):
            found.append({
                "text": event.get("text") or "",
                "from": "agent" if metadata.get("kefu_from") == AGENT_MARK else "bot",
                "at": event.get("timestamp"),
                "buttons": [{"title": b.get("title"), "payload": b.get("payload")}
                            for b in (event.get("data") or {}).get("buttons") or []],
            })
    return found


def as_local(timestamp: Optional[float]) -> Optional[str]:
    """A tracker timestamp as naive local ISO time (the store's convention)."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp)).replace(microsecond=0).isoformat()
