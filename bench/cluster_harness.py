"""A private `make cluster` for the fault test and the cluster benchmark.

``PrivateCluster`` starts, in a temporary folder and on free loopback ports, its own
PostgreSQL and Redis (the installed binaries, so they can be restarted without touching
the machine's), then `scripts/cluster.sh` with that environment: HAProxy, 2 Rasa
replicas, 2 action servers, the desk and the web chat under supervisord. ``Customers``
drives simulated customers over the REST webhook through the balancer and records
every message sent and every answer.
"""
from __future__ import annotations

import asyncio
import json
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_conversation import CONVERSATIONS, FIRST_BUTTON  # noqa: E402

from kefu.wait import answers, free_port  # noqa: E402

PG_BIN = Path(os.environ.get("KEFU_PG_BIN", "/usr/local/bin"))
APOLOGY = "请稍后再试"
ANSWER_BUDGET = 5.0  # seconds: a reply or the apology, within this
# The balancer's Chinese "请稍后再试" (deploy/busy.json) keeps the status it stands in
# for: 502/503 when no replica can take the message, 504 past 4.5 s.
BUSY_STATUSES = (502, 503, 504)
RETRY_AFTER = 2.0  # seconds, the Retry-After that comes with it (deploy/haproxy.cfg)


def _run(cmd: List[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` in a folder of its own (as the ``postgres`` user when run
    as root: PostgreSQL refuses to run as root), trust auth on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        # Its own folder right under /tmp: the postgres user cannot enter root's
        # private temporary folders (pytest's are mode 0700).
        del folder
        self.folder = Path(tempfile.mkdtemp(prefix="kefu-pg-"))
        self.data, self.port = self.folder / "pgdata", free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _as_owner(self, cmd: List[str]) -> List[str]:
        return ["runuser", "-u", self.user, "--", *cmd] if self.user else cmd

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/kefu"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        if not self.data.exists():
            _run(self._as_owner([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                 "-A", "trust", "--no-sync", "-E", "UTF8"]))
        self._pg_ctl("start")

    def _pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off " \
                  f"-c max_connections=200"
        _run(self._as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                             "-m", "fast", "-l", str(self.folder / "postgres.log"),
                             "-o", options, action]))

    def restart(self) -> None:
        self._pg_ctl("restart")

    def stop(self) -> None:
        try:
            self._pg_ctl("stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` on a free port, no persistence: a restart comes back empty,
    the harshest case for the lock store."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port, self.process = folder, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=(self.folder / "redis.log").open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        import redis
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("private Redis did not start")

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class PrivateCluster:
    """scripts/cluster.sh with private PostgreSQL, Redis, ports and KEFU_HOME."""

    def __init__(self, folder: Optional[Path] = None) -> None:
        self.folder = Path(folder or tempfile.mkdtemp(prefix="kefu-cluster-"))
        self.postgres = PrivatePostgres(self.folder / "pg")
        self.redis = PrivateRedis(self.folder / "redis")
        home = self.folder / "home"
        home.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in (
            "KEFU_LB_PORT", "KEFU_RASA1_PORT", "KEFU_RASA2_PORT", "KEFU_ACTION1_PORT",
            "KEFU_ACTION2_PORT", "KEFU_ACTIONS_PORT", "KEFU_DESK_PORT", "KEFU_WEBCHAT_PORT",
            "KEFU_STATS_PORT")}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "WECHAT_"))}
        self.env.update({k: str(v) for k, v in ports.items()})
        self.env.update(
            KEFU_ROOT=str(ROOT), KEFU_HOME=str(home), KEFU_CLUSTER_DIR=str(self.folder / "cluster"),
            KEFU_DB_URL=self.postgres.url, KEFU_REDIS_URL=self.redis.url,
            KEFU_TOKEN="cluster-" + uuid.uuid4().hex, WECHAT_TOKEN=uuid.uuid4().hex,
            KEFU_CLUSTER_TIMEOUT="600", PYTHONPATH=str(ROOT),
            # every simulated customer comes from 127.0.0.1: the per-address limit (tested
            # in tests/test_handoff_abuse.py) would refuse the load; the per-sender one stays
            KEFU_RATE_ADDRESS="off")
        self.url = f"http://127.0.0.1:{ports['KEFU_LB_PORT']}"
        self.ports = ports

    def start(self) -> None:
        self.postgres.start()
        self.redis.start()
        log = self.folder / "cluster-start.log"
        result = subprocess.run(["bash", "scripts/cluster.sh"], cwd=ROOT, env=self.env,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)
        if result.returncode != 0:
            raise RuntimeError(f"make cluster failed:\n{log.read_text()[-3000:]}\n{self.logs_tail()}")

    def ctl(self, *args: str) -> str:
        return subprocess.run([str(ROOT / ".venv/bin/supervisorctl"), "-c", "deploy/supervisord.conf",
                               *args], cwd=ROOT, env=self.env, capture_output=True, text=True).stdout

    def pid(self, process: str) -> int:
        """The process's pid; 0 while it is not running."""
        try:
            return int(self.ctl("pid", process).strip())
        except ValueError:
            return 0

    def kill9(self, process: str) -> int:
        pid = self.pid(process)
        os.kill(pid, signal.SIGKILL)
        return pid

    def cpu_parts(self) -> Dict[str, List[int]]:
        """The process trees whose CPU time the benchmark reports (bench/cpu_use.py)."""
        postmaster = self.postgres.data / "postmaster.pid"
        return {"rasa": [self.pid("rasa:rasa_0"), self.pid("rasa:rasa_1")],
                "actions": [self.pid("actions:actions_0"), self.pid("actions:actions_1")],
                "postgres": [int(postmaster.read_text().split()[0])] if postmaster.exists() else [],
                "redis": [self.redis.process.pid] if self.redis.process else [],
                "haproxy": [self.pid("haproxy")],
                "desk_webchat": [self.pid("desk"), self.pid("webchat")],
                "customers": [os.getpid()]}

    def healthy(self, process: str) -> bool:
        urls = {"rasa:rasa_0": f"http://127.0.0.1:{self.ports['KEFU_RASA1_PORT']}/",
                "rasa:rasa_1": f"http://127.0.0.1:{self.ports['KEFU_RASA2_PORT']}/",
                "actions:actions_0": f"http://127.0.0.1:{self.ports['KEFU_ACTION1_PORT']}/health",
                "actions:actions_1": f"http://127.0.0.1:{self.ports['KEFU_ACTION2_PORT']}/health",
                "desk": f"http://127.0.0.1:{self.ports['KEFU_DESK_PORT']}/healthz"}
        return answers(urls[process])

    def stored_user_texts(self) -> Dict[str, Counter]:
        """sender id -> how often each customer text is in Rasa's events table."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.postgres.url)
        stored: Dict[str, Counter] = {}
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT sender_id, data FROM events WHERE type_name = 'user'"))
            for sender_id, data in rows:
                stored.setdefault(sender_id, Counter())[json.loads(data).get("text")] += 1
        engine.dispose()
        return stored

    def logs_tail(self) -> str:
        logs = self.folder / "cluster" / "logs"
        parts = []
        for path in sorted(logs.glob("*.log")) if logs.exists() else []:
            parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-1500:])
        return "\n".join(parts)

    def stop(self, keep: bool = False) -> None:
        subprocess.run(["bash", "scripts/cluster_stop.sh"], cwd=ROOT, env=self.env,
                       capture_output=True, timeout=120)
        self.redis.stop()
        self.postgres.stop()
        if not keep:
            shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------------------- customers


@dataclass
class Sent:
    sender: str
    text: str
    at: float  # seconds since the run began
    seconds: float = 0.0
    outcome: str = ""  # reply | empty | apology | error:<kind> | late
    resent: bool = False  # the connection closed before an answer: sent again (RESENDS)
    replies: list = field(default_factory=list)
    # the client's id of this message: a resend carries the same one (kefu.channels.rest)
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex)


class Customers:
    """Customers typing complaints over the REST webhook (through the balancer). A
    customer who is told "请稍后再试" waits a moment and sends the same words again."""

    def __init__(self, url: str, count: int, think: float, seed: int = 7) -> None:
        self.url, self.count, self.think = url, count, think
        self.sent: List[Sent] = []
        self.random = random.Random(seed)
        self.run_id = uuid.uuid4().hex[:6]
        self.started = 0.0

    async def run(self, seconds: float) -> None:
        self.started = time.monotonic()
        deadline = self.started + seconds
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout,
                                         connector=_connector()) as session:
            await asyncio.gather(*(self._customer(session, number, deadline)
                                   for number in range(self.count)))

    async def _customer(self, session, number: int, deadline: float) -> None:
        await asyncio.sleep(self.random.uniform(0, self.think))
        conversation = number
        while time.monotonic() < deadline:
            sender = f"cl-{self.run_id}-{number}-{conversation}"
            messages = CONVERSATIONS[conversation % len(CONVERSATIONS)]
            conversation += 1
            replies: list = []
            for message in messages:
                if time.monotonic() >= deadline:
                    return
                text = _resolve(message, replies)
                while True:
                    record = await self.say(session, sender, text)
                    # told "请稍后再试", a customer waits as the balancer's Retry-After asks
                    wait = max(self.think, RETRY_AFTER if record.outcome == "apology" else 0.0)
                    await asyncio.sleep(wait * self.random.uniform(0.7, 1.3))
                    if record.outcome != "apology" or time.monotonic() >= deadline:
                        break
                replies = record.replies

    async def say(self, session, sender: str, text: str) -> Sent:
        record = Sent(sender, text, time.monotonic() - self.started)
        self.sent.append(record)
        start = time.monotonic()
        for attempt in range(1, RESENDS + 2):
            try:
                async with session.post(self.url + "/webhooks/rest/webhook",
                                        json={"sender": sender, "message": text,
                                              "message_id": record.message_id}) as response:
                    body = json.loads(await response.read() or b"[]")
                    status = response.status
                break
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as error:
                # The connection closed before any byte of an answer (also while the body
                # was still being written): sent again on a new connection, with the same
                # message id, so a message that had arrived is answered again rather than
                # stored twice (kefu.patches.repeat_messages). Counted.
                if attempt == RESENDS + 1:
                    record.outcome = f"error:{type(error).__name__} {error}"
                    record.seconds = time.monotonic() - start
                    return record
                record.resent = True
                await asyncio.sleep(RESEND_PAUSE * attempt)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                record.outcome, record.seconds = f"error:{type(error).__name__} {error}", time.monotonic() - start
                return record
        record.seconds = time.monotonic() - start
        texts = " ".join(str(item.get("text") or "") for item in body if isinstance(item, dict)) \
            if isinstance(body, list) else ""
        if status in BUSY_STATUSES and APOLOGY in texts:
            record.outcome = "apology"
        elif status != 200:
            record.outcome = f"error:http {status}"
        else:
            record.replies = body
            record.outcome = "reply" if body else "empty"
        if record.seconds > ANSWER_BUDGET and record.outcome in ("reply", "empty", "apology"):
            record.outcome = "late:" + record.outcome
        return record


# A client that gives its messages ids may send one again without fear of doubling it:
# up to 3 times after a dropped connection, a little later each time (within the 5 s a
# customer waits, which still counts from the first try).
RESENDS, RESEND_PAUSE = 3, 0.2


def _connector() -> aiohttp.TCPConnector:
    """Idle connections are dropped before HAProxy's keep-alive timeout (10 s) would
    close them under a request being sent (what a browser retries by itself)."""
    return aiohttp.TCPConnector(limit=0, keepalive_timeout=4)


def _resolve(message: str, replies: list) -> str:
    if message != FIRST_BUTTON:
        return message
    for reply in replies:
        if reply.get("buttons"):
            return reply["buttons"][0]["payload"]
    return "/affirm"


def storage_report(sent: List[Sent], stored: Dict[str, Counter]) -> dict:
    """Each (sender, text) sent k times with r replies must be stored between r and k
    times: more is a duplicate, fewer than the replies is a lost message. An apology
    means "not handled": the customer sends it again, so it may or may not be stored."""
    sends: Dict[tuple, list] = {}
    for record in sent:
        sends.setdefault((record.sender, record.text), []).append(record)
    duplicated = lost = exactly_once = 0
    for (sender, text), records in sends.items():
        count = stored.get(sender, Counter()).get(text, 0)
        answered = sum(1 for r in records if r.outcome.endswith(("reply", "empty")))
        duplicated += max(0, count - len(records))
        lost += max(0, answered - count)
        exactly_once += answered if answered <= count <= len(records) else 0
    outcomes = Counter(record.outcome.split(":")[0] if record.outcome.startswith("error")
                       else record.outcome for record in sent)
    answered = sum(1 for r in sent if r.outcome.endswith(("reply", "empty")))
    senders = {record.sender for record in sent}
    return {"sent": len(sent), "answered": answered, "stored": sum(
        sum(counter.values()) for sender, counter in stored.items() if sender in senders),
        "answered_stored_once": exactly_once, "duplicated": duplicated, "lost": lost,
        "outcomes": dict(outcomes), "resent_on_a_new_connection": sum(r.resent for r in sent),
        "not_replied": [{"at_s": round(r.at, 1), "outcome": r.outcome, "seconds": round(r.seconds, 2),
                         "text": r.text} for r in sent if r.outcome != "reply"]}
