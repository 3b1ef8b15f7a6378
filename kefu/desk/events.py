"""Push to the desk's open pages: every change is an event row, pages listen by SSE.

- :func:`record` adds an event to the caller's database session: it is committed with
  the change it announces (a case, a note, a rating), so no page hears of a change that
  was rolled back, and no change goes unannounced.
- After the commit the event is announced: in this process (the desk's own changes), and
  on Redis pub/sub when ``KEFU_REDIS_URL`` is set, so every desk replica hears changes
  made by another replica or by the action server at once.  Without Redis a desk also
  looks at the table's newest id every second (one small query per process, however
  many pages are open), which is how it hears the action server's new hand-offs.
- A page's ``EventSource`` sends ``Last-Event-ID`` when it reconnects (network drop, a
  laptop lid): :func:`events_after` gives everything it missed, from the table.

Events are kept :data:`KEEP` long; ``typing`` ones (the customer is typing) are
announced the same way, at most one per conversation every :data:`TYPING_EVERY`.
``KEFU_DESK_EVENT_LOOK_SECONDS`` overrides how often the table is looked at.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from datetime import timedelta
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import delete, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from kefu.settings import settings
from kefu.store.db import local_now

logger = logging.getLogger(__name__)
REDIS_CHANNEL = "kefu:desk-events"
KEEP = timedelta(days=1)
TYPING_EVERY = 2.0  # seconds
# How often a desk looks at the table for events written elsewhere: with Redis only as a
# safety net (a lost pub/sub message); without it, this is how they arrive.
LOOK_WITH_REDIS, LOOK_WITHOUT_REDIS = 5.0, 1.0
KINDS = ("case_new", "case_changed", "case_resolved", "case_rated", "typing", "message")

_listeners: List[Callable[[], None]] = []
_listeners_lock = threading.Lock()
_redis_client = None
_typing_seen: Dict[str, float] = {}


def redis_url() -> str:
    return settings().redis_url or ""


# --- writing ------------------------------------------------------------------------------

def record(session: Session, kind: str, escalation_id: Optional[int] = None, **payload: Any) -> None:
    """Add an event to ``session``; it is announced once the session commits."""
    from kefu.handoff.models import DeskEvent

    session.add(DeskEvent(kind=kind, escalation_id=escalation_id,
                          payload_json=json.dumps(payload, ensure_ascii=False), at=local_now()))
    session.info["kefu_desk_event"] = True


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("kefu_desk_event", False):
        announce()


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("kefu_desk_event", None)


def publish(kind: str, escalation_id: Optional[int] = None, **payload: Any) -> None:
    """An event on its own (not part of another change)."""
    from kefu.handoff.db import handoff_session

    with handoff_session() as session:
        record(session, kind, escalation_id, **payload)


def customer_typing(sender_id: str) -> bool:
    """The customer of ``sender_id`` is typing: tell the desk, when a person has (or
    is about to have) the conversation.  For the web chat's server and the desk's
    public ``/customer/{sender}/typing``.  False when nothing was announced."""
    from kefu.handoff import escalations

    now = time.monotonic()
    if now - _typing_seen.get(sender_id, 0.0) < TYPING_EVERY:
        return False
    _typing_seen[sender_id] = now
    if len(_typing_seen) > 10000:
        _typing_seen.clear()
    case = escalations.open_escalation_for(sender_id)
    if case is None:
        return False
    publish("typing", case["id"])
    return True


def announce() -> None:
    """Wake listeners: this process's, and every replica's through Redis."""
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener()
    if redis_url():
        try:
            _redis().publish(REDIS_CHANNEL, "1")
        except Exception as error:  # the table still has it; others see it on their next look
            logger.warning("could not announce a desk event on Redis: %s", error)


def _redis():
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(redis_url(), socket_timeout=2)
    return _redis_client


# --- reading --------------------------------------------------------------------------------

def events_after(last_id: int, limit: int = 500) -> List[Dict[str, Any]]:
    from kefu.handoff.db import handoff_session
    from kefu.handoff.models import DeskEvent

    with handoff_session() as session:
        rows = session.execute(select(DeskEvent).where(DeskEvent.id > last_id)
                               .order_by(DeskEvent.id).limit(limit)).scalars().all()
        return [{"id": row.id, "kind": row.kind, "case_id": row.escalation_id,
                 "at": row.at.isoformat(), **json.loads(row.payload_json or "{}")} for row in rows]


def latest_id() -> int:
    from kefu.handoff.db import handoff_session
    from kefu.handoff.models import DeskEvent

    with handoff_session() as session:
        return session.execute(select(func.max(DeskEvent.id))).scalar() or 0


def prune() -> int:
    from kefu.handoff.db import handoff_session
    from kefu.handoff.models import DeskEvent

    with handoff_session() as session:
        return session.execute(delete(DeskEvent).where(DeskEvent.at < local_now() - KEEP)).rowcount


# --- listening, in the desk process ---------------------------------------------------------

class Hub:
    """The desk process's ear: wakes every open page's stream when something new is in
    the table.  Started and stopped with the app (:meth:`run`)."""

    def __init__(self, look_every: Optional[float] = None):
        self.look_every = look_every or settings().desk_event_look_seconds or (
            LOOK_WITH_REDIS if redis_url() else LOOK_WITHOUT_REDIS)
        self.newest = 0
        self._changed: Optional[asyncio.Condition] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Condition()
        self.newest = await asyncio.to_thread(latest_id)
        with _listeners_lock:
            _listeners.append(self._wake_threadsafe)
        tasks = [asyncio.create_task(self._look())]
        if redis_url():
            tasks.append(asyncio.create_task(self._listen_redis()))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            with _listeners_lock:
                _listeners.remove(self._wake_threadsafe)

    def _wake_threadsafe(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.check()))

    async def check(self) -> None:
        newest = await asyncio.to_thread(latest_id)
        if newest != self.newest:
            self.newest = newest
            async with self._changed:
                self._changed.notify_all()

    async def wait(self, after_id: int, timeout: float) -> bool:
        """True when there is an event newer than ``after_id`` (within ``timeout``)."""
        if self.newest > after_id:
            return True
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.newest > after_id), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def _look(self) -> None:
        pruned_at = 0.0
        while True:
            try:
                await self.check()
                if time.monotonic() - pruned_at > 3600:
                    pruned_at = time.monotonic()
                    await asyncio.to_thread(prune)
            except Exception:  # keep looking whatever one round met (database restarting …)
                logger.exception("looking for desk events failed")
            await asyncio.sleep(self.look_every)

    async def _listen_redis(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(redis_url())
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(REDIS_CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("Redis pub/sub for desk events lost (%s); retrying", error)
                await asyncio.sleep(2)
            finally:
                await client.close()
