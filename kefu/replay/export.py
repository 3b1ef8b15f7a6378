"""From stored conversations to tests: Rasa test stories and NLU examples.

Stories are written by Rasa's own ``YAMLStoryWriter`` in the end-to-end test format
(customer text with its intent), from the tracker's events, after the trainer's
corrections (a turn's intent, an action renamed).  A hand-off or an action forced by
a FollowupAction ends the story (see STOP_EVENTS).  Personal data is replaced by
same-length placeholders, so entity positions stay right and no real phone number
lands in the repository.  NLU examples go through Rasa's ``RasaYAMLWriter``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from kefu.replay.conversations import Conversation
from kefu.replay.mask import ADDRESS, ID_NUMBER, LANDLINE, PHONE, REGION_END, record_replacements
from kefu.settings import settings

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_EVENTS = ("user_featurization", "action_execution_rejected")
# A hand-off pause ends the story: what a person does next is not the bot's to predict.
# So does a FollowupAction: an action forced by the previous one is no prediction, and
# Rasa's story format cannot say that it was forced.
STOP_EVENTS = ("pause", "followup")


class ExportError(ValueError):
    pass


@dataclass
class Corrections:
    """A trainer's fixes: the right intent of a turn; an action that should have run."""
    intents: Dict[int, str] = field(default_factory=dict)  # turn -> intent
    actions: Dict[int, Dict[str, str]] = field(default_factory=dict)  # turn -> {old: new}


def export_dir() -> Path:
    return settings().replay_export_dir


def default_story_file() -> Path:
    return export_dir() / "test_replay_stories.yml"


def default_nlu_file() -> Path:
    return settings().replay_review_dir / "replay_nlu.yml"


@lru_cache(maxsize=1)
def load_domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


def check_corrections(corrections: Corrections) -> None:
    domain = load_domain()
    for turn, intent in corrections.intents.items():
        if intent not in domain.intents:
            raise ExportError(f"turn {turn}: {intent!r} is not an intent of the domain")
    for turn, renames in corrections.actions.items():
        for new in renames.values():
            if new not in domain.action_names_or_texts:
                raise ExportError(f"turn {turn}: {new!r} is not an action of the domain")


# --- personal data -------------------------------------------------------------------

def _same_length(text: str, keep_head: int, keep_tail: int) -> str:
    middle = len(text) - keep_head - keep_tail
    return text[:keep_head] + "0" * middle + text[len(text) - keep_tail:]


def pseudonymize(text: Any) -> Any:
    """Phones, ID numbers, names and addresses of the order records, replaced by
    placeholders of the same length (a phone stays a phone: NLU treats it alike)."""
    if not isinstance(text, str) or not text:
        return text
    text = ID_NUMBER.sub(lambda m: _same_length(m.group(0), 6, 0), text)
    text = PHONE.sub(lambda m: _zero_middle(m.group(0)), text)
    text = LANDLINE.sub(lambda m: re.sub(r"\d", "0", m.group(0)[:-2]) + m.group(0)[-2:], text)
    for original, _ in record_replacements():
        text = text.replace(original, "某" * len(original))
    return ADDRESS.sub(_street_placeholder, text)


def _zero_middle(phone: str) -> str:
    """138 1234 5678 -> 138 0000 5678 (the same shape, so NLU reads it as a phone)."""
    head = len(phone) - len(phone.lstrip("+0086 -"))  # noqa: B005 (a set of characters) if phone.startswith(("+", "0086", "86")) else 0
    body = phone[head:]
    return phone[:head] + body[:3] + re.sub(r"\d", "0", body[3:-4]) + body[-4:]


def _street_placeholder(match: "re.Match") -> str:
    region = REGION_END.match(match.group(0))
    keep = region.group(0) if region else ""
    return keep + "某" * (len(match.group(0)) - len(keep))


def _scrub(value: Any) -> Any:
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    return pseudonymize(value)


# --- stories ---------------------------------------------------------------------------

def story_events(events: List[Dict[str, Any]], corrections: Corrections) -> List[Dict[str, Any]]:
    """The events to write: corrected, scrubbed, up to the first stop event.  A forced
    action drops its whole turn, so the story ends where the bot listened."""
    chosen, turn = [], 0
    for event in events:
        kind = event.get("event")
        if kind == "followup":
            last_user = max((i for i, e in enumerate(chosen) if e.get("event") == "user"), default=0)
            return chosen[:last_user]
        if kind in STOP_EVENTS:
            break
        if kind in SKIPPED_EVENTS:
            continue
        event = dict(event)
        if kind == "user":
            turn += 1
            event = _user_event(event, corrections.intents.get(turn))
        elif kind == "action" and event.get("name") in corrections.actions.get(turn, {}):
            event["name"] = corrections.actions[turn][event["name"]]
        elif kind == "slot":
            event["value"] = _scrub(event.get("value"))
        elif kind == "bot":
            continue  # responses follow from the actions; the story checks those
        chosen.append(event)
    return chosen


