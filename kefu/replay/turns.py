"""A stored conversation as turns, with what a trainer looks for marked on them.

Turn n holds the n-th customer message and everything Rasa did until the next one:
its NLU parse (intent, confidence, entities, emotion), the actions, what the bot or an
agent said, the slots that changed, the six-step position, guard findings, hand-off.
Turn 0 is what happened before the first message.  Marks ("notes"): a step skipped,
a step stalled, confidence under the fallback threshold, emotion rising, a hand-off
that came late or never.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

from kefu.complaint import STEPS

ROOT = Path(__file__).resolve().parents[2]
# Slots that change on every message and say nothing new in a turn view.
QUIET_SLOTS = ("emotion_history", "complaint_account", "emotion_tone")
HIDDEN_ACTIONS = ("action_listen", "action_session_start")
STALL_TURNS = 2  # the form asks for the same slot this many turns in a row: stalled
RISE = 0.1  # negativity up by at least this much from one message to the next
NEGATIVITY = {"angry": 1.0, "disappointed": 0.6, "anxious": 0.5, "neutral": 0.0, "satisfied": -0.5}
AGENT_MARK = "agent"  # metadata kefu_from of a message an agent wrote (kefu.handoff)


@dataclass
class Message:
    role: str  # bot | agent
    text: str
    at: Optional[float]
    template: Optional[str] = None
    buttons: List[str] = field(default_factory=list)
    agent: Optional[str] = None
    guard: Optional[Dict[str, Any]] = None  # the runtime guard replaced the original


@dataclass
class Turn:
    index: int
    at: Optional[float] = None
    channel: Optional[str] = None
    text: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    entities: List[Dict[str, Any]] = field(default_factory=list)
    emotion: Optional[str] = None
    intensity: Optional[float] = None
    step: Optional[str] = None  # the six-step position after the turn
    steps_entered: List[str] = field(default_factory=list)
    actions: List[str] = field(default_factory=list)
    messages: List[Message] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)
    findings: List[Dict[str, Any]] = field(default_factory=list)
    handoff: Optional[str] = None  # the reason, when the bot handed over in this turn
    paused: bool = False  # the customer wrote while a person had the conversation
    notes: List[str] = field(default_factory=list)
    requested_slot: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def fallback_threshold() -> float:
    """The fallback classifier's threshold in config.yml (0.45 unless configured)."""
    import yaml

    try:
        config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return 0.45
    for component in config.get("pipeline") or []:
        if isinstance(component, dict) and str(component.get("name", "")).endswith(("FallbackClassifier", "ComplaintAwareFallback")):
            return float(component.get("threshold", 0.3))
    return 0.45


def build_turns(events: List[Dict[str, Any]]) -> List[Turn]:
    turns = [Turn(0)]
    paused = False
    handoff_reason = None
    for event in events:
        kind = event.get("event")
        turn = turns[-1]
        if kind == "user":
            turn = _user_turn(len(turns), event, paused)
            turn.step = turns[-1].step
            turn.requested_slot = turns[-1].requested_slot
            turns.append(turn)
        elif kind == "action" and event.get("name") not in HIDDEN_ACTIONS:
            turn.actions.append(event["name"])
            if event["name"] == "action_handoff":
                turn.handoff = handoff_reason or "customer_request"
        elif kind == "bot" and event.get("text"):
            turn.messages.append(_message(event))
        elif kind == "slot":
            handoff_reason = _apply_slot(turn, event, handoff_reason)
        elif kind == "pause":
            paused = True
        elif kind in ("resume", "restart", "session_started"):
            paused = False
    return turns


def _user_turn(index: int, event: Dict[str, Any], paused: bool) -> Turn:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    emotion = parse.get("emotion") if isinstance(parse.get("emotion"), dict) else {}
    entities = []  # DIET and the regex extractor often find the same one: show it once
    for e in parse.get("entities") or []:
        entity = {"entity": e.get("entity"), "value": e.get("value")} if isinstance(e, dict) else None
        if entity and entity not in entities:
            entities.append(entity)
    return Turn(index, at=event.get("timestamp"), channel=event.get("input_channel"),
                text=event.get("text") or "", intent=intent.get("name"),
                confidence=_round(intent.get("confidence")), entities=entities,
                emotion=emotion.get("label"), intensity=_round(emotion.get("intensity")),
                paused=paused)


