"""`make bench`: the conversation benchmark, then the emotion and guard benchmarks (the guard's
corpus, one 30-character sentence), NLU on real text and the Rasa server's memory, then a summary.

Arguments go to bench_conversation.py (e.g. ``--quick``, ``--customers 50``); with make,
put them in ``KEFU_BENCH_ARGS``:  ``KEFU_BENCH_ARGS=--quick make bench``.
``--profile`` (here or in KEFU_BENCH_ARGS) also runs profile_turn.py at the end.

Exit status: 0 when every benchmark ran and met its targets, else 1 (2: a run broke).
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LATEST = ROOT / "results" / "bench" / "conversation-latest.json"


def run(script: str, args: list) -> tuple:
    """Runs one script, showing its output live; returns (exit status, output, seconds)."""
    print(f"\n===== {script} {' '.join(args)}".rstrip(), flush=True)
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-u", str(BENCH / script), *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = []
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        status = process.wait()
    except KeyboardInterrupt:
        process.wait(timeout=60)  # the child got the same Ctrl+C and stops its servers
        raise
    return status, "".join(lines), time.monotonic() - start


def main() -> int:
    args = sys.argv[1:] + shlex.split(os.environ.get("KEFU_BENCH_ARGS", ""))
    profile = "--profile" in args
    args = [a for a in args if a != "--profile"]
    started = time.time()
    summary = []

    status, _, seconds = run("bench_conversation.py", args)
    if status in (0, 1) and LATEST.exists() and LATEST.stat().st_mtime >= started:
        document = json.loads(LATEST.read_text())
        results = document["results"]
        for phase, label in (("think", "think time"), ("closed", "closed loop")):
            kefu, bare = results[phase]["kefu"], results[phase]["bare"]
            summary.append(f"conversation, {label}: kefu p50/p95/p99 {kefu['p50_ms']:.0f}/{kefu['p95_ms']:.0f}/"
                           f"{kefu['p99_ms']:.0f} ms {kefu['turns_per_s']:.1f} turns/s, errors {kefu['error_count']}"
                           f" | bare {bare['p50_ms']:.0f}/{bare['p95_ms']:.0f}/{bare['p99_ms']:.0f} ms "
                           f"{bare['turns_per_s']:.1f} turns/s")
        for check in document["targets"]:
            unit = check["unit"]
            value = f"{check['value']:.2f}" if unit == "x" else f"{check['value']:.0f}"
            summary.append(f"  {'PASS' if check['pass'] else 'FAIL'}  {check['target']}: {value} {unit}")
    else:
        summary.append(f"conversation benchmark did not finish (exit {status})")
    conversation_status = status

    status, output, _ = run("bench_emotion.py", [])
    emotion_lines = [line for line in output.splitlines() if line.startswith(("kefu.emotion", "target"))]
    summary += [f"emotion: {line}" for line in emotion_lines] or [f"emotion benchmark failed (exit {status})"]
    target_lines = [line for line in emotion_lines if line.startswith("target")]
    emotion_ok = status == 0 and bool(target_lines) and not any("NOT met" in line for line in target_lines)

    status, output, _ = run("bench_guard.py", [])
    guard_lines = [line for line in output.splitlines() if line.startswith(("guard check", "ratio guard"))]
    summary += [f"guard: {line}" for line in guard_lines] or [f"guard benchmark failed (exit {status})"]

    status, output, _ = run("bench_guard_sentence.py", [])
    sentence_lines = [line for line in output.splitlines() if line.startswith(("guard verdict", "ratio guard", "target"))]
    summary += [f"guard sentence: {line}" for line in sentence_lines] or [f"guard sentence benchmark failed (exit {status})"]

    # NLU on the real text of ../shared/realdev (or KEFU_REALDEV) when present, and the Rasa server's RSS.
    status, output, _ = run("bench_nlu.py", [])
    nlu_lines = [line for line in output.splitlines()
                 if line.startswith(("nlu real text", "rasa server RSS", "target rasa server"))]
    summary += [f"nlu: {line}" for line in nlu_lines] or [f"nlu benchmark failed (exit {status})"]

    profile_status = 0
    if profile:
        profile_status, _, _ = run("profile_turn.py", [a for a in args if a == "--reuse-bare"])
        summary.append(f"turn profile: {'done' if profile_status == 0 else f'failed (exit {profile_status})'}")

    print("\n===== summary (load average now " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + ")")
    print("\n".join(summary))
    if 2 in (conversation_status, profile_status):
        return 2
    return 0 if conversation_status == 0 and emotion_ok and profile_status == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(2)
