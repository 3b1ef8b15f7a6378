"""`make bench-cluster`: 1 against 2 Rasa replicas behind HAProxy, in the same run.

A private cluster (bench/cluster_harness.py: HAProxy, 2 Rasa replicas, 2 action
servers, PostgreSQL and Redis of its own) on this machine. Customers type the seven
complete complaints of bench_conversation.py over the REST webhook through the
balancer, one message every `--think` seconds each (a reply is waited for first).
Phases, each `--seconds` long after a warm-up: 2 replicas at 20 then 50 customers;
then one replica is stopped (`supervisorctl stop`, HAProxy's health check takes it
out) and the same loads run on 1 replica.

Per phase: turns/s, p50/p95/p99 of the answered turns, errors (anything but a reply:
"请稍后再试" past HAProxy's 4.5 s, HTTP errors). Closing ratios: throughput of 2
replicas over 1 at each load (target >= 1.6), and with 2 replicas the p95 at 50
customers over the p95 at 20 (target <= 2). JSON goes to results/bench/cluster.json.
"""
import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_conversation import percentile  # noqa: E402
from cluster_harness import ROOT, Customers, PrivateCluster  # noqa: E402


def phase(cluster: PrivateCluster, customers: int, seconds: float, think: float) -> dict:
    load = Customers(cluster.url, customers, think, seed=customers)
    asyncio.run(load.run(seconds))
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
            "error_rate": sum(errors.values()) / len(counted) if counted else 0.0}


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--loads", default="20,50")
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
            for customers in loads:
                result = phase(cluster, customers, args.seconds, args.think)
                results["phases"][f"{replicas}x{customers}"] = result
                print(f"{replicas} replica(s), {customers:3d} customers: {result['turns_per_s']:6.1f} turns/s  "
                      f"p50 {result['p50_ms']:6.0f} ms  p95 {result['p95_ms']:6.0f} ms  "
                      f"p99 {result['p99_ms']:6.0f} ms  errors {sum(result['errors'].values())} "
                      f"{result['errors'] or ''}", flush=True)
    finally:
        cluster.stop()
    phases = results["phases"]
    results["ratios"] = {
        **{f"throughput_2_over_1_at_{n}": ratio(phases[f"2x{n}"]["turns_per_s"], phases[f"1x{n}"]["turns_per_s"])
           for n in loads},
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
