"""The scaled deployment survives its faults (issue 17, item 3), for real.

A private `make cluster` (bench/cluster_harness.py: HAProxy, 2 Rasa replicas, 2 action
servers, the desk, the web chat under supervisord, on a PostgreSQL and a Redis of its
own, started from the installed binaries so they can be restarted without touching the
machine's) carries 50 customers typing complaints over the REST webhook. Meanwhile:
kill -9 of one Rasa replica, one action server and the desk; a restart of PostgreSQL
and of Redis. Then:

* every message a customer got a reply to is stored exactly once in the tracker store,
  none twice (a message answered "请稍后再试" is sent again by the customer);
* every message gets a reply or the Chinese "请稍后再试" within 5 s, never an error;
* every killed part is back, and every conversation goes on afterwards.

The numbers (sent, stored, duplicated, lost, recovery times) are printed and written to
results/cluster_faults.json. About 3 minutes: one cluster start, 75 s of load.
"""
import asyncio
import json
import shutil
import time
from pathlib import Path

import aiohttp
import pytest

from kefu.wait import answers

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[1]
LOAD_SECONDS = 75
CUSTOMERS = 50
THINK_SECONDS = 4.0


def _require_binaries():
    missing = [name for name in ("haproxy", "redis-server") if not shutil.which(name)]
    from cluster_harness import PG_BIN
    if not (PG_BIN / "pg_ctl").exists():
        missing.append(str(PG_BIN / "pg_ctl"))
    if missing:  # never skipped silently
        pytest.fail(f"the cluster fault test needs {', '.join(missing)} "
                    "(make haproxy; Debian's postgresql and redis-server)")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    _require_binaries()
    from cluster_harness import PrivateCluster

    if not (ROOT / "models" / "kefu.tar.gz").exists():
        pytest.fail("no trained model: run `make train`")
    running = PrivateCluster(tmp_path_factory.mktemp("cluster"))
    try:
        running.start()
        yield running
    finally:
        running.stop(keep=True)


async def _until(check, timeout: float = 240.0) -> float:
    """Seconds until ``check()`` (blocking, run in a thread) is true."""
    loop, start = asyncio.get_running_loop(), time.monotonic()
    while time.monotonic() - start < timeout:
        if await loop.run_in_executor(None, check):
            return time.monotonic() - start
        await asyncio.sleep(0.5)
    return float("inf")


async def _faults(cluster, customers, recovery: dict) -> None:
    loop = asyncio.get_running_loop()

    async def at(second: float) -> None:
        await asyncio.sleep(max(0.0, customers.started + second - time.monotonic()))

    async def kill_and_wait(name: str, process: str) -> None:
        at_s = time.monotonic() - customers.started
        old = await loop.run_in_executor(None, cluster.kill9, process)
        recovery[name] = {"at_s": round(at_s, 2), "back_after_s": await _until(
            lambda: cluster.pid(process) not in (0, old) and cluster.healthy(process))}

    async def restart_and_probe(name: str, restart) -> None:
        start = time.monotonic()
        await loop.run_in_executor(None, restart)
        restarted = time.monotonic() - start

        def probe() -> bool:  # a fresh conversation is answered normally again
            # (a sender id is [A-Za-z0-9_.:@-]: "postgresql restart" would be refused)
            return _answered(cluster.url, f"probe-{name.split()[0]}-{time.monotonic_ns()}")
        recovery[name] = {"restart_s": restarted,
                          "answering_after_s": restarted + await _until(probe, 60)}

    await at(10)
    rasa = asyncio.create_task(kill_and_wait("rasa replica (kill -9)", "rasa:rasa_0"))
    await at(25)
    actions = asyncio.create_task(kill_and_wait("action server (kill -9)", "actions:actions_0"))
    await at(35)
    desk = asyncio.create_task(kill_and_wait("desk (kill -9)", "desk"))
    await at(40)
    await restart_and_probe("postgresql restart", cluster.postgres.restart)
    await at(55)
    await restart_and_probe("redis restart", cluster.redis.restart)
    await asyncio.gather(rasa, actions, desk)


