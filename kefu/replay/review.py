"""The trainers' review queue: corrected customer messages waiting to become NLU data.

From a replayed turn a trainer sets the right intent and entities; the example joins the
queue (``pending``) in kefu's database.  A trainer approves or rejects it; approved
examples export as Rasa NLU YAML, written by Rasa's own ``RasaYAMLWriter`` and read
back by ``RasaYAMLReader`` before anyone gets it, ready to merge into ``data/``.  This
is what Rasa X's "annotate and export" did.

The stored text is pseudonymized (:func:`kefu.replay.export.pseudonymize`): no phone,
ID number, name or street address of a customer reaches the database or the YAML.
Entities are given as ``name=value`` and found in that text; a value may be typed as
the trainer saw it (masked, ``139****5678``) or as the customer wrote it.
"""
from __future__ import annotations

import re
import threading
import weakref
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Engine

from kefu.replay.conversations import Conversation
from kefu.replay.export import load_domain, pseudonymize
from kefu.replay.mask import mask_text
from kefu.store.db import get_engine, session_scope
from kefu.store.models import Base

STATUSES = ("pending", "approved", "rejected")
MAX_TEXT = 500
ENTITY_SPEC = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*[=＝]\s*([^,，;；\n]+)")


class ReviewError(ValueError):
    """A correction or decision that cannot be taken; the message (Chinese) says why."""


class ReviewExample(Base):
    __tablename__ = "nlu_review"
    __table_args__ = (UniqueConstraint("sender_id", "turn", name="uq_nlu_review_turn"),
                      CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                                      name="ck_nlu_review_status"))

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    turn = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)  # pseudonymized
    intent = Column(String(100), nullable=False)
    entities = Column(JSON, nullable=False, default=list)  # [{entity, value, start, end}]
    model_intent = Column(String(100))  # what the bot understood then
    model_confidence = Column(Float)
    status = Column(String(16), nullable=False, default="pending")
    added_by = Column(String(64), nullable=False)
    added_at = Column(DateTime, nullable=False)
    reviewed_by = Column(String(64))
    reviewed_at = Column(DateTime)

    def to_dict(self) -> Dict[str, Any]:
        return {key: getattr(self, key) for key in
                ("id", "sender_id", "turn", "text", "intent", "entities", "model_intent",
                 "model_confidence", "status", "added_by", "added_at", "reviewed_by", "reviewed_at")}


_ready: "weakref.WeakSet[Engine]" = weakref.WeakSet()
_lock = threading.Lock()


def _engine() -> Engine:
    engine = get_engine()
    with _lock:
        if engine not in _ready:
            Base.metadata.create_all(engine, tables=[ReviewExample.__table__])
            _ready.add(engine)
    return engine


# --- adding a correction ------------------------------------------------------------------

def add_correction(conversation: Conversation, turn_index: int, intent: str, entities: str,
                   by: str) -> Dict[str, Any]:
    """Queue the corrected turn (again ``pending`` if it was queued before)."""
    turn = next((t for t in conversation.turns if t.index == turn_index and t.index), None)
    if turn is None or not turn.text:
        raise ReviewError(f"第 {turn_index} 轮没有顾客的话")
    if turn.text.startswith("/"):
        raise ReviewError(f"第 {turn_index} 轮是按钮，不是顾客打的字，不用标注")
    intent = (intent or "").strip() or (turn.intent or "")
    domain = load_domain()
    if intent not in domain.intents or intent == "nlu_fallback":
        raise ReviewError(f"意图 {intent[:50]!r} 不在 domain.yml 的意图里")
    text = pseudonymize(turn.text)[:MAX_TEXT]
    found = locate_entities(text, entities, turn.entities)
    unknown = [e["entity"] for e in found if e["entity"] not in domain.entities]
    if unknown:
        raise ReviewError("实体 " + "、".join(unknown) + " 不在 domain.yml 的实体里")
    values = dict(sender_id=conversation.summary.sender_id, turn=turn_index, text=text, intent=intent,
                  entities=found, model_intent=turn.intent, model_confidence=turn.confidence,
                  status="pending", added_by=by, added_at=_now(), reviewed_by=None, reviewed_at=None)
    with session_scope(_engine()) as session:
        example = (session.query(ReviewExample)
                   .filter_by(sender_id=values["sender_id"], turn=turn_index).one_or_none())
        if example is None:
            example = ReviewExample()
            session.add(example)
        for key, value in values.items():
            setattr(example, key, value)
        session.flush()
        return example.to_dict()


