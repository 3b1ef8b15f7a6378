"""Conversations for trainers: a summary per conversation (for the list and its
filters) and the full turn view, both masked unless asked otherwise.

Building a summary parses every event and runs the guard audit, so results are kept
in memory per conversation and rebuilt only when it has new events (the events
table's last id changes).

A conversation that cannot be read (bad JSON, malformed events, an id the store cannot
hold) is *broken*: its summary says why, lists and reports skip it, and opening it
raises :class:`BrokenConversation`.  One bad conversation never breaks a page of many.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from kefu.complaint import STEPS
from kefu.replay.mask import mask_text, mask_value, record_replacements
from kefu.replay.source import MAX_SENDER, BrokenConversation, ConversationRow, ConversationSource
from kefu.replay.turns import Turn, annotate, build_turns

RERUN_PREFIX = "kefu-rerun-"  # conversations the re-run made; hidden unless asked for
CACHE_SIZE = 2000
logger = logging.getLogger(__name__)


@dataclass
class Summary:
    sender_id: str
    started: float
    last: float
    events: int
    turns: int
    channel: Optional[str] = None
    category: Optional[str] = None
    order_id: Optional[str] = None
    handed_off: bool = False
    handoff_reasons: List[str] = field(default_factory=list)
    min_confidence: Optional[float] = None
    emotion: Optional[str] = None  # the label of the strongest emotion
    emotion_intensity: Optional[float] = None
    rating: Optional[int] = None
    findings: List[str] = field(default_factory=list)  # behaviour ids, one per finding
    steps: List[str] = field(default_factory=list)  # six-step positions reached, in order
    complete: bool = False  # all six steps, in order
    marks: Dict[str, int] = field(default_factory=dict)  # note kind -> count
    first_text: str = ""
    search_text: str = ""  # masked customer and bot text, for the free-text filter
    broken: Optional[str] = None  # why it cannot be read; None for a readable one
    emotion_start: Optional[str] = None  # the first and the last customer message's emotion
    emotion_end: Optional[str] = None

    @property
    def is_rerun(self) -> bool:
        return self.sender_id.startswith(RERUN_PREFIX)

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data.pop("search_text")
        return data


@dataclass
class Conversation:
    summary: Summary
    turns: List[Turn]
    events: List[Dict[str, Any]]


class Replay:
    """Reads, annotates and caches conversations of one tracker store."""

    def __init__(self, source: Optional[ConversationSource] = None, audit: bool = True):
        self.source = source or ConversationSource()
        self.audit = audit
        self._cache: "OrderedDict[str, Tuple[int, Conversation]]" = OrderedDict()
        self._lock = threading.Lock()

    def summaries(self, include_reruns: bool = False) -> List[Summary]:
        """Every conversation's summary, broken ones included (``summary.broken``)."""
        rows = [row for row in self.source.list()
                if include_reruns or not row.sender_id.startswith(RERUN_PREFIX)]
        return [self._load(row).summary for row in rows]

    def conversation(self, sender_id: str) -> Conversation:
        conversation = self._load(self.source.row(sender_id))
        if conversation.summary.broken:
            raise BrokenConversation(conversation.summary.broken)
        return conversation

    def _load(self, row: ConversationRow) -> Conversation:
        with self._lock:
            cached = self._cache.get(row.sender_id)
            if cached and cached[0] == row.last_id:
                self._cache.move_to_end(row.sender_id)
                return cached[1]
        conversation = self._read(row)
        with self._lock:
            self._cache[row.sender_id] = (row.last_id, conversation)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return conversation

    def _read(self, row: ConversationRow) -> Conversation:
        if not row.sender_id.strip() or len(row.sender_id) > MAX_SENDER:
            return broken(row, f"会话 id 长 {len(row.sender_id)} 个字符，应为 1 到 {MAX_SENDER} 个")
        try:
            events = self.source.events(row.sender_id)
            turns = annotate(build_turns(events), events, audit=self.audit)
            return Conversation(summarize(row, turns), turns, events)
        except BrokenConversation as error:
            return broken(row, str(error))
        except Exception as error:  # noqa: BLE001 (any malformed event: this one only is broken)
            logger.warning("conversation %.80r cannot be read: %r", row.sender_id, error)
            return broken(row, f"事件格式有误，无法解析（{type(error).__name__}: {str(error)[:120]}）")


def broken(row: ConversationRow, why: str) -> Conversation:
    return Conversation(Summary(row.sender_id, row.first_at, row.last_at, row.events, 0, broken=why), [], [])


def summarize(row: ConversationRow, turns: List[Turn]) -> Summary:
    customer = [t for t in turns if t.index]
    summary = Summary(row.sender_id, row.first_at, row.last_at, row.events, len(customer))
    summary.channel = next((t.channel for t in customer if t.channel), None)
    summary.category = _last_slot(turns, "complaint_category")
    summary.order_id = _last_slot(turns, "order_id")
    summary.handoff_reasons = [t.handoff for t in turns if t.handoff]
    summary.handed_off = bool(summary.handoff_reasons)
    confidences = [t.confidence for t in customer if t.confidence is not None and not t.text.startswith("/")]
    summary.min_confidence = min(confidences) if confidences else None
    strongest = max((t for t in customer if t.intensity is not None and t.emotion),
                    key=lambda t: t.intensity, default=None)
    if strongest:
        summary.emotion, summary.emotion_intensity = strongest.emotion, strongest.intensity
    felt = [t.emotion for t in customer if t.emotion and not (t.text or "").startswith("/")]
    if felt:
        summary.emotion_start, summary.emotion_end = felt[0], felt[-1]
    summary.rating = _rating(turns)
    summary.findings = [f["id"] for t in turns for f in t.findings]
    summary.steps = [s for t in turns for s in t.steps_entered if s in STEPS]
    summary.complete = _walks_all_steps(summary.steps)
    summary.marks = dict(Counter(note.split(":")[0] for t in turns for note in t.notes))
    replacements = record_replacements()
    summary.first_text = mask_text(customer[0].text, replacements)[:80] if customer else ""
    texts = [t.text or "" for t in customer] + [m.text for t in turns for m in t.messages]
    summary.search_text = mask_text("\n".join(texts), replacements).lower()
    return summary


def _last_slot(turns: List[Turn], name: str):
    value = None
    for turn in turns:
        if turn.slots.get(name) is not None:
            value = turn.slots[name]
    return value


def _rating(turns: List[Turn]) -> Optional[int]:
    """The customer's last 1-5 rating: the satisfaction slot, or a rating entity."""
    rating = None
    for turn in turns:
        value = turn.slots.get("satisfaction")
        if turn.intent == "rate":
            value = next((e["value"] for e in turn.entities if e["entity"] == "rating"), value)
        try:
            number = int(float(value))
        except (TypeError, ValueError):
            continue
        if 1 <= number <= 5:
            rating = number
    return rating


def _walks_all_steps(steps: List[str]) -> bool:
    position = 0
    for step in steps:
        if position < len(STEPS) and step == STEPS[position]:
            position += 1
    return position == len(STEPS)


def masked_turns(turns: List[Turn]) -> List[Dict[str, Any]]:
    replacements = record_replacements()
    return [mask_value(turn.to_dict(), replacements) for turn in turns]
