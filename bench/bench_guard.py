"""Benchmark of the guard (kefu.guard.check) on its corpus, tests/guard/good.yml and bad
examples of tests/guard/corpus.yml: milliseconds per message after a warm-up, next to the
jieba tokenisation of the same messages (the guard's own first step, so its floor)
measured in the same run, as a ratio. Timed twice: a text seen for the first time, and
a text said again (the bot's replies repeat; their matches are remembered).

Run: .venv/bin/python bench/bench_guard.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kefu.guard import check, classifier  # noqa: E402
from kefu.guard.engine import _nlp, _remembered_candidates  # noqa: E402

CORPUS = ROOT / "tests" / "guard"
CONTEXT = {"complaint_step": "probe", "previous_bot_texts": ["您好，请问有什么可以帮您？"]}


def texts() -> list:
    found = []
    for name in ("good.yml", "corpus.yml"):
        data = yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))
        for items in data.values():
            for item in items if isinstance(items, list) else []:
                text = item if isinstance(item, str) else item.get("text") if isinstance(item, dict) else None
                if isinstance(text, str):
                    found.append(text)
    return found


def ms_per_message(function, messages, rounds: int = 3, forget: bool = False) -> float:
    for message in messages[:20]:
        function(message)  # warm-up: rules loaded
    best = []
    for _ in range(rounds):
        if forget:
            _remembered_candidates.cache_clear()
            classifier.scores.cache_clear()
        start = time.perf_counter()
        for message in messages:
            function(message)
        best.append((time.perf_counter() - start) * 1000 / len(messages))
    return min(best)


def main() -> None:
    messages = texts()
    nlp = _nlp()
    guard_ms = ms_per_message(lambda text: check(text, CONTEXT), messages, forget=True)
    again_ms = ms_per_message(lambda text: check(text, CONTEXT), messages)
    tokenize_ms = ms_per_message(nlp.make_doc, messages)
    print(f"guard corpus: {len(messages)} messages, mean {statistics.mean(map(len, messages)):.0f} characters")
    print(f"guard check, new text    {guard_ms:6.3f} ms per message")
    print(f"guard check, said again  {again_ms:6.3f} ms per message")
    print(f"jieba tokenise           {tokenize_ms:6.3f} ms per message")
    print(f"ratio guard/tokenise: new text {guard_ms / tokenize_ms:.1f}x, said again {again_ms / tokenize_ms:.2f}x")


if __name__ == "__main__":
    main()
