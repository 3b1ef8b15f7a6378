"""Re-run: the customer's messages of a stored conversation, fed to the current model
in a fresh conversation, and where the new run differs, turn by turn.

Messages go in through the REST webhook (as a customer's would, so actions and the
guard run); the new tracker is read back through the token-protected HTTP API, both
with kefu's one Rasa client (:mod:`kefu.rasa_client`).
The fresh conversation id starts with ``kefu-rerun-`` so lists and reports leave it out.
It runs the real bot: tickets it creates are real rows, marked by that sender id.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from kefu import rasa_client
from kefu.replay.conversations import RERUN_PREFIX, Conversation
from kefu.replay.turns import Turn, annotate, build_turns

MAX_TURNS = 200  # a re-run waits for every reply; longer ones belong in a batch job
INTENSITY_CHANGE = 0.2  # a smaller change of intensity with the same label is noise
COMPARED = ("intent", "emotion", "step", "responses")


class RerunError(RuntimeError):
    """Rasa could not run the conversation; the message says why."""


@dataclass
class TurnDiff:
    index: int
    text: str
    then: Dict[str, Any]
    now: Dict[str, Any]
    differences: List[str] = field(default_factory=list)


@dataclass
class RerunResult:
    sender_id: str
    rerun_id: str
    turns: List[TurnDiff]

    @property
    def changed(self) -> List[TurnDiff]:
        return [turn for turn in self.turns if turn.differences]

    def to_dict(self) -> Dict[str, Any]:
        return {"sender_id": self.sender_id, "rerun_id": self.rerun_id,
                "changed_turns": len(self.changed), "turns": [asdict(t) for t in self.turns]}


class RasaClient(rasa_client.RasaClient):
    """kefu's Rasa client; its failures are re-run failures."""

    def _call(self, *args) -> Any:
        try:
            return super()._call(*args)
        except rasa_client.RasaError as error:
            raise RerunError(str(error)) from error


def rerun_id_for(sender_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", sender_id)[:40]
    return f"{RERUN_PREFIX}{safe}-{uuid.uuid4().hex[:8]}"


def rerun(conversation: Conversation, client: Optional[RasaClient] = None) -> RerunResult:
    client = client or RasaClient()
    original = [turn for turn in conversation.turns if turn.index]
    if not original:
        raise RerunError("the conversation has no customer message to re-run")
    if len(original) > MAX_TURNS:
        raise RerunError(f"the conversation has {len(original)} customer messages; "
                         f"a re-run takes at most {MAX_TURNS}")
    new_id = rerun_id_for(conversation.summary.sender_id)
    for turn in original:
        client.say(new_id, turn.text or "")
    events = client.events(new_id)
    fresh = annotate(build_turns(events), events, audit=False)
    fresh_by_index = {turn.index: turn for turn in fresh}
    diffs = [compare(turn, fresh_by_index.get(turn.index)) for turn in original]
    return RerunResult(conversation.summary.sender_id, new_id, diffs)


def facts_of(turn: Optional[Turn]) -> Dict[str, Any]:
    if turn is None:
        return {"intent": None, "confidence": None, "emotion": None, "intensity": None,
                "step": None, "responses": [], "signature": []}
    return {"intent": turn.intent, "confidence": turn.confidence, "emotion": turn.emotion,
            "intensity": turn.intensity, "step": turn.step,
            "responses": [m.text for m in turn.messages if m.role == "bot"],
            "signature": [response_signature(m.template, m.text) for m in turn.messages if m.role == "bot"]}


def response_signature(template: Optional[str], text: str) -> str:
    """What must match for two responses to count as the same: the domain response's
    name, else the text with numbers (ticket ids, times) blanked."""
    return template or re.sub(r"\d+", "#", text)


def compare(then_turn: Turn, now_turn: Optional[Turn]) -> TurnDiff:
    then, now = facts_of(then_turn), facts_of(now_turn)
    differences = []
    if then["intent"] != now["intent"]:
        differences.append("intent")
    if then["emotion"] != now["emotion"] or abs((then["intensity"] or 0) - (now["intensity"] or 0)) >= INTENSITY_CHANGE:
        differences.append("emotion")
    if then["step"] != now["step"]:
        differences.append("step")
    if then.pop("signature") != now.pop("signature"):
        differences.append("responses")
    return TurnDiff(then_turn.index, then_turn.text or "", then, now, differences)
