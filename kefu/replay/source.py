"""Reading stored conversations from Rasa's SQL tracker store.

The connection comes from ``endpoints.yml`` (``tracker_store``, with ``${VAR}``
expanded by Rasa's own reader) and the URL from ``SQLTrackerStore.get_db_url``; rows
are read from Rasa's own ``events`` table model, ordered by id like Rasa does.  We do
not instantiate ``SQLTrackerStore`` to read: its constructor retries forever while the
database is down, and a trainer's page must say so instead of hanging.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from kefu.settings import export_endpoint_defaults, settings

MAX_SENDER = 255  # the events.sender_id column


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store cannot be read; the message says why, without secrets."""


class ConversationNotFound(LookupError):
    pass


class BrokenConversation(ValueError):
    """A stored conversation that cannot be read (bad JSON, an event that is not an
    object, an id the store cannot hold); the message says what is wrong."""


@dataclass(frozen=True)
class ConversationRow:
    """One conversation as the events table lists it (no event is parsed)."""
    sender_id: str
    first_at: float
    last_at: float
    events: int
    last_id: int  # grows with every stored event: a cache key


def tracker_store_config(endpoints: Optional[str] = None) -> Dict[str, Any]:
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import read_endpoint_config

    export_endpoint_defaults()  # the same defaults as scripts/env.sh
    path = endpoints or str(settings().endpoints)
    try:
        config = read_endpoint_config(path, "tracker_store")
    except RasaException as error:
        raise TrackerStoreUnavailable(f"{path}: {error}") from error
    if config is None or not is_sql_store(config.type or ""):
        raise TrackerStoreUnavailable(f"{path} has no SQL tracker_store")
    return dict(config.kwargs)


def is_sql_store(store_type: str) -> bool:
    """`SQL`, or the module path of a subclass of Rasa's SQL store (kefu's caching one)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.utils.common import class_from_module_path

    if store_type.upper() == "SQL":
        return True
    try:
        store_class = class_from_module_path(store_type)
    except (ImportError, AttributeError):
        return False
    return isinstance(store_class, type) and issubclass(store_class, SQLTrackerStore)


def database_url(config: Dict[str, Any]):
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore.get_db_url(
        config.get("dialect") or "sqlite", config.get("host"), config.get("port"),
        config.get("db") or "rasa.db", config.get("username"), config.get("password"),
        query=config.get("query"))


def events_table() -> sa.Table:
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore.SQLEvent.__table__


class ConversationSource:
    """Conversations of the tracker store: ``list()`` and ``events(sender_id)``."""

    def __init__(self, url=None, endpoints: Optional[str] = None):
        self.url = url if url is not None else database_url(tracker_store_config(endpoints))
        self.engine = _engine(str(self.url))
        self.table = events_table()

    def describe(self) -> str:
        return sa.engine.make_url(str(self.url)).render_as_string(hide_password=True)

    def _read(self, query) -> List[Any]:
        if self.engine.dialect.name == "sqlite":
            path = self.engine.url.database
            if path and path != ":memory:" and not Path(path).exists():
                raise TrackerStoreUnavailable(f"no tracker store database at {path}")
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(query))
        except SQLAlchemyError as error:
            detail = str(getattr(error, "orig", error)).splitlines()[0][:200]
            raise TrackerStoreUnavailable(
                f"the tracker store {self.describe()} cannot be read: {detail}") from error

    def list(self) -> List[ConversationRow]:
        t = self.table
        query = (sa.select(t.c.sender_id, sa.func.min(t.c.timestamp), sa.func.max(t.c.timestamp),
                           sa.func.count(t.c.id), sa.func.max(t.c.id))
                 .group_by(t.c.sender_id).order_by(sa.func.max(t.c.timestamp).desc()))
        return [ConversationRow(_text(r[0]), _time(r[1]), _time(r[2]), r[3], r[4] or 0)
                for r in self._read(query)]

    def row(self, sender_id: str) -> ConversationRow:
        check_sender_id(sender_id)
        t = self.table
        query = (sa.select(sa.func.min(t.c.timestamp), sa.func.max(t.c.timestamp),
                           sa.func.count(t.c.id), sa.func.max(t.c.id))
                 .where(t.c.sender_id == sender_id))
        first, last, count, last_id = self._read(query)[0]
        if not count:
            raise ConversationNotFound(f"no conversation with id {_shown(sender_id)}")
        return ConversationRow(sender_id, _time(first), _time(last), count, last_id or 0)

    def events(self, sender_id: str) -> List[Dict[str, Any]]:
        """Every event of every session, in the order Rasa stored them.  Raises
        :class:`BrokenConversation` when a stored event is not a JSON object."""
        check_sender_id(sender_id)
        t = self.table
        query = sa.select(t.c.id, t.c.data).where(t.c.sender_id == sender_id).order_by(t.c.id)
        rows = self._read(query)
        if not rows:
            raise ConversationNotFound(f"no conversation with id {_shown(sender_id)}")
        return [parse_event(row_id, data) for row_id, data in rows]


def parse_event(row_id: int, data: Any) -> Dict[str, Any]:
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    try:
        event = json.loads(data) if isinstance(data, str) else None
    except ValueError as error:
        raise BrokenConversation(f"第 {row_id} 行事件不是合法的 JSON（{error.msg}）") from None
    if not isinstance(event, dict):
        raise BrokenConversation(f"第 {row_id} 行事件不是 JSON 对象")
    return event


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _time(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number and abs(number) < 1e11 else 0.0  # NaN, absurd years: unknown


def _shown(sender_id: str) -> str:
    return repr(sender_id if len(sender_id) <= 60 else sender_id[:60] + "…")


def check_sender_id(sender_id: str) -> None:
    if not isinstance(sender_id, str) or not sender_id.strip() or len(sender_id) > MAX_SENDER:
        raise ConversationNotFound(f"a conversation id is 1 to {MAX_SENDER} characters")


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.engine.Engine:
    # Fail fast when the server is down: a page waits seconds, not minutes.
    args = {"timeout": 5} if url.startswith("sqlite") else {}
    if url.startswith("postgresql"):
        args = {"connect_timeout": 5}
    return sa.create_engine(url, connect_args=args, pool_pre_ping=True, future=True)