def _user_event(event: Dict[str, Any], intent: Optional[str]) -> Dict[str, Any]:
    parse = dict(event.get("parse_data") or {})
    if intent:
        parse["intent"] = {"name": intent, "confidence": 1.0}
    text = event.get("text") or ""
    if text.startswith("/"):
        text = None  # a button: the story names its intent, as Rasa's own stories do
        parse["entities"] = []
    else:
        text = pseudonymize(text)
        parse["entities"] = [dict(e, value=pseudonymize(e.get("value"))) for e in parse.get("entities") or []]
    parse["text"] = text
    return dict(event, text=text, parse_data=parse)


def story_name(conversation: Conversation) -> str:
    return f"replay {conversation.summary.sender_id}"


def stories_yaml(conversations: Iterable[Conversation],
                 corrections: Optional[Dict[str, Corrections]] = None) -> Tuple[str, List[str]]:
    """The test stories as YAML, and the ids of conversations with nothing to test."""
    from rasa.shared.core.events import Event
    from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter
    from rasa.shared.core.training_data.structures import Story

    corrections = corrections or {}
    steps, skipped = [], []
    for conversation in conversations:
        fixes = corrections.get(conversation.summary.sender_id) or Corrections()
        check_corrections(fixes)
        chosen = story_events(conversation.events, fixes)
        events = [Event.from_parameters(e) for e in chosen]
        if not any(e.get("event") == "user" for e in chosen):
            skipped.append(conversation.summary.sender_id)  # nothing the model predicted
            continue
        steps.extend(Story.from_events([e for e in events if e], story_name(conversation)).story_steps)
    if not steps:
        raise ExportError("nothing to export: each conversation stops (hand-off or forced action) "
                          "before the bot answered a customer message: " + ", ".join(skipped))
    return YAMLStoryWriter().dumps(steps, is_appendable=False, is_test_story=True), skipped


def write_stories(conversations: List[Conversation], path: Optional[Path] = None,
                  corrections: Optional[Dict[str, Corrections]] = None) -> Tuple[Path, List[str]]:
    """Writes (or updates) the test story file: a story of the same name is replaced.
    Returns the file and the conversations skipped (see :func:`stories_yaml`)."""
    from rasa.shared.utils.io import read_yaml, write_text_file

    path = Path(path or default_story_file())
    if not path.name.startswith("test_"):
        raise ExportError("Rasa runs test stories only from files named test_*.yml")
    text, skipped = stories_yaml(conversations, corrections)
    new = read_yaml(text)
    names = {story["story"] for story in new["stories"]}
    kept = []
    if path.exists():
        kept = [s for s in (read_yaml(path.read_text(encoding="utf-8")) or {}).get("stories") or []
                if s.get("story") not in names]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_file(_dump({"version": new["version"], "stories": kept + new["stories"]}), path)
    return path, skipped


def _dump(data: Dict[str, Any]) -> str:
    import io

    from rasa.shared.utils.io import write_yaml

    buffer = io.StringIO()
    write_yaml(data, buffer)
    return buffer.getvalue()


# --- NLU ---------------------------------------------------------------------------------

def nlu_messages(conversation: Conversation, corrections: Optional[Corrections] = None):
    from rasa.shared.nlu.training_data.message import Message

    fixes = corrections or Corrections()
    messages = []
    for turn in conversation.turns:
        if not turn.index or not turn.text or turn.text.startswith("/"):
            continue
        intent = fixes.intents.get(turn.index) or turn.intent
        if not intent or intent == "nlu_fallback":
            continue  # nothing to learn until a trainer names the intent
        messages.append(Message.build(pseudonymize(turn.text), intent))
    return messages


def write_nlu(conversations: List[Conversation], path: Optional[Path] = None,
              corrections: Optional[Dict[str, Corrections]] = None) -> Path:
    """NLU examples, one per customer message, with the corrected intents, for review."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    corrections = corrections or {}
    messages = []
    for conversation in conversations:
        fixes = corrections.get(conversation.summary.sender_id)
        if fixes:
            check_corrections(fixes)
        messages.extend(nlu_messages(conversation, fixes))
    path = Path(path or default_nlu_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    RasaYAMLWriter().dump(str(path), TrainingData(training_examples=messages))
    return path
