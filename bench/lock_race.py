"""How often Rasa 3.6's RedisLockStore lets two turns of one conversation run at once,
next to kefu's AtomicRedisLockStore under the same load (RasaHQ/rasa#9213).

Two "replicas" (threads, each with its own event loop and lock store, so their Redis
calls interleave as two processes' would) run turns of one conversation; every turn
holds the lock for a moment of work. A turn that finds another turn inside is an
overlap: the lock failed. Needs Redis (KEFU_REDIS_URL, default the local one).

    .venv/bin/python bench/lock_race.py [--turns 200] [--replicas 2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

from rasa.core.lock_store import LockError, RedisLockStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kefu.lock_store import AtomicRedisLockStore, redis_url


def stock_store(prefix: str) -> RedisLockStore:
    url = urlparse(redis_url())
    return RedisLockStore(host=url.hostname or "127.0.0.1", port=url.port or 6379,
                          db=int((url.path or "/0").lstrip("/") or 0), key_prefix=prefix)


def race(make_store, turns: int, replicas: int) -> dict:
    conversation = "race-" + uuid.uuid4().hex[:8]
    state = {"inside": 0, "overlaps": 0, "done": 0, "lock_errors": 0}
    guard = threading.Lock()

    async def turn(store):
        try:
            async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.01):
                with guard:
                    state["inside"] += 1
                    state["overlaps"] += state["inside"] > 1
                await asyncio.sleep(0.002)  # the turn's work
                with guard:
                    state["inside"] -= 1
                    state["done"] += 1
        except LockError:
            with guard:
                state["lock_errors"] += 1

    def replica():
        store = make_store()

        async def main():
            await asyncio.gather(*(turn(store) for _ in range(turns // replicas)))
        asyncio.run(main())

    start = time.monotonic()
    threads = [threading.Thread(target=replica) for _ in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    state.pop("inside")
    return {**state, "turns": turns // replicas * replicas, "seconds": round(time.monotonic() - start, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()
    prefix = "kefurace" + uuid.uuid4().hex[:6]
    results = {
        "rasa RedisLockStore": race(lambda: stock_store(prefix), args.turns, args.replicas),
        "kefu AtomicRedisLockStore": race(lambda: AtomicRedisLockStore(key_prefix=prefix + ":"),
                                          args.turns, args.replicas),
    }
    for name, result in results.items():
        broken = result["overlaps"] + result["lock_errors"]
        print(f"{name:28} {result['turns']} turns on {args.replicas} replicas: "
              f"{result['overlaps']} overlapping, {result['lock_errors']} lock errors "
              f"({100 * broken / max(1, result['turns']):.1f} % broken) in {result['seconds']} s")
    print(json.dumps(results))
    return 0 if results["kefu AtomicRedisLockStore"]["overlaps"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