def _answered(url: str, sender: str, text: str = "你好") -> bool:
    import urllib.request
    request = urllib.request.Request(url + "/webhooks/rest/webhook",
                                     data=json.dumps({"sender": sender, "message": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status == 200 and bool(json.loads(response.read()))
    except Exception:
        return False


async def _conversations_go_on(cluster, customers) -> dict:
    """The latest conversation of every customer gets one more message, answered normally."""
    from cluster_harness import Customers
    latest = {}
    for record in customers.sent:
        latest[record.sender.rsplit("-", 1)[0]] = record.sender
    after = Customers(cluster.url, 0, 0)
    after.started = time.monotonic()
    results = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        gate = asyncio.Semaphore(5)

        async def one(sender):
            async with gate:
                for _ in range(3):  # an apology is followed by the same words again
                    record = await after.say(session, sender, "还有人在吗")
                    if record.outcome != "apology":
                        break
                    await asyncio.sleep(2)
                results.append(record)
        await asyncio.gather(*(one(sender) for sender in latest.values()))
    return {"conversations": len(latest),
            "answered": sum(1 for r in results if r.outcome == "reply"),
            "outcomes": sorted({r.outcome for r in results})}


def _chat_replicas(cluster) -> dict:
    """HAProxy's statistics of the customer-message backend's replicas, by name."""
    import csv
    import io
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{cluster.ports['KEFU_STATS_PORT']}/;csv", timeout=10) as page:
        rows = csv.DictReader(io.StringIO(page.read().decode().lstrip("# ")))
        return {row["svname"]: row for row in rows
                if row["pxname"] == "rasa_chat" and row["svname"] in ("rasa1", "rasa2")}


def _chat_requests_per_replica(cluster) -> dict:
    return {name: int(row["stot"]) for name, row in _chat_replicas(cluster).items()}


def test_a_conversation_stays_on_one_replica_and_conversations_use_both(cluster):
    """Before the faults, with both replicas up: every turn of one conversation reaches the
    same replica (its tracker is then in that replica's memory), and many conversations
    are spread over both."""
    # The balancer counts a replica in after two good checks: until both are in, every
    # conversation goes to the one that is, and moves when the other joins.
    assert asyncio.run(_until(lambda: all(row["status"] == "UP" for row in _chat_replicas(cluster).values()),
                              60)) < 60, _chat_replicas(cluster)
    senders = [f"sticky-{n}" for n in range(12)]
    for sender in senders:
        before = _chat_requests_per_replica(cluster)
        for text in ("你好", "快递一周了还没到", "没了"):
            assert _answered(cluster.url, sender, text)
        after = _chat_requests_per_replica(cluster)
        grew = sorted(after[name] - before[name] for name in after)
        assert grew == [0, 3], (sender, before, after)
    served = _chat_requests_per_replica(cluster)
    assert min(served.values()) >= 3, served  # both replicas took whole conversations


def test_faults_under_load_lose_nothing_and_everyone_is_answered(cluster):
    from cluster_harness import ANSWER_BUDGET, Customers, storage_report

    customers = Customers(cluster.url, CUSTOMERS, THINK_SECONDS)
    recovery: dict = {}

    async def main():
        load = asyncio.create_task(customers.run(LOAD_SECONDS))
        await asyncio.sleep(0.1)
        await _faults(cluster, customers, recovery)
        await load

    asyncio.run(main())
    report = storage_report(customers.sent, cluster.stored_user_texts())
    report["recovery"] = recovery
    # The one answer allowed to be empty: a turn whose action call was in flight when
    # its action server was killed (Rasa drops that action's messages; an action may
    # write a ticket, so the balancer never sends a delivered call again). The apology
    # for a failed action (issue 17, single mode) turns these into "请稍后再试".
    killed_at = recovery["action server (kill -9)"]["at_s"]
    cut = [r for r in report["not_replied"] if r["outcome"] == "empty"
           and r["at_s"] - 0.5 <= killed_at <= r["at_s"] + r["seconds"] + 0.5]
    report["empty_because_the_action_server_was_killed_mid_call"] = len(cut)
    report["after_recovery"] = asyncio.run(_conversations_go_on(cluster, customers))
    report["slowest_answers_s"] = [round(s, 2) for s in sorted(r.seconds for r in customers.sent)[-5:]]
    out = ROOT / "results" / "cluster_faults.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))

    assert report["sent"] >= CUSTOMERS * 10, report  # the load was real
    assert report["duplicated"] == 0, report
    assert report["lost"] == 0, report
    outcomes = dict(report["outcomes"], empty=report["outcomes"].get("empty", 0) - len(cut))
    bad = {kind: n for kind, n in outcomes.items() if kind not in ("reply", "apology") and n}
    assert outcomes.get("reply", 0) > 0.8 * report["sent"], report
    assert not bad, f"answers other than a reply or 请稍后再试 within {ANSWER_BUDGET} s: {bad}"
    for fault, seconds in recovery.items():
        assert all(value != float("inf") for value in seconds.values()), (fault, seconds)
    assert answers(cluster.url + "/"), cluster.logs_tail()
    after = report["after_recovery"]
    assert after["answered"] == after["conversations"], after
