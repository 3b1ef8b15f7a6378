"""`make bench-cluster`: 1 against 2 Rasa replicas behind HAProxy, in the same run.

A private cluster (bench/cluster_harness.py: HAProxy, 2 Rasa replicas, 2 action
servers, PostgreSQL and Redis of its own) on this machine. Customers type the seven
complete complaints of bench_conversation.py over the REST webhook through the
balancer, one message every `--think` seconds each (a reply is waited for first).
Phases, each `--seconds` long after a warm-up: 2 replicas at 20 then 50 customers,
then 50 customers who send again as soon as they are answered (no think time: what
the deployment can serve at most); then one replica is stopped (`supervisorctl stop`,
HAProxy's health check takes it out) and the same three run on 1 replica.

Per phase: turns/s, p50/p95/p99 of the answered turns, errors (anything but a reply:
"请稍后再试" past HAProxy's 4.5 s, HTTP errors), and the CPU each part of the deployment
spent per answered turn (bench/cpu_use.py) with the share of both cores in use.
Closing ratios: throughput of 2 replicas over 1 at each load and at capacity (target
>= 1.6), and with 2 replicas the p95 at 50 customers over the p95 at 20 (target <= 2).
With think time the customers ask for at most count / think turns/s, so where one
replica keeps up the throughput ratio is 1 by construction; the capacity phases show
what a second replica adds once the customers ask for more than one can serve.
JSON goes to results/bench/cluster.json.
"""
import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_conversation import percentile  # noqa: E402
from cluster_harness import ROOT, Customers, PrivateCluster  # noqa: E402
from cpu_use import CpuMeter  # noqa: E402


def phase(cluster: PrivateCluster, customers: int, seconds: float, think: float) -> dict:
    load = Customers(cluster.url, customers, think, seed=customers)
    meter = CpuMeter(cluster.cpu_parts())
    meter.start()
    began = time.monotonic()
    asyncio.run(load.run(seconds))
    cpu, wall = meter.stop(), time.monotonic() - began
    replied = sum(1 for r in load.sent if r.outcome == "reply") or 1
    # Only turns sent once every customer had started (the first think time) count.
    counted = [r for r in load.sent if r.at >= think]
    window = max(1e-9, max((r.at + r.seconds for r in counted), default=seconds) - think)
    answered = [r.seconds * 1000 for r in counted if r.outcome == "reply"]
    errors: dict = {}
    for record in counted:
        if record.outcome != "reply":
            errors[record.outcome] = errors.get(record.outcome, 0) + 1
    return {"customers": customers, "turns": len(answered), "turns_per_s": len(answered) / window,
            "p50_ms": percentile(answered, 50), "p95_ms": percentile(answered, 95),
            "p99_ms": percentile(answered, 99), "errors": errors,
            "error_rate": sum(errors.values()) / len(counted) if counted else 0.0,
            "cpu_ms_per_turn": {part: round(used * 1000 / replied, 1) for part, used in cpu.items()},
            "cores_busy": round(cpu["machine"] / wall, 2)}


def report(replicas: int, name: str, result: dict) -> None:
    label = f"{result['customers']:3d} customers" + (", no think time" if name == "capacity" else "")
    print(f"{replicas} replica(s), {label}: {result['turns_per_s']:6.1f} turns/s  "
          f"p50 {result['p50_ms']:6.0f} ms  p95 {result['p95_ms']:6.0f} ms  "
          f"p99 {result['p99_ms']:6.0f} ms  errors {sum(result['errors'].values())} "
          f"{result['errors'] or ''}", flush=True)
    cpu = result["cpu_ms_per_turn"]
    print("    CPU ms per turn: " + "  ".join(f"{part} {cpu[part]:.1f}" for part in cpu)
          + f"  (cores busy {result['cores_busy']:.2f} of {os.cpu_count()})", flush=True)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--loads", default="20,50")
    parser.add_argument("--capacity-seconds", type=float, default=20,
                        help="length of the no-think-time phase at the larger load (0: left out)")
    args = parser.parse_args()
    loads = [int(n) for n in args.loads.split(",")]
    cluster = PrivateCluster()
    results: dict = {"think_s": args.think, "seconds": args.seconds, "phases": {}}
    try:
        print("starting a private cluster (HAProxy, 2 Rasa replicas, PostgreSQL, Redis) ...", flush=True)
        cluster.start()
        phase(cluster, loads[0], 15, args.think)  # warm-up, not recorded
        for replicas in (2, 1):
            if replicas == 1:
                cluster.ctl("stop", "rasa:rasa_1")
                time.sleep(4)  # HAProxy marks it down after two failed checks, 1 s apart
            runs = [(str(n), n, args.seconds, args.think) for n in loads]
            if args.capacity_seconds:
                runs.append(("capacity", loads[-1], args.capacity_seconds, 0.0))
            for name, customers, seconds, think in runs:
                result = phase(cluster, customers, seconds, think)
                results["phases"][f"{replicas}x{name}"] = result
                report(replicas, name, result)
    finally:
        cluster.stop()
    phases = results["phases"]
    names = [str(n) for n in loads] + (["capacity"] if args.capacity_seconds else [])
    results["ratios"] = {
        **{f"throughput_2_over_1_at_{n}": ratio(phases[f"2x{n}"]["turns_per_s"], phases[f"1x{n}"]["turns_per_s"])
           for n in names},
        f"p95_{loads[-1]}_over_{loads[0]}_with_2": ratio(phases[f"2x{loads[-1]}"]["p95_ms"],
                                                          phases[f"2x{loads[0]}"]["p95_ms"]),
        f"p95_{loads[-1]}_over_{loads[0]}_with_1": ratio(phases[f"1x{loads[-1]}"]["p95_ms"],
                                                          phases[f"1x{loads[0]}"]["p95_ms"]),
    }
    print("\nratios (targets: throughput 2/1 >= 1.6; p95 at 50 / p95 at 20 <= 2 with 2 replicas):")
    for name, value in results["ratios"].items():
        print(f"  {name}: {value:.2f}")
    out = ROOT / "results" / "bench" / "cluster.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\n{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
