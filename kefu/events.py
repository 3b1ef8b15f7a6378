"""Live events between processes: Redis pub/sub when ``KEFU_REDIS_URL`` is set, else
within this process only (the single-process ``make run``).

A tiny interface for the desk and anything else that tells other replicas "something
changed" (a new hand-off, a case claimed, an agent's reply)::

    from kefu import events
    await events.publish("desk", {"kind": "escalation", "id": 42})
    async for event in events.subscribe("desk"):   # runs until cancelled
        ...

Events are notifications, not the record: the database stays the truth, so a
subscriber that missed some (it was restarting, Redis was) reloads what it shows.
Channel names are prefixed ``kefu:events:``; payloads are JSON objects.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import AsyncIterator, Dict, Set

from redis.exceptions import RedisError

from kefu.settings import settings

PREFIX = "kefu:events:"
logger = logging.getLogger(__name__)
_local: Dict[str, Set[asyncio.Queue]] = {}


def redis_url() -> str:
    """``KEFU_REDIS_URL``; empty means one process, no Redis."""
    return settings().redis_url or ""


async def publish(channel: str, event: dict) -> int:
    """Send ``event`` to every subscriber of ``channel``; returns how many got it."""
    data = json.dumps(event, ensure_ascii=False)
    if not redis_url():
        queues = _local.get(channel, set())
        for queue in queues:
            queue.put_nowait(data)
        return len(queues)
    client = _client()
    try:
        return await client.publish(PREFIX + channel, data)
    finally:
        await client.close()


async def subscribe(channel: str) -> AsyncIterator[dict]:
    """Every event published on ``channel`` from now on; reconnects after Redis restarts."""
    if not redis_url():
        queue: asyncio.Queue = asyncio.Queue()
        _local.setdefault(channel, set()).add(queue)
        try:
            while True:
                yield json.loads(await queue.get())
        finally:
            _local[channel].discard(queue)
        return
    while True:
        client = _client()
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(PREFIX + channel)
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        except (OSError, RedisError) as error:
            logger.warning("events: Redis connection lost (%s); reconnecting", error)
        finally:
            await pubsub.close()
            await client.close()
        await asyncio.sleep(1)


def _client():
    import redis.asyncio

    return redis.asyncio.from_url(redis_url(), decode_responses=True)
