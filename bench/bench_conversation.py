"""Conversation benchmark: complete complaints through the REST webhook, kefu vs a bare Rasa.

Starts, on free loopback ports and with a private KEFU_HOME (seeded database, token,
tracker store) like tests/conftest.py:

  * kefu  -- ``rasa run`` with models/kefu.tar.gz, endpoints.yml (SQL tracker store,
             guarded NLG, action server) and credentials.yml, plus ``rasa run actions``;
  * bare  -- ``rasa run`` with the bare model (bench/bare/make_bare.py: the same NLU
             pipeline and NLU data, RulePolicy with one rule intent -> one text response,
             no custom actions, no action server, Rasa's default in-memory tracker store).

Both get the same customer messages: complete complaints about the demo orders
KF20261101..KF20261107, typed the way customers type them, buttons pressed with their
payloads; every conversation has a fresh sender id. After a warm-up (not measured):

  * think-time run -- N customers (``--customers``, default 20), one message per second
    each (the next one a second after the previous was sent, never before its reply),
    for ``--seconds`` (default 60); the customers start spread over one conversation's
    length, so they are at different steps of their complaints, and measuring begins once
    the last has started;
  * closed loop    -- N customers sending the next message as soon as the reply arrives,
    for ``--closed-seconds`` (default 20).

Each run is split into slices measured alternately (kefu, bare, bare, kefu, ...) so that
the load of whatever else runs on the machine falls on both servers alike. Per server it
prints p50/p95/p99 turn latency (request sent -> response read), turns per second,
server CPU per turn, errors (non-200, timeouts, connection errors: counted, never
hidden), then the ratios kefu/bare and PASS/FAIL against the targets:

  * p95 <= 150 ms at N customers with think time           (kefu)
  * closed-loop turns/s >= 0.7 x the bare server's
  * p95 <= 1.5 x the bare server's p95                       (think-time run)

JSON results go to results/bench/conversation-<time>.json (and conversation-latest.json).
Exit status: 0 when every target passes, 1 when one fails, 2 when the run broke.

Run:  .venv/bin/python bench/bench_conversation.py [--customers 20] [--seconds 60]
          [--closed-seconds 20] [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "bare"))

import make_bare  # noqa: E402

sys.path.insert(0, str(ROOT))
from kefu.wait import free_port, wait_until_up  # noqa: E402,F401 (profile_turn uses free_port from here)

MODEL = ROOT / "models" / "kefu.tar.gz"
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "results" / "bench"
FIRST_BUTTON = "<press the first button>"
TICKET = re.compile(r"T\d{13}")
REQUEST_TIMEOUT = 30.0

# Complete complaints, one per demo order, as customers type them.
CONVERSATIONS: List[List[str]] = [
    ["你们这什么破杯子", "收到盖子就是裂的，一倒水全漏桌上了😡", "kf20261101", "13800000001",
     "前天到的", "换个新的吧", "/affirm", '/inform{"remedy":"replace"}', '/rate{"rating":"5"}'],
    ["耳机买了十天了还没送到，怎么回事", "说好三天到的，物流一直显示在路上", "KF20261102", "13800000002",
     "上周三下的单", "我要退款", "/affirm", FIRST_BUTTON, '/rate{"rating":"4"}'],
    ["我的羽绒服八天了物流一动不动！！！", "没了", "KF20261103", "13800000003",
     "上周下的单", "给我补发", "/affirm", '/inform{"remedy":"resend"}', '/rate{"rating":"4"}'],
    ["你们发错货了，我买的红色M码连衣裙寄来的是蓝色的", "没了", "订单号KF20261104", "13800000004",
     "昨天收到的", "给我换成对的", "/affirm", FIRST_BUTTON, '/rate{"rating":"5"}'],
    ["外卖送晚了一个小时，骑手态度还很差", "就这些", "KF20261105", "13800000005",
     "今天中午", "给点补偿吧", "/affirm", FIRST_BUTTON, '/rate{"rating":"4"}'],
    ["退款一个多星期了还没到账", "钱到底去哪了", "订单KF20261106 手机13800000006",
     "退货是上个月底", "就是要把钱退给我", "/affirm", FIRST_BUTTON, '/rate{"rating":"5"}'],
    ["精华液的钱扣了我两次", "就这些", "KF20261107", "13800000007",
     "前天付的款", "多扣的钱退给我", "/affirm", FIRST_BUTTON, '/rate{"rating":"5"}'],
]


# --------------------------------------------------------------------------- servers


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


@dataclass
class Server:
    """One running Rasa server (and the processes belonging to it)."""

    name: str
    url: str
    token: str
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: Dict[str, Path] = field(default_factory=dict)
    extra: Dict[str, str] = field(default_factory=dict)

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes.values())

    def rasa_cpu(self) -> float:
        """The Rasa process alone: one core's worth at most, what limits the closed loop."""
        return cpu_seconds(self.processes["rasa"].pid)


