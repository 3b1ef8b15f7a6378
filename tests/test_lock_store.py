"""kefu's Redis conversation lock against the real local Redis: one turn at a time per
conversation across stores (replicas), in arrival order, and a dead holder blocks no
one for longer than the lock's lifetime."""
import asyncio
import uuid

import pytest
import redis

from kefu.lock_store import AtomicRedisLockStore, redis_url


@pytest.fixture(scope="module")
def redis_up():
    try:
        redis.Redis.from_url(redis_url()).ping()
    except redis.ConnectionError as error:  # never skipped silently: say what is missing
        pytest.fail(f"these tests need Redis at {redis_url()} (KEFU_REDIS_URL): {error}")


def two_replicas():
    prefix = f"kefu:test:{uuid.uuid4().hex[:8]}:"
    return AtomicRedisLockStore(key_prefix=prefix), AtomicRedisLockStore(key_prefix=prefix)


def test_forty_turns_of_one_conversation_never_overlap_and_keep_their_order(redis_up):
    stores = two_replicas()
    inside, most_inside, order, queued = [0], [0], [], [0]

    def counting_joins(store):
        join = store._join

        async def counted(**kwargs):
            result = await join(**kwargs)
            queued[0] += 1
            return result
        store._join = counted

    for store in stores:
        counting_joins(store)

    async def turn(number):
        while queued[0] < number:  # message `number` arrives after the ones before it
            await asyncio.sleep(0.001)
        async with stores[number % 2].lock("one-conversation", lock_lifetime=10):
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
            order.append(number)
            await asyncio.sleep(0.005)  # the turn's work, during which others wait
            inside[0] -= 1

    async def main():
        await asyncio.gather(*(turn(n) for n in range(40)))

    asyncio.run(main())
    assert most_inside[0] == 1
    assert order == list(range(40))


def test_other_conversations_do_not_wait(redis_up):
    first, second = two_replicas()

    async def main():
        async with first.lock("busy", lock_lifetime=10):
            async with second.lock("free", lock_lifetime=10):
                return True

    assert asyncio.run(asyncio.wait_for(main(), timeout=2))


def test_a_holder_that_died_is_skipped_after_the_lifetime(redis_up):
    store, other = two_replicas()
    queue, dead = f"{store.key_prefix}queue:c", "dead-replica-token"
    client = redis.Redis.from_url(redis_url())
    client.rpush(queue, dead)
    client.set(f"{store.key_prefix}alive:{dead}", "1", px=300)  # killed mid-turn

    async def main():
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with other.lock("c", lock_lifetime=5):
            return loop.time() - start

    waited = asyncio.run(main())
    assert 0.2 <= waited < 2
    assert client.lrange(queue, 0, -1) == []  # the dead token and ours are gone


def test_leaving_removes_only_its_own_place(redis_up):
    store, _ = two_replicas()
    client = redis.Redis.from_url(redis_url())
    queue = f"{store.key_prefix}queue:d"

    async def main():
        async with store.lock("d", lock_lifetime=5):
            client.rpush(queue, "someone-waiting")
        return client.lrange(queue, 0, -1)

    assert asyncio.run(main()) == [b"someone-waiting"]
    client.delete(queue)
