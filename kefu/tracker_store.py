"""Rasa's SQL tracker store, with each conversation kept in memory between its turns.

Rasa reads a conversation back from the database at the start of every message (every
stored event parsed and replayed into a new tracker), and before saving counts the
stored events to know which are new: about a quarter of the server's time per turn
(bench/README.md). This store keeps the tracker it saved and hands it back at the next
message, and writes the new events with one statement.

The database stays the truth, and the cache never answers for it blindly:
* a cached tracker is handed out once: `retrieve` takes it out of the cache and `save`
  puts it back, so a reader that never saves (the tracker API) sends the next turn to
  the database;
* before it is handed out, the id of the conversation's last stored event is compared
  with the one the cache saw written: anything written by another process (a second
  server) sends the turn to the database;
* only a tracker this store read is kept; when a new session started, what is kept is
  the tracker the database gives back (only the latest session), rebuilt from the
  events in memory;
* nothing is kept before the database confirmed the write.

The database may restart under a running server (an operator's PostgreSQL upgrade, a
fail-over): connections are checked before use, and a read or write that fails because
the database is unreachable is tried again for up to `retry_seconds` (default 4: a
message then waits instead of failing). A write is one transaction, so trying it again
never stores an event twice.

With a database server (PostgreSQL), the two round trips of a turn (the check before a
cached tracker is handed out, the write) run in a worker thread: the server's event loop
serves other conversations while one waits for the database, and the conversation's lock
keeps its own turns in order. SQLite is a file on this machine and stays on the loop.

Configured in endpoints.yml: `type: kefu.tracker_store.CachingSQLTrackerStore`, with the
SQL store's own keys and `cache_size` (conversations kept, least recently used dropped).
"""
import asyncio
import itertools
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)
DEFAULT_CACHE_SIZE = 1000
DEFAULT_RETRY_SECONDS = 4.0


def _database_unreachable(error: Exception) -> bool:
    """A lost or refused connection (worth trying again), not a bad statement."""
    return isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError)) or bool(
        getattr(error, "connection_invalidated", False))


@dataclass
class _Kept:
    tracker: DialogueStateTracker
    stored: int  # how many of tracker.events are in the database
    last_id: Optional[int]  # id of the conversation's last stored event


def _remember(table: "OrderedDict[Text, _Kept]", sender_id: Text, kept: _Kept, limit: int) -> None:
    """Put ``kept`` in ``table`` as the most recent; drop the least recent beyond ``limit``."""
    if limit <= 0:
        return
    table[sender_id] = kept
    table.move_to_end(sender_id)
    while len(table) > limit:
        table.popitem(last=False)


class CachingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that skips re-reading a conversation it wrote itself."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE,
                 retry_seconds: float = DEFAULT_RETRY_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._off_loop = self.engine.dialect.name != "sqlite"  # a database server
        if self._off_loop:
            # A server's connections die when it restarts: check each before use.
            self.engine = sa.create_engine(self.engine.url, pool_pre_ping=True)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.retry_seconds = float(retry_seconds)
        self.cache_size = max(0, int(cache_size))
        self._kept: "OrderedDict[Text, _Kept]" = OrderedDict()  # between turns
        self._lent: "OrderedDict[Text, _Kept]" = OrderedDict()  # handed out, not yet saved
        self.hits = self.misses = 0
        # Built once: building SQLAlchemy statements costs more than SQLite running them.
        events = self.SQLEvent.__table__
        self._insert_events = events.insert()
        self._last_id_query = sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id"))

    async def _patiently(self, step, *args):
        """``await step(*args)``, again while the database is unreachable, up to
        ``retry_seconds``."""
        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                return await step(*args)
            except sa.exc.DBAPIError as error:
                if not _database_unreachable(error) or time.monotonic() > deadline:
                    raise
                logger.warning("tracker store: database unreachable (%s); trying again",
                               str(error.orig).strip().splitlines()[0] if error.orig else error)
                await asyncio.sleep(0.25)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._patiently(self._retrieve_once, sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        await self._patiently(self._save_once, tracker)

    async def _retrieve_once(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        kept = self._kept.pop(sender_id, None)
        if kept is not None and kept.last_id == await self._database(self._last_event_id, sender_id):
            self.hits += 1
            self._lend(sender_id, kept)
            return kept.tracker
        self.misses += 1
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._lend(sender_id, _Kept(tracker, len(tracker.events), None))
        return tracker

    async def _save_once(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        lent = self._lent.pop(sender_id, None)
        ours = lent is not None and lent.tracker is tracker
        if ours:
            stored = lent.stored
        else:  # a tracker this store did not hand out: ask the database, as Rasa does
            with self.session_scope() as session:
                stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
        new_events = list(itertools.islice(tracker.events, stored, None))
        rows = [self._row(sender_id, event) for event in new_events]
        last_id = await self._database(self._write, sender_id, rows)
        kept = _Kept(tracker, stored + len(new_events), last_id)
        if not ours and stored == 0:
            # A new conversation: its creator goes on with this tracker and saves it again.
            self._lend(sender_id, kept)
        elif ours and any(isinstance(event, SessionStarted) for event in new_events):
            self._keep_latest_session(kept)
        elif ours:
            self._keep(sender_id, kept)  # the database now holds exactly tracker.events
        logger.debug(f"Tracker with sender_id '{sender_id}' stored to database")

    def _keep_latest_session(self, kept: _Kept) -> None:
        """Keep what Rasa's retrieve would read: the events from the latest session start
        on (by timestamp, as its query selects them)."""
        if self.domain is None:
            return
        tracker = kept.tracker
        start = next(e.timestamp for e in reversed(tracker.events) if isinstance(e, SessionStarted))
        session = [event for event in tracker.events if event.timestamp >= start]
        latest = DialogueStateTracker.from_events(tracker.sender_id, session, self.domain.slots)
        self._keep(tracker.sender_id, _Kept(latest, len(latest.events), kept.last_id))

    def _keep(self, sender_id: Text, kept: _Kept) -> None:
        _remember(self._kept, sender_id, kept, self.cache_size)

    def _lend(self, sender_id: Text, kept: _Kept) -> None:
        _remember(self._lent, sender_id, kept, max(self.cache_size, 1))

    def _row(self, sender_id: Text, event) -> Dict[Text, Any]:
        """The columns Rasa's own save writes for one event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    async def _database(self, call, *args):
        """``call(*args)``: in a worker thread for a database server, here for SQLite."""
        if self._off_loop:
            return await asyncio.get_running_loop().run_in_executor(None, call, *args)
        return call(*args)

    def _write(self, sender_id: Text, rows) -> Optional[int]:
        """One transaction: the new events' rows, then the id of the conversation's last event."""
        with self.engine.begin() as connection:
            if rows:
                connection.execute(self._insert_events, rows)
            return connection.execute(self._last_id_query, {"sender_id": sender_id}).scalar()

    def _last_event_id(self, sender_id: Text) -> Optional[int]:
        with self.engine.connect() as connection:
            return connection.execute(self._last_id_query, {"sender_id": sender_id}).scalar()
