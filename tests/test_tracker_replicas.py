"""Two replicas, each with its own kefu.tracker_store cache, share one database.

Turns of one conversation go to either replica at random (as a balancer would send
them; the lock store keeps them one at a time). Whatever the order, every event is
stored exactly once, in order, and each replica continues from what the other wrote:
the cache never answers for the database. Run on SQLite and on the real PostgreSQL.
"""
import asyncio
import random
import uuid

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import EventVerbosity

from kefu.tracker_store import CachingSQLTrackerStore
from tests.test_tracker_store import DOMAIN, turn

POSTGRES = {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "db": "test", "username": "postgres"}


def settings(kind, tmp_path):
    if kind == "sqlite":
        return {"dialect": "sqlite", "db": str(tmp_path / "shared.db")}
    try:
        sa.create_engine("postgresql://postgres@127.0.0.1:5432/test").connect().close()
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is not reachable (issue 17: tests use it): {error}")
    return POSTGRES


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_replicas_on_one_database_store_each_event_once(kind, tmp_path):
    config = settings(kind, tmp_path)
    replicas = [CachingSQLTrackerStore(DOMAIN, **config), CachingSQLTrackerStore(DOMAIN, **config)]
    truth = SQLTrackerStore(DOMAIN, **config)
    rng = random.Random(17)
    senders = [f"replica-{uuid.uuid4().hex[:10]}" for _ in range(3)]
    said = {sender: [] for sender in senders}

    async def main():
        for number in range(40):
            sender = rng.choice(senders)
            store = rng.choice(replicas)
            text = f"第{number}句"
            tracker = await turn(store, sender, text, str(number))
            said[sender].append(text)
            # what the replica went on with is what the database holds
            stored = await truth.retrieve(sender)
            assert tracker.current_state(EventVerbosity.ALL)["events"] == \
                stored.current_state(EventVerbosity.ALL)["events"]
        return {sender: await truth.retrieve(sender) for sender in senders}

    final = asyncio.run(main())
    for sender, tracker in final.items():
        users = [event.text for event in tracker.events if event.type_name == "user"]
        assert users == said[sender]  # each once, in order
        bots = [event.text for event in tracker.events if event.type_name == "bot"]
        assert len(bots) == len(said[sender])
        assert tracker.get_slot("complaint_step") == said[sender][-1][1:-1]
    assert all(store.hits > 0 and store.misses > 0 for store in replicas)  # the cache was used, and refused


def test_conversations_at_the_same_time_on_postgresql_are_each_stored_once(tmp_path):
    """On a database server the store's round trips run in worker threads while the event
    loop goes on with other conversations: 12 conversations of 5 turns, all at once (each
    one's own turns in order, as its lock keeps them), come back exactly as they were said."""
    config = settings("postgresql", tmp_path)
    store, truth = CachingSQLTrackerStore(DOMAIN, **config), SQLTrackerStore(DOMAIN, **config)
    assert store._off_loop
    senders = [f"together-{uuid.uuid4().hex[:10]}" for _ in range(12)]

    async def conversation(sender):
        for number in range(5):
            await turn(store, sender, f"{sender}第{number}句", str(number))

    async def main():
        await asyncio.gather(*(conversation(sender) for sender in senders))
        return {sender: await truth.retrieve(sender) for sender in senders}

    for sender, tracker in asyncio.run(main()).items():
        assert [e.text for e in tracker.events if e.type_name == "user"] == [f"{sender}第{n}句" for n in range(5)]
        assert tracker.get_slot("complaint_step") == "4"
    assert store.hits >= 12 * 3  # after its first two turns, each conversation came from memory
