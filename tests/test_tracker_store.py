"""kefu.tracker_store: the cached tracker is always what Rasa's SQL store would read back."""
import asyncio

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import EventVerbosity

from kefu.tracker_store import CachingSQLTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [complain_delivery, inform]
slots:
  order_id: {type: text, mappings: [{type: custom}]}
  complaint_step: {type: text, mappings: [{type: custom}]}
""")


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "tracker.db")


def caching(db, **kwargs):
    return CachingSQLTrackerStore(DOMAIN, dialect="sqlite", db=db, **kwargs)


def rasas_own(db):
    return SQLTrackerStore(DOMAIN, dialect="sqlite", db=db)


def state(tracker):
    return tracker.current_state(EventVerbosity.ALL)


async def turn(store, sender, text, step):
    """What Rasa's processor does with a message: read, add events, save."""
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 0.9}))
    tracker.update(ActionExecuted("complaint_form"))
    tracker.update(SlotSet("complaint_step", step))
    tracker.update(BotUttered(f"第{step}步"))
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return tracker


async def open_session(store, sender):
    tracker = await store.get_or_create_tracker(sender)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)


async def started(store, sender):
    """A conversation two turns in: from now on it is in the cache."""
    await open_session(store, sender)
    await turn(store, sender, "第一句", "listen")
    await turn(store, sender, "第二句", "share")


def test_later_turns_come_from_memory_and_match_the_database(db):
    async def scenario():
        store = caching(db)
        await open_session(store, "c1")
        for step in ["listen", "share", "probe", "check"]:
            mine = await turn(store, "c1", f"说{step}", step)
            theirs = await rasas_own(db).retrieve("c1")
            assert state(mine) == state(theirs)
        return store

    store = run(scenario())
    # Only the very first read (a new conversation) went to the database.
    assert store.hits == 4
    assert store.misses == 1


def test_events_are_written_once_with_rasas_columns(db):
    async def scenario():
        store = caching(db)
        await open_session(store, "c1")
        for step in ["listen", "share", "probe"]:
            await turn(store, "c1", "快递三天没动 😡", step)
        plain = rasas_own(db)
        await open_session(plain, "c2")
        for step in ["listen", "share", "probe"]:
            await turn(plain, "c2", "快递三天没动 😡", step)

    run(scenario())
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        rows = {sender: connection.execute(sa.text(
            "select type_name, intent_name, action_name from events where sender_id = :s order by id"),
            {"s": sender}).fetchall() for sender in ("c1", "c2")}
    assert len(rows["c1"]) == 4 + 3 * 5
    assert rows["c1"] == rows["c2"]


def test_a_write_by_another_process_sends_the_turn_to_the_database(db):
    async def scenario():
        store = caching(db)
        await started(store, "c1")
        other = rasas_own(db)  # e.g. a second server handled one message
        tracker = await other.retrieve("c1")
        tracker.update(SlotSet("order_id", "KF20261101"))
        await other.save(tracker)
        hits = store.hits
        again = await store.retrieve("c1")
        assert store.hits == hits  # not from memory
        assert again.get_slot("order_id") == "KF20261101"

    run(scenario())


def test_a_reader_that_does_not_save_leaves_the_next_turn_to_the_database(db):
    async def scenario():
        store = caching(db)
        await started(store, "c1")
        looked_at = await store.retrieve("c1")  # e.g. GET /conversations/c1/tracker
        looked_at.update(SlotSet("order_id", "never saved"))
        again = await store.retrieve("c1")
        assert again is not looked_at
        assert again.get_slot("order_id") is None

    run(scenario())


def test_a_new_session_is_kept_as_the_database_reads_it_back(db):
    async def scenario():
        store = caching(db)
        await started(store, "c1")
        await open_session(store, "c1")  # the session expired
        hits = store.hits
        tracker = await store.retrieve("c1")
        assert store.hits == hits + 1
        assert state(tracker) == state(await rasas_own(db).retrieve("c1"))
        assert sum(isinstance(event, SessionStarted) for event in tracker.events) == 1
        await turn(store, "c1", "新的一句", "listen")
        assert state(await store.retrieve("c1")) == state(await rasas_own(db).retrieve("c1"))

    run(scenario())


def test_replaced_events_are_not_cached(db):
    async def scenario():
        from rasa.shared.core.trackers import DialogueStateTracker

        store = caching(db)
        await open_session(store, "c1")
        await turn(store, "c1", "第一句", "listen")
        # PUT /conversations/c1/tracker/events saves a tracker the store never handed out
        replacement = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen")], DOMAIN.slots)
        await store.save(replacement)
        tracker = await store.retrieve("c1")
        assert tracker is not replacement
        assert state(tracker) == state(await rasas_own(db).retrieve("c1"))

    run(scenario())


def test_the_cache_keeps_at_most_cache_size_conversations(db):
    async def scenario():
        store = caching(db, cache_size=2)
        for sender in ("a", "b", "c"):
            await started(store, sender)
        assert list(store._kept) == ["b", "c"]
        hits = store.hits
        await store.retrieve("a")
        assert store.hits == hits

    run(scenario())


def test_a_dead_database_fails_the_turn_instead_of_answering_from_memory(db, tmp_path):
    async def scenario():
        store = caching(db)
        await started(store, "c1")
        store.engine.dispose()
        with sa.create_engine(f"sqlite:///{db}").begin() as connection:
            connection.execute(sa.text("drop table events"))
        with pytest.raises(sa.exc.OperationalError):
            await store.retrieve("c1")

    run(scenario())


@pytest.mark.parametrize("store_type, sql", [
    ("SQL", True), ("sql", True), ("kefu.tracker_store.CachingSQLTrackerStore", True),
    ("rasa.core.tracker_store.InMemoryTrackerStore", False), ("redis", False), ("no.such.Store", False),
])
def test_replay_reads_from_any_sql_store(store_type, sql):
    from kefu.replay.source import is_sql_store

    assert is_sql_store(store_type) is sql


def test_the_projects_endpoints_use_the_caching_store():
    from kefu.replay.source import tracker_store_config

    assert tracker_store_config()["db"]
