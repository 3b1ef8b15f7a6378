"""Password guessing is slowed down: too many failed logins for one name, or from one
address, within a window refuse further attempts for a while (HTTP 429, Retry-After).

Kept in the desk process's memory: one desk process serves all agents.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Callable, Deque, Dict

PER_NAME = 5  # an agent who mistypes five times is asked to wait, not locked out
PER_ADDRESS = 30  # many names tried from one place
WINDOW_SECONDS = 600.0
MAX_KEYS = 10_000  # forget the oldest keys beyond this, so junk names can't fill memory


class LoginThrottle:
    def __init__(self, per_name: int = PER_NAME, per_address: int = PER_ADDRESS,
                 window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.limits = {"name": per_name, "address": per_address}
        self.window = window
        self.clock = clock
        self.failures: Dict[tuple, Deque[float]] = {}

    def wait_seconds(self, name: str, address: str) -> int:
        """0 when a login may be tried now, else how many seconds until it may."""
        now = self.clock()
        waits = [self._wait(("name", name.strip().lower()), now),
                 self._wait(("address", address), now)]
        return max(waits)

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        for key in (("name", name.strip().lower()), ("address", address)):
            self.failures.setdefault(key, deque()).append(now)
        while len(self.failures) > MAX_KEYS:
            self.failures.pop(next(iter(self.failures)))

    def succeeded(self, name: str) -> None:
        self.failures.pop(("name", name.strip().lower()), None)

    def _wait(self, key: tuple, now: float) -> int:
        times = self.failures.get(key)
        if not times:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.failures[key]
            return 0
        if len(times) < self.limits[key[0]]:
            return 0
        return max(1, int(times[0] + self.window - now + 0.999))
