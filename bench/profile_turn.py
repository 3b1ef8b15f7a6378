"""Where the time of one complaint turn goes.

Starts kefu (Rasa + action server) and the bare baseline like bench_conversation.py, with
a small timing proxy between kefu's Rasa and its action server (Rasa's action endpoint
points at the proxy, which forwards every call and records the action's name and how long
the action server took). Then, one customer at a time (no concurrency), it sends the
complete complaints of bench_conversation.CONVERSATIONS ``--repeat`` times and, per turn:

  * total   -- the webhook turn on kefu (request sent -> response read);
  * NLU     -- ``POST /model/parse`` of the same text on the same server (tokenizer,
               featurizers, DIET, emotion, extractors; plus one loopback HTTP request);
  * actions -- the action server calls of that turn, timed by the proxy (count, ms);
  * core    -- the rest: Rasa's policies, tracker store (SQLite) reads and writes, NLG,
               the REST channel (total - NLU - actions);
  * bare    -- the same text on the bare server (total and its own NLU parse).

It prints a table per turn of the conversation, the time per action, and (unless
``--no-cprofile``) a cProfile of kefu's Rasa agent loaded in this process
(``rasa.core.agent.load_agent`` with endpoints.yml, the same private tracker store and
the running action server) handling one complete complaint, top entries by cumulative
time. Results also go to results/bench/profile-<time>.json.

Run: .venv/bin/python bench/profile_turn.py [--repeat 3] [--no-cprofile] [--top 25]
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_conversation as bc  # noqa: E402
import make_bare  # noqa: E402

ROOT = bc.ROOT


class TimingProxy:
    """Forwards Rasa's action calls to the action server and times each of them."""

    def __init__(self, target: str):
        self.target = target
        self.calls: List[dict] = []
        self.turn: Optional[int] = None
        self._runner: Optional[web.AppRunner] = None
        self._session: Optional[aiohttp.ClientSession] = None

    async def start(self, port: int) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/webhook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            name = json.loads(body).get("next_action")
        except ValueError:
            name = None
        start = time.perf_counter()
        async with self._session.post(self.target + "/webhook", data=body,
                                      headers={"Content-Type": "application/json"}) as response:
            payload, status = await response.read(), response.status
        self.calls.append({"turn": self.turn, "action": name, "status": status,
                           "ms": (time.perf_counter() - start) * 1000, "request_bytes": len(body)})
        return web.Response(body=payload, status=status, content_type="application/json")


async def timed_post(session: aiohttp.ClientSession, url: str, body: dict) -> tuple:
    start = time.perf_counter()
    async with session.post(url, json=body) as response:
        data = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {data[:300]!r}")
    return (time.perf_counter() - start) * 1000, json.loads(data or b"null")


async def profile_http(kefu: bc.Server, bare: bc.Server, proxy: TimingProxy, repeat: int) -> List[dict]:
    rows: List[dict] = []
    turn_id = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for round_ in range(repeat + 1):  # round 0 warms up
            for conversation in bc.CONVERSATIONS:
                senders = {name: f"prof-{name}-{uuid.uuid4().hex[:8]}" for name in ("kefu", "bare")}
                replies: list = []
                for position, message in enumerate(conversation, start=1):
                    text = bc.resolve(message, replies, None)
                    turn_id += 1
                    proxy.turn = turn_id
                    total, replies = await timed_post(session, kefu.url + "/webhooks/rest/webhook",
                                                      {"sender": senders["kefu"], "message": text})
                    proxy.turn = None
                    parse, _ = await timed_post(session, f"{kefu.url}/model/parse?token={kefu.token}",
                                                {"text": text})
                    bare_total, _ = await timed_post(session, bare.url + "/webhooks/rest/webhook",
                                                     {"sender": senders["bare"], "message": text})
                    bare_parse, _ = await timed_post(session, f"{bare.url}/model/parse?token={bare.token}",
                                                     {"text": text})
                    calls = [c for c in proxy.calls if c["turn"] == turn_id]
                    if round_ == 0:
                        continue
                    action_ms = sum(c["ms"] for c in calls)
                    rows.append({"turn_id": turn_id, "position": position, "text": message if message != bc.FIRST_BUTTON else text,
                                 "total_ms": total, "nlu_ms": parse, "actions": len(calls),
                                 "action_names": [c["action"] for c in calls], "action_ms": action_ms,
                                 "core_ms": total - parse - action_ms, "bare_total_ms": bare_total,
                                 "bare_nlu_ms": bare_parse, "replies": len(replies or [])})
    return rows


