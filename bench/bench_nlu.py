"""NLU on real text and the Rasa server's memory (issue 15).

1. When the folder of real text exists (``KEFU_REALDEV``, default ``../shared/realdev`` next to
   the repository), runs ``python -m kefu.nlu.evaluate --real DIR --png results/bench/nlu`` and
   prints its table; otherwise says that the folder is missing.
2. Starts kefu's Rasa server (with its action server), parses a few messages through
   ``/model/parse`` and prints the Rasa process's resident memory (target < 1.5 GB).

Exit status: 1 when the memory target is missed or a figure is below its floor, else 0.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
RSS_TARGET_MB = 1536
MESSAGES = ["你好", "耳机一直没到，都半个月了", "发票到现在都没开给我", "谢谢", "充电器插上就冒火花"]


def realdev_folder() -> Path:
    return Path(os.environ.get("KEFU_REALDEV", ROOT.parent / "shared" / "realdev"))


def run_evaluation() -> bool:
    folder = realdev_folder()
    if not folder.is_dir():
        print(f"nlu real text: folder {folder} not found, evaluation skipped (set KEFU_REALDEV)")
        return True
    out = ROOT / "results" / "bench" / "nlu"
    result = subprocess.run([sys.executable, "-m", "kefu.nlu.evaluate", "--real", str(folder), "--png", str(out)],
                            cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if "|" in line]
    for line in lines:
        print(f"nlu real text: {line}")
    if result.returncode != 0:
        print(f"nlu real text: evaluation failed (exit {result.returncode})\n{result.stderr[-2000:]}")
        return False
    return not any("NOT met" in line for line in lines)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_rss() -> bool:
    from bench_conversation import Stack

    with Stack() as stack:
        server, wait = stack.start_kefu()
        wait()
        for text in MESSAGES:
            request = urllib.request.Request(f"{server.url}/model/parse?token={server.token}",
                                             data=json.dumps({"text": text}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        rss = rss_mb(server.processes["rasa"].pid)
    ok = rss < RSS_TARGET_MB
    print(f"rasa server RSS: {rss:.0f} MB after {len(MESSAGES)} parses")
    print(f"target rasa server RSS < {RSS_TARGET_MB} MB: {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    figures_ok = run_evaluation()
    memory_ok = measure_rss()
    return 0 if figures_ok and memory_ok else 1


if __name__ == "__main__":
    sys.exit(main())
