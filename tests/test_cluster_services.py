"""The cluster's shared state, against a real PostgreSQL and a real Redis.

The machine's own (127.0.0.1:5432 trust auth, 127.0.0.1:6379) when they answer;
otherwise private ones started from the installed binaries in a temporary folder
(bench/cluster_harness.py), and the test says so. Never skipped: without either, the
tests fail and say what is missing.
"""
import asyncio
import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from tests.channel_harness import hang_up

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

LOCAL_PG = os.environ.get("KEFU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LOCAL_REDIS = os.environ.get("KEFU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _pg_answers(url: str) -> bool:
    try:
        engine = sa.create_engine(url)
        engine.connect().close()
        engine.dispose()
        return True
    except sa.exc.SQLAlchemyError:
        return False


@pytest.fixture(scope="module")
def postgres_admin_url(tmp_path_factory):
    """A URL of a PostgreSQL server's ``postgres`` database."""
    if _pg_answers(LOCAL_PG):
        yield LOCAL_PG
        return
    from cluster_harness import PG_BIN, PrivatePostgres
    if not (PG_BIN / "pg_ctl").exists():
        pytest.fail(f"no PostgreSQL at {LOCAL_PG} and no pg_ctl in {PG_BIN} to start one "
                    "(apt-get install postgresql)")
    print(f"\nno PostgreSQL at {LOCAL_PG}: starting a private one", file=sys.stderr)
    private = PrivatePostgres(tmp_path_factory.mktemp("pg"))
    private.start()
    try:
        yield private.url.rsplit("/", 1)[0] + "/postgres"
    finally:
        private.stop()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    try:
        redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=2).ping()
        yield LOCAL_REDIS
        return
    except redis.RedisError:
        pass
    if not shutil.which("redis-server"):
        pytest.fail(f"no Redis at {LOCAL_REDIS} and no redis-server to start one "
                    "(apt-get install redis-server)")
    from cluster_harness import PrivateRedis
    print(f"\nno Redis at {LOCAL_REDIS}: starting a private one", file=sys.stderr)
    private = PrivateRedis(tmp_path_factory.mktemp("redis"))
    private.start()
    try:
        yield private.url
    finally:
        private.stop()


@pytest.fixture
def fresh_database(postgres_admin_url):
    """The URL of a database that does not exist yet; dropped afterwards."""
    name = f"kefu_test_{uuid.uuid4().hex[:10]}"
    url = postgres_admin_url.rsplit("/", 1)[0] + "/" + name
    yield url
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _alembic_config(url: str):
    from alembic.config import Config
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    return config


def test_migrations_create_the_database_and_match_the_models(fresh_database, monkeypatch):
    from alembic.util.exc import CommandError

    from alembic import command
    from kefu.store.db import migrate
    migrate(fresh_database)  # also creates the database
    engine = sa.create_engine(fresh_database)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"customers", "orders", "tickets", "escalations", "desk_agents",
            "agent_messages", "alembic_version"} <= tables
    monkeypatch.setenv("KEFU_DB_URL", fresh_database)
    try:  # the models and the migrations describe the same schema
        command.check(_alembic_config(fresh_database))
    except CommandError as error:
        pytest.fail(f"the models changed without a migration: {error}")
    migrate(fresh_database)  # a second run changes nothing
    command.downgrade(_alembic_config(fresh_database), "base")
    engine = sa.create_engine(fresh_database)
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_a_database_made_before_migrations_is_taken_over(fresh_database):
    import kefu.handoff.models  # noqa: F401 (the desk's tables)
    from kefu.store.db import create_database_if_missing, migrate
    from kefu.store.models import Base

    create_database_if_missing(fresh_database)
    engine = sa.create_engine(fresh_database)
    Base.metadata.create_all(engine)  # what kefu did before Alembic
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO customers (id, name, phone, address) VALUES (1, '王女士', '13800000001', '上海市')"))
    migrate(fresh_database)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert connection.execute(sa.text("SELECT count(*) FROM customers")).scalar() == 1
    engine.dispose()


def test_live_events_reach_another_process_through_redis(redis_url, monkeypatch):
    from kefu import events
    monkeypatch.setenv("KEFU_REDIS_URL", redis_url)
    channel = f"test-{uuid.uuid4().hex[:8]}"

    async def main():
        got = []

        async def listen():
            async for event in events.subscribe(channel):
                got.append(event)
                if len(got) == 2:
                    return
        task = asyncio.create_task(listen())
        for _ in range(50):  # until the subscription is in place
            if await events.publish(channel, {"kind": "escalation", "id": 1}):
                break
            await asyncio.sleep(0.05)
        await events.publish(channel, {"kind": "reply", "text": "您好"})
        await asyncio.wait_for(task, 5)
        return got

    got = asyncio.run(main())
    assert got[-1] == {"kind": "reply", "text": "您好"}
    assert all(event.get("kind") in ("escalation", "reply") for event in got)


def test_a_wechat_message_is_claimed_by_one_replica_only(redis_url):
    from kefu.channels.wechat_dedup import SharedClaims

    async def main():
        one, two = SharedClaims(redis_url, 60), SharedClaims(redis_url, 60)
        key = f"test-{uuid.uuid4().hex}"
        first, second, third = await asyncio.gather(one.claim(key), two.claim(key), one.claim(key))
        alone = await SharedClaims("", 60).claim(key)  # one process: no Redis, always mine
        down = await SharedClaims("redis://127.0.0.1:1/0", 60).claim(key)  # Redis down
        return [first, second, third].count(True), alone, down

    assert asyncio.run(main()) == (1, True, True)


def test_a_socketio_reply_emitted_on_one_replica_reaches_a_client_of_another(redis_url):
    import socketio
    from aiohttp import web

    from kefu.wait import free_port
    from kefu.webchat.channel import share_rooms_across_replicas

    async def main():
        servers, runners, ports = [], [], [free_port(), free_port()]
        for port in ports:
            sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=1)  # short long-polls: quick shutdown
            share_rooms_across_replicas(sio, redis_url)
            room = f"room-{ports[0]}"

            @sio.on("join")
            async def join(sid, data, sio=sio, room=room):
                await sio.enter_room(sid, room)
                return "ok"
            app = web.Application()
            sio.attach(app)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            servers.append(sio)
            runners.append(runner)
        client, got = socketio.AsyncClient(), asyncio.Queue()
        client.on("bot_uttered", lambda data: got.put_nowait(data))
        # long-polling: the websocket client of engineio wants a newer aiohttp than Rasa pins
        await client.connect(f"http://127.0.0.1:{ports[0]}", transports=["polling"])
        await client.call("join", {})
        servers[1].manager.initialize()
        await asyncio.sleep(0.5)  # replica A's manager listens to Redis
        await servers[1].emit("bot_uttered", {"text": "客服已接入"}, room=f"room-{ports[0]}")
        try:
            return await asyncio.wait_for(got.get(), 5)
        finally:
            await hang_up(client)
            for runner in runners:
                await runner.cleanup()

    assert asyncio.run(main()) == {"text": "客服已接入"}