def med(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def print_http_profile(rows: List[dict], proxy: TimingProxy, repeat: int) -> dict:
    print(f"\none customer at a time, {len(bc.CONVERSATIONS)} complaints x {repeat}; medians in ms per turn of a conversation")
    print(f"  {'turn':<5}{'kefu total':>11}{'NLU':>8}{'actions':>9}{'n':>4}{'core+rest':>11}"
          f"{'bare total':>12}{'bare NLU':>10}{'bare rest':>11}  example")
    positions = sorted({r["position"] for r in rows})
    table = []
    for position in positions:
        group = [r for r in rows if r["position"] == position]
        line = {
            "position": position, "total_ms": med(r["total_ms"] for r in group),
            "nlu_ms": med(r["nlu_ms"] for r in group), "action_ms": med(r["action_ms"] for r in group),
            "actions": med(r["actions"] for r in group), "core_ms": med(r["core_ms"] for r in group),
            "bare_total_ms": med(r["bare_total_ms"] for r in group), "bare_nlu_ms": med(r["bare_nlu_ms"] for r in group),
            "bare_rest_ms": med(r["bare_total_ms"] - r["bare_nlu_ms"] for r in group),
        }
        table.append(line)
        example = group[0]["text"][:18]
        print(f"  {position:<5}{line['total_ms']:>11.1f}{line['nlu_ms']:>8.1f}{line['action_ms']:>9.1f}"
              f"{line['actions']:>4.0f}{line['core_ms']:>11.1f}{line['bare_total_ms']:>12.1f}"
              f"{line['bare_nlu_ms']:>10.1f}{line['bare_rest_ms']:>11.1f}  {example}")
    overall = {key: statistics.mean(r[key] for r in rows)
               for key in ("total_ms", "nlu_ms", "action_ms", "core_ms", "bare_total_ms", "bare_nlu_ms")}
    overall["actions"] = statistics.mean(r["actions"] for r in rows)
    total = overall["total_ms"]
    print(f"  {'mean':<5}{total:>11.1f}{overall['nlu_ms']:>8.1f}{overall['action_ms']:>9.1f}"
          f"{overall['actions']:>4.1f}{overall['core_ms']:>11.1f}{overall['bare_total_ms']:>12.1f}"
          f"{overall['bare_nlu_ms']:>10.1f}{overall['bare_total_ms'] - overall['bare_nlu_ms']:>11.1f}")
    print(f"  share of kefu's mean turn: NLU {100 * overall['nlu_ms'] / total:.0f} %, action server "
          f"{100 * overall['action_ms'] / total:.0f} % ({overall['actions']:.1f} calls), Rasa core + tracker store "
          f"+ NLG + channel {100 * overall['core_ms'] / total:.0f} %;  kefu/bare mean turn "
          f"{total / overall['bare_total_ms']:.2f}x")

    by_action: Dict[str, List[float]] = {}
    measured = {r["turn_id"] for r in rows}
    counted = [c for c in proxy.calls if c["turn"] in measured]
    for call in counted:
        by_action.setdefault(call["action"], []).append(call["ms"])
    print("\naction server calls (measured rounds, through the timing proxy)")
    print(f"  {'action':<32}{'calls':>6}{'median ms':>11}{'p95 ms':>9}{'request KB':>12}")
    sizes: Dict[str, List[int]] = {}
    for call in counted:
        sizes.setdefault(call["action"], []).append(call["request_bytes"])
    actions = []
    for name, times in sorted(by_action.items(), key=lambda item: -sum(item[1])):
        p95 = bc.percentile(times, 95)
        print(f"  {str(name):<32}{len(times):>6}{med(times):>11.1f}{p95:>9.1f}{med(sizes[name]) / 1024:>12.1f}")
        actions.append({"action": name, "calls": len(times), "median_ms": med(times), "p95_ms": p95,
                        "median_request_bytes": med(sizes[name])})
    return {"per_position": table, "overall": overall, "actions": actions}


def cprofile_agent(stack: bc.Stack, action_url: str, top: int) -> dict:
    """cProfile of kefu's agent, loaded in this process, handling one complete complaint."""
    os.environ.update({k: v for k, v in stack.env.items() if k.startswith(("KEFU_", "WECHAT_", "SQLALCHEMY", "TF_"))})
    os.environ["KEFU_ACTION_URL"] = action_url + "/webhook"
    sys.path.insert(0, str(ROOT))
    import logging
    logging.getLogger().setLevel(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's structlog prints debug dumps of every slot otherwise
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    from kefu.server import apply_fixes

    apply_fixes()  # profile what `make run` runs, not Rasa's unpatched action-reply check

    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    load_start = time.perf_counter()

    async def run() -> dict:
        agent = await load_agent(model_path=str(bc.MODEL), endpoints=endpoints)
        load_seconds = time.perf_counter() - load_start
        import gc

        gc.collect()
        gc.freeze()  # as kefu.server does once the model is loaded

        async def conversation(messages: List[str]) -> List[float]:
            sender, replies, times = f"cprof-{uuid.uuid4().hex[:8]}", [], []
            for message in messages:
                start = time.perf_counter()
                replies = await agent.handle_text(bc.resolve(message, replies, None), sender_id=sender)
                times.append((time.perf_counter() - start) * 1000)
            return times

        for messages in bc.CONVERSATIONS:  # warm-up
            await conversation(messages)
        profiler = cProfile.Profile()
        profiler.enable()
        times = await conversation(bc.CONVERSATIONS[0])
        profiler.disable()
        kept = getattr(agent.action_endpoint, "_kefu_session", None)  # kefu.server's keep-alive session
        if kept:
            await kept[1].close()
        return {"load_seconds": load_seconds, "turn_ms": times, "profiler": profiler}

    result = asyncio.run(run())
    stream = io.StringIO()
    stats = pstats.Stats(result.pop("profiler"), stream=stream)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    text = stream.getvalue()
    if os.environ.get("KEFU_PROFILE_TOTTIME"):
        stats.sort_stats("tottime").print_stats(top)
        print(stream.getvalue()[len(text):])
    turns = result["turn_ms"]
    print(f"\ncProfile: kefu agent in-process (loaded in {result['load_seconds']:.0f} s), one complete complaint, "
          f"{len(turns)} turns, {sum(turns):.0f} ms ({statistics.mean(turns):.1f} ms per turn; "
          "the action server runs in its own process, so its time shows as waiting)")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print("\n".join(lines[start:start + top + 1]))
    result["top"] = "\n".join(lines[start:start + top + 1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="rounds over the complaints (after one warm-up round)")
    parser.add_argument("--no-cprofile", action="store_true", help="skip the in-process cProfile")
    parser.add_argument("--reuse-bare", action="store_true", help="use the existing bare model even if stale")
    parser.add_argument("--top", type=int, default=25, help="cProfile entries to print")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 50:
        parser.error("--repeat 1..50")
    bc.sigterm_as_interrupt()
    started = datetime.now()
    print(f"turn profile, {started:%Y-%m-%d %H:%M:%S}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    make_bare.build(reuse_stale=args.reuse_bare)
    report: dict = {"started": started.isoformat(timespec="seconds"), "args": vars(args)}
    try:
        with bc.Stack() as stack:
            proxy_port = bc.free_port()
            kefu, wait_kefu = stack.start_kefu(proxy_port=proxy_port)
            bare, wait_bare = stack.start_bare(make_bare.MODEL)
            proxy = TimingProxy(kefu.extra["action_url"])

            async def http_part() -> dict:
                await proxy.start(proxy_port)
                try:
                    loop = asyncio.get_running_loop()
                    await loop.run_in_executor(None, wait_kefu)
                    await loop.run_in_executor(None, wait_bare)
                    rows = await profile_http(kefu, bare, proxy, args.repeat)
                finally:
                    await proxy.stop()
                return {"rows": rows}

            part = asyncio.run(http_part())
            report["http"] = print_http_profile(part["rows"], proxy, args.repeat)
            report["rows"] = part["rows"]
            # Free the cores for the in-process profile: only the action server is needed.
            for name in ("rasa",):
                process = kefu.processes[name]
                process.terminate()
                process.wait(timeout=30)
            bare.processes["rasa"].terminate()
            bare.processes["rasa"].wait(timeout=30)
            if not args.no_cprofile:
                result = cprofile_agent(stack, kefu.extra["action_url"], args.top)
                report["cprofile"] = result
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"profile broke: {error}", file=sys.stderr)
        return 2
    bc.RESULTS.mkdir(parents=True, exist_ok=True)
    path = bc.RESULTS / f"profile-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    print(f"\nresults: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