def _message(event: Dict[str, Any]) -> Message:
    metadata = event.get("metadata") or {}
    buttons = [b.get("title") for b in (event.get("data") or {}).get("buttons") or [] if isinstance(b, dict)]
    is_agent = metadata.get("kefu_from") == AGENT_MARK
    guard = metadata.get("guard") if isinstance(metadata.get("guard"), dict) else None
    return Message("agent" if is_agent else "bot", event["text"], event.get("timestamp"),
                   template=metadata.get("utter_action"), buttons=buttons,
                   agent=metadata.get("agent") if is_agent else None, guard=guard)


def _apply_slot(turn: Turn, event: Dict[str, Any], handoff_reason):
    name, value = event.get("name"), event.get("value")
    if name == "complaint_step" and value:
        turn.steps_entered.append(value)
        turn.step = value
    if name == "requested_slot":
        turn.requested_slot = value
    if name == "handoff_reason":
        handoff_reason = value or handoff_reason
    if name == "emotion" and turn.index and turn.emotion is None:
        turn.emotion = value  # a model without emotion in the parse: the slot says it
    if name == "emotion_intensity" and turn.index and turn.intensity is None:
        turn.intensity = _round(value)
    if name not in QUIET_SLOTS:
        turn.slots[name] = value
    return handoff_reason


def _round(value) -> Optional[float]:
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return None


# --- marks -------------------------------------------------------------------------------

def annotate(turns: List[Turn], events: List[Dict[str, Any]], audit: bool = True) -> List[Turn]:
    _mark_steps(turns)
    _mark_confidence(turns)
    _mark_emotion(turns)
    _mark_escalation(turns)
    _add_findings(turns, events, audit)
    return turns


def _mark_steps(turns: List[Turn]) -> None:
    previous = None
    stalled_on, stalled_for = None, 0
    for turn in turns:
        for step in turn.steps_entered:
            if step in STEPS and previous in STEPS and STEPS.index(step) > STEPS.index(previous) + 1:
                missing = STEPS[STEPS.index(previous) + 1:STEPS.index(step)]
                turn.notes.append("skipped:" + ",".join(missing))
            previous = step if step in STEPS else previous
        asked = turn.requested_slot
        same = turn.index and asked and asked == stalled_on and not turn.steps_entered
        stalled_for = stalled_for + 1 if same else 0
        stalled_on = asked
        if stalled_for >= STALL_TURNS:
            turn.notes.append(f"stalled:{turn.step or '-'}:{asked}")


def _mark_confidence(turns: List[Turn]) -> None:
    threshold = fallback_threshold()
    for turn in turns:
        if turn.text is None or (turn.text or "").startswith("/"):
            continue  # a button payload is not classified
        if turn.intent == "nlu_fallback" or (turn.confidence is not None and turn.confidence < threshold):
            turn.notes.append("low_confidence")


def negativity(turn: Turn) -> Optional[float]:
    if turn.emotion is None or turn.intensity is None:
        return None
    return NEGATIVITY.get(turn.emotion, 0.0) * turn.intensity


def _mark_emotion(turns: List[Turn]) -> None:
    last = None
    for turn in turns:
        if (turn.text or "").startswith("/"):
            continue  # button presses carry no feeling
        value = negativity(turn)
        if value is None:
            continue
        if last is not None and value - last >= RISE:
            turn.notes.append("emotion_rose")
        last = value


def _mark_escalation(turns: List[Turn]) -> None:
    """The emotion mark or a request for a person should be followed by a hand-off in
    the same turn; a later one is late, none at all is missed."""
    needed_since = None
    for turn in turns:
        if needed_since is None and (turn.slots.get("needs_human") is True or turn.intent == "request_human"):
            needed_since = turn.index
        if turn.handoff:
            if needed_since is not None and turn.index > needed_since:
                turn.notes.append(f"late_handoff:{turn.index - needed_since}")
            needed_since = None
    if needed_since is not None and turns[-1].index > needed_since:
        turns[needed_since].notes.append("no_handoff")


def _add_findings(turns: List[Turn], events: List[Dict[str, Any]], audit: bool) -> None:
    for turn in turns:
        for message in turn.messages:
            for violation in (message.guard or {}).get("violations") or []:
                turn.findings.append({"id": violation.get("id"), "text": message.guard.get("original"),
                                      "why": violation.get("why"), "source": "replaced"})
    if not audit:
        return
    from kefu.guard.conversation import audit_events

    by_index = {turn.index: turn for turn in turns}
    for item in audit_events(events):
        turn = by_index.get(item["turn"])
        for violation in item["violations"]:
            if turn is not None:
                turn.findings.append({"id": violation.get("id"), "text": item["text"],
                                      "why": violation.get("why"), "source": "audit"})