def entities_spec(turn_entities: List[Dict[str, Any]]) -> str:
    """The turn's entities as the form shows them: ``name=value`` with masked values."""
    return "，".join(f"{e['entity']}={mask_text(str(e['value']))}" for e in turn_entities
                    if e.get("entity") and e.get("value") not in (None, ""))


def locate_entities(text: str, spec: str, original: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``name=value`` pairs (separated by commas, semicolons or new lines) as Rasa
    entities with their place in the pseudonymized ``text``."""
    spec = (spec or "").strip()
    pairs = ENTITY_SPEC.findall(spec)
    if spec and not pairs:
        raise ReviewError("实体的写法是 名称=值，多个用逗号分开，例如 order_id=KF20261101")
    found, taken = [], set()
    for name, value in pairs:
        value = value.strip()
        where = _find(text, value, original, taken)
        if where is None:
            raise ReviewError(f"在这句话里找不到实体 {name} 的值 {mask_text(value)!r}")
        start, end = where
        taken.add(where)
        found.append({"entity": name, "value": text[start:end], "start": start, "end": end})
    return sorted(found, key=lambda e: e["start"])


def _find(text: str, value: str, original: List[Dict[str, Any]], taken) -> Optional[Tuple[int, int]]:
    candidates = [value, pseudonymize(value), re.sub(r"\*{4}", "0000", value)]
    candidates += [pseudonymize(str(e.get("value"))) for e in original
                   if mask_text(str(e.get("value"))) == value]
    for candidate in candidates:
        if not candidate:
            continue
        start = text.find(candidate)
        while start >= 0:
            where = (start, start + len(candidate))
            if where not in taken:
                return where
            start = text.find(candidate, start + 1)
    return None


# --- the queue -----------------------------------------------------------------------------

def examples(status: Optional[str] = None) -> List[Dict[str, Any]]:
    with session_scope(_engine()) as session:
        query = session.query(ReviewExample)
        if status:
            query = query.filter_by(status=status)
        return [e.to_dict() for e in query.order_by(ReviewExample.added_at.desc(), ReviewExample.id.desc())]


def decide(example_id: int, decision: str, by: str) -> Dict[str, Any]:
    if decision not in ("approved", "rejected", "pending"):
        raise ReviewError("审核结果只能是 通过、不通过 或 退回待审")
    with session_scope(_engine()) as session:
        example = session.get(ReviewExample, example_id)
        if example is None:
            raise ReviewError(f"审核队列里没有第 {example_id} 条")
        example.status, example.reviewed_by, example.reviewed_at = decision, by, _now()
        session.flush()
        return example.to_dict()


# --- export --------------------------------------------------------------------------------

def export_yaml(chosen: Optional[List[Dict[str, Any]]] = None) -> str:
    """The approved examples as Rasa NLU YAML, checked by reading it back with Rasa."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader, RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    chosen = examples("approved") if chosen is None else chosen
    if not chosen:
        raise ReviewError("还没有审核通过的样例可以导出")
    messages = [Message(data={"text": e["text"], "intent": e["intent"],
                              **({"entities": e["entities"]} if e["entities"] else {})}) for e in chosen]
    text = RasaYAMLWriter().dumps(TrainingData(training_examples=messages))
    read = RasaYAMLReader().reads(text)
    if _shape(read.training_examples) != _shape(messages):
        raise ReviewError("导出的 YAML 读回来和审核队列不一致，没有导出")
    return text


def _shape(messages) -> List[Tuple[str, str, Tuple]]:
    return sorted((m.get("text"), m.get("intent"),
                   tuple(sorted((e["entity"], e["start"], e["end"]) for e in m.get("entities") or [])))
                  for m in messages)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)
