"""A conversation lock in Redis that several Rasa replicas can share safely.

Rasa 3.6's ``RedisLockStore`` reads a conversation's ticket list, changes it in Python
and writes it back (RasaHQ/rasa#9213): two replicas that take a ticket at the same
moment both write, one ticket is lost, and two turns of one conversation run at once.
``bench/lock_race.py`` provokes it. Here every step is one atomic Redis operation:

* a message joins the conversation's queue (``RPUSH`` of a random token, with its
  ``alive`` key), so turns run in the order the messages arrived, as with Rasa's
  tickets;
* it holds the lock while its token is at the head of the queue; a Lua script checks
  that and, in the same step, drops heads whose owner stopped refreshing its
  ``alive`` key (a replica killed mid-turn). A holder refreshes that key every second
  while its turn runs, and it lives ``ALIVE_SECONDS`` (at most the lock's lifetime),
  so a replica killed mid-turn blocks its conversation for about three seconds, not
  for the whole lifetime;
* it leaves by removing its own token only (compare-and-delete), never another's.

In endpoints.yml::

    lock_store:
      type: kefu.lock_store.AtomicRedisLockStore
      url: ${KEFU_REDIS_URL}
"""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from typing import AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from kefu.settings import settings

KEY_PREFIX = "kefu:lock:"
POLL_SECONDS = 0.005  # a waiting turn looks again this often per turn ahead of it,
MAX_POLL_SECONDS = 0.1  # and at least this often
ALIVE_SECONDS = 3.0  # a holder that stops refreshing its alive key is dead after this

# Join the queue, alive from the first moment (else a turn looking at the queue
# would take the new token for a dead one).
_JOIN = """
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# Refresh my alive key; drop dead heads; my place in the queue: 0 is mine to run,
# -1 means I was dropped (I stopped refreshing), n > 0 turns go first.
_ACQUIRE = """
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then return -1 end
  if head == ARGV[1] or redis.call('EXISTS', ARGV[3] .. head) == 1 then break end
  redis.call('LPOP', KEYS[1])
end
local place = redis.call('LPOS', KEYS[1], ARGV[1])
if not place then return -1 end
return place
"""
# Remove my own token, wherever it is, and my alive key.
_RELEASE = """
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""


def redis_url(endpoint_config=None) -> str:
    """``url`` of the endpoint (``${KEFU_REDIS_URL}``), else KEFU_REDIS_URL, else local Redis."""
    url = getattr(endpoint_config, "url", None)
    return url or settings().redis_url or "redis://127.0.0.1:6379/0"


class AtomicRedisLockStore(LockStore):
    """One turn at a time per conversation, across replicas, in arrival order."""

    def __init__(self, endpoint_config=None, url: Optional[str] = None,
                 key_prefix: str = KEY_PREFIX) -> None:
        import redis.asyncio
        import redis.exceptions

        kwargs = getattr(endpoint_config, "kwargs", None) or {}
        # A restarting Redis (a few hundred ms) is waited for, not reported as an error.
        self.red = redis.asyncio.from_url(
            url or redis_url(endpoint_config),
            socket_timeout=float(kwargs.get("socket_timeout", 10)), socket_connect_timeout=1,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 8),
            retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError])
        self.key_prefix = kwargs.get("key_prefix") or key_prefix
        self._join = self.red.register_script(_JOIN)
        self._acquire = self.red.register_script(_ACQUIRE)
        self._release = self.red.register_script(_RELEASE)
        super().__init__()

    def _keys(self, conversation_id: Text, token: str) -> list:
        return [f"{self.key_prefix}queue:{conversation_id}", f"{self.key_prefix}alive:{token}"]

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = POLL_SECONDS) -> AsyncGenerator[TicketLock, None]:
        token = uuid.uuid4().hex
        keys = self._keys(conversation_id, token)
        lifetime_ms = int(lock_lifetime * 1000)
        alive_ms = min(lifetime_ms, int(ALIVE_SECONDS * 1000))
        await self._join(keys=keys, args=[token, lifetime_ms, alive_ms])
        heartbeat = None
        try:
            await self._wait_for_turn(keys, token, lifetime_ms, lock_lifetime, alive_ms)
            heartbeat = asyncio.create_task(self._stay_alive(keys[1], alive_ms))
            yield TicketLock(conversation_id)
        finally:
            if heartbeat:
                heartbeat.cancel()
            await self._release(keys=keys, args=[token])

    async def _stay_alive(self, alive_key: str, alive_ms: int) -> None:
        """While the turn runs: refresh the alive key three times per its lifetime."""
        while True:
            await asyncio.sleep(alive_ms / 3000)
            try:
                await self.red.set(alive_key, "1", px=alive_ms)
            except (OSError, RedisError):
                pass  # Redis restarting: the next beat tries again

    async def _wait_for_turn(self, keys: list, token: str, lifetime_ms: int,
                             lock_lifetime: float, alive_ms: int) -> None:
        alive_prefix = keys[1][: -len(token)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lock_lifetime
        while True:
            place = await self._acquire(keys=keys, args=[token, lifetime_ms, alive_prefix, alive_ms])
            if place == 0:
                return
            if loop.time() > deadline:
                raise LockError(f"Could not acquire lock for conversation_id '{keys[0]}'.")
            if place < 0:  # my place is gone (Redis restarted empty, or I stalled): join again
                await self._join(keys=keys, args=[token, lifetime_ms, alive_ms])
                continue
            # the further back, the less often it asks: a crowd does not flood Redis
            await asyncio.sleep(min(MAX_POLL_SECONDS, POLL_SECONDS * place))

    # Rasa's ticket API, for callers that use it directly (none in Rasa 3.6's server).
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return None

    def delete_lock(self, conversation_id: Text) -> None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        return None