class Stack:
    """Starts kefu and/or bare servers in a private folder; stops them on exit."""

    def __init__(self, keep_home: bool = False):
        self.home = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
        self.keep_home = keep_home
        self.processes: List[subprocess.Popen] = []
        self.token = "bench-token-" + os.urandom(6).hex()
        self.env = make_bare.bare_env()
        self.env.update(KEFU_HOME=str(self.home), KEFU_DB_URL=f"sqlite:///{self.home}/kefu.db",
                        KEFU_TRACKER_DIALECT="sqlite", KEFU_TRACKER_DB=str(self.home / "tracker.db"),
                        KEFU_TOKEN=self.token, WECHAT_TOKEN="wechat-bench-" + os.urandom(6).hex(),
                        # every simulated customer posts from 127.0.0.1: one address's limit
                        # would answer most turns with a fast 429 (tests/test_public_input.py
                        # covers the limit itself)
                        KEFU_RATE_ADDRESS="off")
        self.seeded = False

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, name: str, command: List[str], cwd: Path, env: dict) -> tuple:
        log = self.home / f"{name}.log"
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log.open("w"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process, log

    def seed(self) -> None:
        if not self.seeded:
            subprocess.run([sys.executable, "-m", "kefu.store", "seed"], env=self.env, cwd=ROOT,
                           check=True, capture_output=True)
            self.seeded = True

    def start_kefu(self, proxy_port: Optional[int] = None) -> tuple:
        """Starts the action server and kefu's Rasa server; returns (server, wait) where wait()
        blocks until both answer. With ``proxy_port`` Rasa calls the action server through
        http://127.0.0.1:<proxy_port>/webhook (the profiler's timing proxy)."""
        if not MODEL.exists():
            raise RuntimeError("no trained model models/kefu.tar.gz: run `make train`")
        self.seed()
        action_port, rasa_port = free_port(), free_port()
        env = dict(self.env, KEFU_ACTION_URL=f"http://127.0.0.1:{proxy_port or action_port}/webhook")
        actions, action_log = self._spawn(
            "kefu-actions", [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(action_port),
                             "--actions", "actions"], ROOT, env)
        rasa, rasa_log = self._spawn(
            "kefu-rasa", [sys.executable, "-m", "kefu.server", "run", "--enable-api", "--auth-token", self.token,
                          "--port", str(rasa_port), "--model", str(MODEL), "--endpoints", "endpoints.yml",
                          "--credentials", "credentials.yml"], ROOT, env)
        server = Server("kefu", f"http://127.0.0.1:{rasa_port}", self.token,
                        {"rasa": rasa, "actions": actions}, {"rasa": rasa_log, "actions": action_log},
                        {"action_url": f"http://127.0.0.1:{action_port}"})

        def wait() -> None:
            wait_until_up(f"http://127.0.0.1:{action_port}/health", actions, action_log, timeout=300)
            wait_until_up(server.url + "/", rasa, rasa_log, timeout=300)
        return server, wait

    def start_bare(self, model: Path) -> tuple:
        """Starts the bare Rasa server (no endpoints: in-memory tracker store, no action server)."""
        folder = self.home / "bare"
        folder.mkdir(exist_ok=True)
        (folder / "credentials.yml").write_text("rest:\n", encoding="utf-8")
        port = free_port()
        env = {k: v for k, v in self.env.items() if k != "KEFU_ACTION_URL"}
        rasa, log = self._spawn(
            "bare-rasa", [str(VENV_BIN / "rasa"), "run", "--enable-api", "--auth-token", self.token,
                          "--port", str(port), "--model", str(model), "--credentials", "credentials.yml"],
            folder, env)
        server = Server("bare", f"http://127.0.0.1:{port}", self.token, {"rasa": rasa}, {"rasa": log})
        return server, lambda: wait_until_up(server.url + "/", rasa, log, timeout=300)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
        self.processes.clear()
        if not self.keep_home:
            shutil.rmtree(self.home, ignore_errors=True)


def sigterm_as_interrupt() -> None:
    """SIGTERM/SIGHUP stop the run like Ctrl+C does, so the servers are stopped too."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


# --------------------------------------------------------------------------- load
@dataclass
class Record:
    latencies_ms: List[float] = field(default_factory=list)
    errors: Dict[str, int] = field(default_factory=dict)
    empty_replies: int = 0
    conversations_started: int = 0
    conversations_finished: int = 0
    tickets_promised: int = 0
    missing_buttons: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    rasa_cpu_seconds: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def merge(self, other: "Record") -> None:
        self.latencies_ms += other.latencies_ms
        for kind, count in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + count
        for name in ("empty_replies", "conversations_started", "conversations_finished",
                     "tickets_promised", "missing_buttons", "seconds", "cpu_seconds", "rasa_cpu_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def percentile(values: List[float], q: float) -> float:
    """Linear-interpolated percentile (like numpy's default); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(record: Record) -> dict:
    turns = len(record.latencies_ms)
    total = turns + sum(record.errors.values())
    return {
        "turns": turns,
        "errors": dict(record.errors),
        "error_count": sum(record.errors.values()),
        "error_rate": (sum(record.errors.values()) / total) if total else 0.0,
        "p50_ms": percentile(record.latencies_ms, 50),
        "p95_ms": percentile(record.latencies_ms, 95),
        "p99_ms": percentile(record.latencies_ms, 99),
        "max_ms": max(record.latencies_ms) if turns else float("nan"),
        "turns_per_s": turns / record.seconds if record.seconds else 0.0,
        "cpu_ms_per_turn": 1000 * record.cpu_seconds / turns if turns else float("nan"),
        "rasa_cpu_ms_per_turn": 1000 * record.rasa_cpu_seconds / turns if turns else float("nan"),
        "seconds": record.seconds,
        "empty_replies": record.empty_replies,
        "conversations_started": record.conversations_started,
        "conversations_finished": record.conversations_finished,
        "tickets_promised": record.tickets_promised,
        "missing_buttons": record.missing_buttons,
    }


async def send(session: aiohttp.ClientSession, server: Server, sender: str, text: str,
               record: Optional[Record]) -> Optional[list]:
    """One turn; its latency (or error) goes to ``record`` (None: warm-up, not recorded)."""
    start = time.perf_counter()
    try:
        async with session.post(server.url + "/webhooks/rest/webhook",
                                json={"sender": sender, "message": text}) as response:
            body = await response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                if record is not None:
                    record.error(f"http {response.status}")
                return None
            replies = json.loads(body or b"[]")
    except asyncio.TimeoutError:
        if record is not None:
            record.error("timeout")
        return None
    except (aiohttp.ClientError, ValueError) as error:
        if record is not None:
            record.error(type(error).__name__)
        return None
    if record is not None:
        record.latencies_ms.append(elapsed)
        if not replies:
            record.empty_replies += 1
    return replies


def resolve(message: str, replies: Optional[list], record: Optional[Record]) -> str:
    if message != FIRST_BUTTON:
        return message
    for reply in replies or []:
        if reply.get("buttons"):
            return reply["buttons"][0]["payload"]
    if record is not None:
        record.missing_buttons += 1
    return "/affirm"


async def customer(session: aiohttp.ClientSession, server: Server, number: int, run_id: str,
                   think: float, deadline: float, record: Optional[Record], start_delay: float,
                   measure_from: float = 0.0) -> None:
    """One customer: complete complaints one after another (fresh sender id each) until the
    deadline. Turns sent before ``measure_from`` and conversations begun before it are not recorded."""
    await asyncio.sleep(start_delay)
    conversation_index = number
    while time.monotonic() < deadline:
        messages = CONVERSATIONS[conversation_index % len(CONVERSATIONS)]
        conversation_index += 1
        sender = f"bench-{run_id}-{server.name}-{number}-{uuid.uuid4().hex[:8]}"
        counted = record if time.monotonic() >= measure_from else None
        if counted is not None:
            counted.conversations_started += 1
        replies: Optional[list] = []
        finished = True
        for message in messages:
            if time.monotonic() >= deadline:
                finished = False
                break
            sent_at = time.monotonic()
            turn_record = record if sent_at >= measure_from else None
            replies = await send(session, server, sender, resolve(message, replies, turn_record), turn_record)
            if think:
                await asyncio.sleep(max(0.0, sent_at + think - time.monotonic()))
        if counted is not None and finished:
            counted.conversations_finished += 1
            if any(TICKET.search(reply.get("text") or "") for reply in replies or []):
                counted.tickets_promised += 1


def ramp_seconds(think: float) -> float:
    """With think time, customers start spread over one average conversation, so that they
    are at different steps of their complaints, as independent customers are; started
    together, all would reach the same step (say the heavy last one) in the same second,
    every conversation. Nothing is measured during the ramp. Without think time: 0."""
    mean_turns = sum(len(messages) for messages in CONVERSATIONS) / len(CONVERSATIONS)
    return think * mean_turns


async def drive(server: Server, customers: int, seconds: float, think: float,
                record: Optional[Record], run_id: str) -> None:
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        ramp = ramp_seconds(think)
        start = time.monotonic()
        measure_from, deadline = start + ramp, start + ramp + seconds

        async def cpu_when_measuring_starts() -> tuple:
            await asyncio.sleep(ramp)
            return server.cpu(), server.rasa_cpu()

        cpu_at_start = asyncio.create_task(cpu_when_measuring_starts())
        await asyncio.gather(*(customer(session, server, number, run_id, think, deadline, record,
                                        ramp * number / customers, measure_from)
                               for number in range(customers)))
        cpu_before, rasa_cpu_before = await cpu_at_start
        if record is not None:
            record.seconds += time.monotonic() - measure_from
            record.cpu_seconds += server.cpu() - cpu_before
            record.rasa_cpu_seconds += server.rasa_cpu() - rasa_cpu_before


async def settle(server: Server, limit: float = 60.0) -> float:
    """Waits until the server answers ``GET /`` quickly twice in a row (its backlog of turns
    from the previous slice is gone); at most ``limit`` seconds. Returns the seconds waited."""
    start = time.monotonic()
    quick = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while quick < 2 and time.monotonic() - start < limit:
            sent = time.monotonic()
            try:
                async with session.get(server.url + "/") as response:
                    await response.read()
                quick = quick + 1 if time.monotonic() - sent < 0.05 else 0
            except (aiohttp.ClientError, asyncio.TimeoutError):
                quick = 0
            await asyncio.sleep(0.2)
    return time.monotonic() - start


async def warm_up(server: Server, customers: int, seconds: float, run_id: str) -> None:
    """Every conversation once, one after another, then a short concurrent burst; nothing recorded."""
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for index, messages in enumerate(CONVERSATIONS):
            sender, replies = f"warm-{run_id}-{server.name}-{index}", []
            for message in messages:
                replies = await send(session, server, sender, resolve(message, replies, None), None)
    if seconds > 0:
        await drive(server, customers, seconds, 1.0, None, run_id + "w")
    await settle(server)


async def nlu_parity(servers: List[Server]) -> dict:
    """Intent of every distinct typed message on each server (POST /model/parse)."""
    texts = sorted({m for conv in CONVERSATIONS for m in conv if not m.startswith("/") and m != FIRST_BUTTON})
    intents: Dict[str, Dict[str, str]] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for server in servers:
            for text in texts:
                async with session.post(f"{server.url}/model/parse?token={server.token}",
                                        json={"text": text}) as response:
                    parsed = await response.json()
                intents.setdefault(text, {})[server.name] = (parsed.get("intent") or {}).get("name")
    same = [t for t, by in intents.items() if len(set(by.values())) == 1]
    return {"messages": len(texts), "same_intent": len(same),
            "different": {t: by for t, by in intents.items() if t not in same}}


# --------------------------------------------------------------------------- report
def fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def ratio(a: float, b: float) -> float:
    return a / b if b and a == a and b == b else float("nan")


def print_phase(title: str, kefu: dict, bare: dict) -> None:
    print(f"\n{title}")
    header = f"  {'':<6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'turns/s':>9}{'cpu ms/turn':>12}{'rasa cpu':>9}{'turns':>7}{'errors':>8}"
    print(header)
    for name, s in (("kefu", kefu), ("bare", bare)):
        errors = str(s["error_count"]) + (f" {s['errors']}" if s["error_count"] else "")
        print(f"  {name:<6}{fmt(s['p50_ms']):>9}{fmt(s['p95_ms']):>9}{fmt(s['p99_ms']):>9}{fmt(s['max_ms']):>9}"
              f"{fmt(s['turns_per_s']):>9}{fmt(s['cpu_ms_per_turn']):>12}{fmt(s['rasa_cpu_ms_per_turn']):>9}{s['turns']:>7}{errors:>8}")
    print(f"  {'ratio':<6}{fmt(ratio(kefu['p50_ms'], bare['p50_ms']), 2):>9}"
          f"{fmt(ratio(kefu['p95_ms'], bare['p95_ms']), 2):>9}{fmt(ratio(kefu['p99_ms'], bare['p99_ms']), 2):>9}"
          f"{fmt(ratio(kefu['max_ms'], bare['max_ms']), 2):>9}{fmt(ratio(kefu['turns_per_s'], bare['turns_per_s']), 2):>9}"
          f"{fmt(ratio(kefu['cpu_ms_per_turn'], bare['cpu_ms_per_turn']), 2):>12}"
          f"{fmt(ratio(kefu['rasa_cpu_ms_per_turn'], bare['rasa_cpu_ms_per_turn']), 2):>9}   (kefu/bare)")
    print(f"  kefu conversations: {kefu['conversations_started']} started, {kefu['conversations_finished']} "
          f"finished, {kefu['tickets_promised']} ended with a ticket; empty replies {kefu['empty_replies']}, "
          f"missing buttons {kefu['missing_buttons']}")


def targets(results: dict, customers: int) -> List[dict]:
    think, closed = results["think"], results["closed"]
    p95 = think["kefu"]["p95_ms"]
    tps_ratio = ratio(closed["kefu"]["turns_per_s"], closed["bare"]["turns_per_s"])
    p95_ratio = ratio(think["kefu"]["p95_ms"], think["bare"]["p95_ms"])
    no_errors = think["kefu"]["error_count"] == 0 and closed["kefu"]["error_count"] == 0
    return [
        {"target": f"p95 <= 150 ms at {customers} customers with think time", "value": p95,
         "unit": "ms", "pass": p95 <= 150 and no_errors},
        {"target": "closed-loop turns/s >= 0.7 x bare", "value": tps_ratio, "unit": "x",
         "pass": tps_ratio >= 0.7},
        {"target": "p95 <= 1.5 x bare (think-time run)", "value": p95_ratio, "unit": "x",
         "pass": p95_ratio <= 1.5},
    ]


# --------------------------------------------------------------------------- main
async def measure(servers: Dict[str, Server], args, run_id: str) -> dict:
    results: Dict[str, Dict[str, dict]] = {}
    phases = [("think", args.seconds, 1.0), ("closed", args.closed_seconds, 0.0)]
    for phase, seconds, think in phases:
        records = {name: Record() for name in servers}
        slice_seconds = seconds / args.slices
        load = [os.getloadavg()[0]]
        for index in range(args.slices):
            order = ["kefu", "bare"] if index % 2 == 0 else ["bare", "kefu"]
            for name in order:
                print(f"  {phase}: {name} slice {index + 1}/{args.slices} ({slice_seconds:.0f} s, "
                      f"{args.customers} customers) ...", flush=True)
                record = Record()
                await drive(servers[name], args.customers, slice_seconds, think, record,
                            f"{run_id}{phase[0]}{index}")
                records[name].merge(record)
                load.append(os.getloadavg()[0])
                await settle(servers[name])
        results[phase] = {name: summary(record) for name, record in records.items()}
        results[phase]["load_1min"] = load
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60, help="think-time run, per server")
    parser.add_argument("--closed-seconds", type=float, default=20, help="closed-loop run, per server")
    parser.add_argument("--warm-up", type=float, default=8, help="seconds of concurrent warm-up per server")
    parser.add_argument("--slices", type=int, default=2, help="alternating kefu/bare slices per run")
    parser.add_argument("--quick", action="store_true", help="about 15 s per run (10 s closed loop), one slice")
    parser.add_argument("--reuse-bare", action="store_true",
                        help="use the existing bare model even if its inputs changed (no 5-10 min retrain)")
    parser.add_argument("--keep-home", action="store_true", help="keep the private KEFU_HOME and server logs")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.closed_seconds, args.warm_up, args.slices = 15, 10, 3, 1
    if not (1 <= args.customers <= 500 and 0 < args.seconds <= 3600 and 0 < args.closed_seconds <= 3600
            and 1 <= args.slices <= 20):
        parser.error("customers 1..500, seconds and closed-seconds in (0, 3600], slices 1..20")
    sigterm_as_interrupt()

    started = datetime.now()
    run_id = started.strftime("%H%M%S")
    print(f"conversation benchmark, {started:%Y-%m-%d %H:%M:%S}; machine: {os.cpu_count()} cpus, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    meta = make_bare.build(reuse_stale=args.reuse_bare)
    print(f"bare model: {('reused, STALE (inputs changed)' if meta.get('stale') else 'reused (inputs unchanged)') if meta.get('reused') else 'trained'}; "
          f"last build took {meta['train_seconds']} s"
          + (f", restored from cache: {', '.join(meta['cache']['restored']) or 'none'}" if meta.get("cache") else ""))

    try:
        with Stack(keep_home=args.keep_home) as stack:
            t0 = time.monotonic()
            kefu, wait_kefu = stack.start_kefu()
            bare, wait_bare = stack.start_bare(make_bare.MODEL)
            wait_kefu()
            wait_bare()
            print(f"servers up in {time.monotonic() - t0:.0f} s: kefu {kefu.url} (actions {kefu.extra['action_url']}), "
                  f"bare {bare.url}; KEFU_HOME {stack.home}")
            servers = {"kefu": kefu, "bare": bare}

            async def run() -> dict:
                for server in servers.values():
                    print(f"  warm-up: {server.name} ...", flush=True)
                    await warm_up(server, args.customers, args.warm_up, run_id)
                parity = await nlu_parity(list(servers.values()))
                return {"nlu_parity": parity, **(await measure(servers, args, run_id))}

            results = asyncio.run(run())
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"benchmark broke: {error}", file=sys.stderr)
        return 2

    parity = results["nlu_parity"]
    print(f"\nNLU parity (same intent on kefu and bare): {parity['same_intent']}/{parity['messages']} messages"
          + (f"; different: {parity['different']}" if parity["different"] else ""))
    print_phase(f"think-time run: {args.customers} customers, one message per second each, "
                f"{args.seconds:.0f} s per server (load {fmt(min(results['think']['load_1min']), 2)}"
                f"..{fmt(max(results['think']['load_1min']), 2)})", results["think"]["kefu"], results["think"]["bare"])
    print_phase(f"closed loop: {args.customers} customers, no think time, {args.closed_seconds:.0f} s per server "
                f"(load {fmt(min(results['closed']['load_1min']), 2)}..{fmt(max(results['closed']['load_1min']), 2)})",
                results["closed"]["kefu"], results["closed"]["bare"])
    checks = targets(results, args.customers)
    print("\ntargets")
    for check in checks:
        value = fmt(check["value"], 2 if check["unit"] == "x" else 1)
        print(f"  {'PASS' if check['pass'] else 'FAIL'}  {check['target']}: {value} {check['unit']}")
    errors = sum(results[p][s]["error_count"] for p in ("think", "closed") for s in ("kefu", "bare"))
    if errors:
        print(f"  note: {errors} failed turns (see the errors column)")

    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {"started": started.isoformat(timespec="seconds"), "args": vars(args),
                "cpus": os.cpu_count(), "load_average_end": os.getloadavg(), "bare_model": meta,
                "results": results, "targets": checks}
    path = RESULTS / f"conversation-{started:%Y%m%d-%H%M%S}.json"
    text = json.dumps(document, indent=2, ensure_ascii=False)
    path.write_text(text)
    (RESULTS / "conversation-latest.json").write_text(text)
    print(f"\nresults: {path.relative_to(ROOT)}")
    return 0 if all(check["pass"] for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
