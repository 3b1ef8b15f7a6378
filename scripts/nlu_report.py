#!/usr/bin/env python3
"""Summarise a `rasa test nlu` run for kefu.

Reads the results directory written by `rasa test nlu --out DIR` (the files
`intent_report.json` and `intent_errors.json`) and prints:

* intent macro-F1 over the intents present in the test data (Rasa's own
  "macro avg" is printed too; it also averages labels that were only
  predicted, e.g. `nlu_fallback`, with F1 = 0),
* complaint-versus-not accuracy: an example counts as correct when the
  predicted intent is a complaint (`complain_*`) exactly when the true intent
  is one. A prediction of `nlu_fallback` counts as "not a complaint";
* intents whose F1 is below a threshold,
* the most frequent confusions, with example texts.

Usage:
    python scripts/nlu_report.py [RESULTS_DIR] [--min-f1 0.9] [--top 10]
                                 [--require-macro-f1 X] [--require-cvn X]

With --require-* the exit status is 1 when a target is missed.
Only the standard library is used.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

NON_LABEL_KEYS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def is_complaint(intent: str | None) -> bool:
    return bool(intent) and intent.startswith("complain")


def load(results: Path) -> tuple[dict, list]:
    report_path = results / "intent_report.json"
    if not report_path.exists():
        sys.exit(f"no {report_path}; run `rasa test nlu --out {results}` first")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    errors_path = results / "intent_errors.json"
    errors = (
        json.loads(errors_path.read_text(encoding="utf-8"))
        if errors_path.exists()
        else []
    )
    return report, errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="?", default="/tmp/nlu_results")
    ap.add_argument("--min-f1", type=float, default=0.9)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--require-macro-f1", type=float, default=None)
    ap.add_argument("--require-cvn", type=float, default=None)
    args = ap.parse_args(argv)

    report, errors = load(Path(args.results))
    labels = {
        k: v
        for k, v in report.items()
        if k not in NON_LABEL_KEYS and isinstance(v, dict) and "f1-score" in v
    }
    present = {k: v for k, v in labels.items() if v.get("support", 0) > 0}
    total = sum(int(v["support"]) for v in present.values())
    macro_f1 = sum(v["f1-score"] for v in present.values()) / max(len(present), 1)
    accuracy = report.get("accuracy")

    cvn_errors = [
        e
        for e in errors
        if is_complaint(e.get("intent"))
        != is_complaint((e.get("intent_prediction") or {}).get("name"))
    ]
    cvn_acc = 1 - len(cvn_errors) / total if total else 0.0
    n_complaints = sum(
        int(v["support"]) for k, v in present.items() if is_complaint(k)
    )

    print(f"test examples          : {total} ({n_complaints} complaints)")
    print(f"intent accuracy        : {accuracy:.4f}" if accuracy is not None else "")
    print(f"intent macro-F1        : {macro_f1:.4f}  (over {len(present)} intents)")
    rasa_macro = (report.get("macro avg") or {}).get("f1-score")
    if rasa_macro is not None:
        print(f"rasa 'macro avg' F1    : {rasa_macro:.4f}  (includes predicted-only labels)")
    print(
        f"complaint-vs-not acc.  : {cvn_acc:.4f}  "
        f"({len(cvn_errors)} of {total} on the wrong side)"
    )
    fallback = sum(
        1
        for e in errors
        if (e.get("intent_prediction") or {}).get("name") == "nlu_fallback"
    )
    print(f"predicted nlu_fallback : {fallback}")

    print(f"\nper-intent F1 (below {args.min_f1} marked '<'):")
    for name, v in sorted(present.items(), key=lambda kv: kv[1]["f1-score"]):
        mark = "<" if v["f1-score"] < args.min_f1 else " "
        print(
            f" {mark} {name:22s} f1={v['f1-score']:.3f} "
            f"p={v['precision']:.3f} r={v['recall']:.3f} n={int(v['support'])}"
        )

    pairs = collections.Counter(
        (e.get("intent"), (e.get("intent_prediction") or {}).get("name"))
        for e in errors
    )
    examples: dict = collections.defaultdict(list)
    for e in errors:
        key = (e.get("intent"), (e.get("intent_prediction") or {}).get("name"))
        examples[key].append(e)
    print(f"\nworst confusions (true -> predicted), top {args.top}:")
    for (true, pred), n in pairs.most_common(args.top):
        side = "  [crosses complaint line]" if is_complaint(true) != is_complaint(pred) else ""
        print(f"  {n:3d}  {true} -> {pred}{side}")
        for e in examples[(true, pred)][:3]:
            conf = (e.get("intent_prediction") or {}).get("confidence")
            conf_s = f"{conf:.2f}" if isinstance(conf, (int, float)) else "?"
            print(f"         ({conf_s}) {e.get('text')}")

    status = 0
    if args.require_macro_f1 is not None and macro_f1 < args.require_macro_f1:
        print(f"\nFAIL: macro-F1 {macro_f1:.4f} < {args.require_macro_f1}")
        status = 1
    if args.require_cvn is not None and cvn_acc < args.require_cvn:
        print(f"\nFAIL: complaint-vs-not {cvn_acc:.4f} < {args.require_cvn}")
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
