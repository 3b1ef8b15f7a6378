"""How often one address or one sender may do something: fixed-window counters.

    limiter = limiter_from_env("KEFU_RATE_ADDRESS", default="120/60")
    if not limiter.allow(f"rest:{address}"):
        ...  # answer 429

A limit is written ``COUNT/SECONDS`` (``120/60``: 120 a minute), ``off`` disables it.
Counters live in this process by default; with ``KEFU_REDIS_URL`` set they live in
Redis (``SET NX EX`` + ``INCR`` in one transaction), so every replica counts together. When
Redis cannot be reached the request is let through and the failure logged: a broken
limiter must not take the service down with it.

``seen_before(key, ttl)`` answers whether a key was already seen within ``ttl`` seconds
(WeChat's nonces), with the same two stores.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional, Tuple

from kefu.settings import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "kefu:rate:"
MAX_KEYS = 100_000  # in-process counters kept; the oldest windows go first


class LimitFormatError(ValueError):
    """A limit that is not ``COUNT/SECONDS`` or ``off``."""


def parse_limit(text: str) -> Optional[Tuple[int, float]]:
    """``"120/60"`` → (120, 60.0); ``"off"`` → None."""
    text = (text or "").strip().lower()
    if text in ("off", "none", "0"):
        return None
    try:
        count, seconds = text.split("/")
        parsed = int(count), float(seconds)
    except ValueError:
        raise LimitFormatError(f"a rate limit is COUNT/SECONDS or off, not {text!r}") from None
    if parsed[0] <= 0 or parsed[1] <= 0:
        raise LimitFormatError(f"a rate limit needs a positive count and period: {text!r}")
    return parsed


class _MemoryStore:
    def __init__(self) -> None:
        self._counts: "OrderedDict[str, Tuple[float, int]]" = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, period: float) -> int:
        """Adds one to ``key``'s current window and returns the count."""
        now = time.monotonic()
        with self._lock:
            start, count = self._counts.pop(key, (now, 0))
            if now - start >= period:
                start, count = now, 0
            self._counts[key] = (start, count + 1)
            while len(self._counts) > MAX_KEYS:
                self._counts.popitem(last=False)
            return count + 1

    def first_time(self, key: str, ttl: float) -> bool:
        return self.hit(key, ttl) == 1


class _RedisStore:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def hit(self, key: str, period: float) -> int:
        pipe = self._redis.pipeline()  # MULTI: the window starts with its first use
        pipe.set(KEY_PREFIX + key, 0, nx=True, ex=max(1, round(period)))
        pipe.incr(KEY_PREFIX + key)
        return int(pipe.execute()[1])

    def first_time(self, key: str, ttl: float) -> bool:
        return bool(self._redis.set(KEY_PREFIX + key, b"1", nx=True, ex=max(1, int(ttl))))


_stores: dict = {}


def _store():
    url = settings().redis_url or ""
    if url not in _stores:
        _stores[url] = _RedisStore(url) if url else _MemoryStore()
    return _stores[url]


@dataclass(frozen=True)
class Limiter:
    name: str
    limit: Optional[Tuple[int, float]]  # None: unlimited

    def allow(self, key: str) -> bool:
        """Counts one use of ``key``; False when that is over the limit."""
        if self.limit is None:
            return True
        count, period = self.limit
        try:
            used = _store().hit(f"{self.name}:{key}", period)
        except Exception:  # Redis down: let it through, say so
            logger.exception("rate limiter %s unavailable", self.name)
            return True
        return used <= count


def limiter_from_env(variable: str, default: str) -> Limiter:
    """A limiter named after ``variable``, its limit read from the environment."""
    return Limiter(variable.lower(), parse_limit(os.environ.get(variable) or default))


def seen_before(key: str, ttl: float) -> bool:
    """True when ``key`` was already seen within ``ttl`` seconds (and remembers it)."""
    try:
        return not _store().first_time(f"seen:{key}", ttl)
    except Exception:
        logger.exception("replay memory unavailable")
        return False
