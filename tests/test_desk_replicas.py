"""Two desk replicas behind one database and one Redis: a change made on one replica
reaches a page listening on the other through Redis pub/sub (the table is looked at
only once a minute here, so only Redis can bring it in time)."""
import json
import shutil
import subprocess
import time

import pytest
import redis
from e2e.desk_server import DeskProcess, free_port

from kefu.handoff import escalations
from kefu.handoff.record import build_record
from kefu.store import dispose_engines

PASSWORD = "replica-pass-1"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = shutil.which("redis-server")
    assert server, "these tests need redis-server (apt-get install redis-server)"
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path_factory.mktemp("redis"))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def replicas(kefu_env, redis_url, tmp_path_factory):
    env = dict(kefu_env, KEFU_REDIS_URL=redis_url, KEFU_DESK_EVENT_LOOK_SECONDS="60")
    logs = tmp_path_factory.mktemp("replicas")
    first = DeskProcess(env, "http://127.0.0.1:9", logs / "a.log").start()
    second = DeskProcess(env, "http://127.0.0.1:9", logs / "b.log").start()
    first.add_agent("rep_wang", PASSWORD)
    yield first, second
    first.stop()
    second.stop()


def events_until(response, want, timeout=10.0):
    got, block, deadline = [], {}, time.monotonic() + timeout
    for line in response.iter_lines(decode_unicode=True):
        if line == "":
            if "event" in block:
                got.append((block["event"], json.loads(block.get("data", "{}"))))
                if want(got):
                    return got, time.monotonic()
            block = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            block[key] = value
        if time.monotonic() > deadline:
            break
    return got, None


def test_a_note_on_one_replica_reaches_a_page_on_the_other(kefu_env, replicas):
    first, second = replicas
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEFU_DB_URL", kefu_env["KEFU_DB_URL"])
        dispose_engines()
        tracker = {"sender_id": "replica-case", "events": []}
        case = escalations.create_escalation(build_record(tracker, {}, "customer_request"))
        dispose_engines()
    on_first, on_second = first.login("rep_wang", PASSWORD), second.login("rep_wang", PASSWORD)
    time.sleep(1.5)  # the case's own event is older than the page
    start = on_second.get("/api/queue").json()["event_id"]
    stream = on_second.http.get(second.url + f"/api/events?after={start}", stream=True, timeout=30)
    time.sleep(0.5)
    sent = time.monotonic()
    assert on_first.post(f"/api/cases/{case['id']}/notes", {"text": "另一台上写的备注"}).status_code == 201
    got, arrived = events_until(stream, lambda got: any(d.get("case_id") == case["id"] for _, d in got))
    stream.close()
    assert arrived is not None, got
    assert arrived - sent < 5.0  # well before the once-a-minute look at the table
