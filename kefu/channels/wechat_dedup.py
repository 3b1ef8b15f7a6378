"""A small bounded, time-limited mapping (per process).

WeChat retries a push up to three times within about 15 seconds, so the channel only
has to remember recent message ids; both a lifetime and a size cap keep memory bounded
whatever the traffic. The same structure remembers the last buttons shown per customer.
"""
import time
from collections import OrderedDict
from typing import Any, Callable, Generic, Hashable, Optional, Tuple, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Mapping whose entries expire after `ttl_seconds`; holds at most `max_entries`."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: "OrderedDict[Hashable, Tuple[float, Any]]" = OrderedDict()

    def get(self, key: Hashable) -> Optional[V]:
        self._drop_expired()
        entry = self._entries.get(key)
        return entry[1] if entry else None

    def set(self, key: Hashable, value: V) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self.ttl_seconds, value)
        self._drop_expired()
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: Hashable) -> Optional[V]:
        entry = self._entries.pop(key, None)
        return entry[1] if entry else None

    def __len__(self) -> int:
        self._drop_expired()
        return len(self._entries)

    def _drop_expired(self) -> None:
        # Entries are in insertion order and share one lifetime, so expired ones are
        # always at the front.
        now = self._clock()
        while self._entries:
            expires_at, _ = next(iter(self._entries.values()))
            if expires_at > now:
                break
            self._entries.popitem(last=False)


class SharedClaims:
    """Which replica answers a WeChat message, shared in Redis (``KEFU_REDIS_URL``).

    WeChat retries a push that got no answer within 5 s, and the balancer may send the
    retry to another replica, whose in-process :class:`TtlCache` has never seen it. The
    first replica to ``claim`` a message id (``SET NX EX``) runs the turn; any other
    answers "success" at once, and the first pushes the bot's answer through the
    customer-service API as it does for any late answer. Without Redis every claim
    succeeds (one process: the in-process cache is enough). A Redis outage never stops
    a customer's message: the claim is then granted, at the risk of a duplicate.
    """

    PREFIX = "kefu:wechat:claim:"

    def __init__(self, url: str, ttl_seconds: float) -> None:
        self.ttl_seconds = max(1, int(ttl_seconds))
        self._redis = None
        if url:
            import redis.asyncio

            self._redis = redis.asyncio.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    async def claim(self, key: str) -> bool:
        if self._redis is None:
            return True
        from redis.exceptions import RedisError

        try:
            return bool(await self._redis.set(self.PREFIX + key, "1", nx=True, ex=self.ttl_seconds))
        except (OSError, RedisError):
            return True
