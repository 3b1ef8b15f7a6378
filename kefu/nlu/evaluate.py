"""Measures kefu's understanding on real customers' text, like a benchmark (issue 15).

    python -m kefu.nlu.evaluate --real ../shared/realdev [--png DIR] [--model models/kefu.tar.gz]

prints, for the folder's files (see its README), kefu against a simple baseline and the
floor the project holds itself to:

* complaint detection F1 on shop and food-delivery reviews and on hotel reviews
  (a negative review is a complaint; kefu says "complaint" when the intent is ``complain*``;
  the baseline is snownlp's polarity below 0.5);
* the share of helpdesk opening messages that state a problem (first customer turn with
  nugget ``CNUG0``) which kefu reads as a complaint;
* the three emotion rows, from ``kefu.emotion.evaluate.real_figures`` when it exists;
* how many of the real complaints fell back to ``nlu_fallback``;
* on our own held-out split (data/heldout/, never trained on): the intent macro-F1 and
  the share of the non-complaint messages (greetings, thanks, progress questions …)
  read as complaints.

The real folder is only read: nothing of it is written anywhere but the PNGs' counts.
The figures are computed by ``real_figures`` and ``own_figures`` from any ``parse``
function (text -> Rasa parse result), so tests can run them on a fixture without a model.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from kefu.nlu.complaint_gate import is_complaint

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "data" / "heldout" / "intents.yml"
FALLBACK = "nlu_fallback"
# Intents that are plainly not complaints: the rate of these read as complaints is reported.
NON_COMPLAINT_INTENTS = ("greet", "goodbye", "thank", "praise", "affirm", "deny", "ask_progress", "rate")

Parse = Callable[[str], dict]

FLOORS = {
    "reviews_f1": 0.90, "hotel_f1": 0.90, "openings_recall": 0.90,
    "weibo_macro_f1": 0.55, "helpdesk_macro_f1": 0.55, "review_polarity_acc": 0.85,
    "complaint_fallback_rate": 0.05, "non_complaint_rate": 0.03, "own_macro_f1": 0.90,
}


# -- reading the files ------------------------------------------------------------

def _jsonl(path: Path) -> List[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def reviews(path: Path) -> List[Tuple[str, bool]]:
    """(text, is a complaint) for each review: negative polarity is a complaint."""
    return [(row["text"], row["polarity"] == "neg") for row in _jsonl(path)]


def helpdesk_openings(path: Path) -> List[str]:
    """Each dialogue's first customer turn that states the problem (nugget CNUG0)."""
    openings = []
    for dialogue in _jsonl(path):
        for turn in dialogue.get("turns", []):
            if turn.get("role") == "customer" and turn.get("nugget_majority") == "CNUG0":
                openings.append(turn["text"])
                break
    return openings


def heldout(path: Path = HELDOUT) -> List[Tuple[str, str]]:
    """(text, intent) pairs of our own held-out split."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(text, intent) for intent, texts in (document.get("heldout") or {}).items() for text in texts]


# -- metrics ----------------------------------------------------------------------

def binary_counts(gold: Sequence[bool], predicted: Sequence[bool]) -> List[List[int]]:
    """2×2 confusion, rows gold (not, complaint), columns predicted."""
    matrix = [[0, 0], [0, 0]]
    for g, p in zip(gold, predicted):
        matrix[int(g)][int(p)] += 1
    return matrix


def f1_of(matrix: List[List[int]]) -> float:
    tp, fp, fn = matrix[1][1], matrix[0][1], matrix[1][0]
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the gold labels (a label only predicted, e.g. nlu_fallback, is not averaged)."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def intent_of(result: dict) -> str:
    return ((result or {}).get("intent") or {}).get("name") or FALLBACK


def snownlp_says_complaint(text: str) -> bool:
    from snownlp import SnowNLP

    return SnowNLP(text).sentiments < 0.5


def real_figures(folder: Path, parse: Parse, baseline: Callable[[str], bool] = snownlp_says_complaint) -> Dict:
    """kefu's and the baseline's complaint figures on the real folder's files."""
    figures: Dict = {"matrices": {}}
    fallbacks = complaints = 0
    for key, name in (("reviews", "reviews.jsonl"), ("hotel", "hotel_reviews.jsonl")):
        rows = reviews(folder / name)
        gold = [g for _, g in rows]
        intents = [intent_of(parse(text)) for text, _ in rows]
        matrix = binary_counts(gold, [is_complaint(i) for i in intents])
        figures[f"{key}_f1"] = f1_of(matrix)
        figures[f"{key}_baseline_f1"] = f1_of(binary_counts(gold, [baseline(t) for t, _ in rows]))
        figures["matrices"][key] = matrix
        complaints += sum(gold)
        fallbacks += sum(g and i == FALLBACK for g, i in zip(gold, intents))
    openings = helpdesk_openings(folder / "helpdesk_dialogues.jsonl")
    intents = [intent_of(parse(text)) for text in openings]
    figures["openings_recall"] = sum(map(is_complaint, intents)) / max(len(openings), 1)
    figures["openings_baseline_recall"] = sum(map(baseline, openings)) / max(len(openings), 1)
    figures["openings_n"] = len(openings)
    complaints += len(openings)
    fallbacks += sum(i == FALLBACK for i in intents)
    figures["complaint_fallback_rate"] = fallbacks / max(complaints, 1)
    return figures


def own_figures(examples: Iterable[Tuple[str, str]], parse: Parse) -> Dict:
    """Macro-F1 on our own held-out split and the non-complaints read as complaints."""
    examples = list(examples)
    gold = [intent for _, intent in examples]
    predicted = [intent_of(parse(text)) for text, _ in examples]
    plain = [(g, p) for g, p in zip(gold, predicted) if g in NON_COMPLAINT_INTENTS]
    labels = sorted(set(gold) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        matrix[index[g]][index[p]] += 1
    return {
        "own_macro_f1": macro_f1(gold, predicted),
        "own_n": len(examples),
        "non_complaint_rate": sum(is_complaint(p) for _, p in plain) / max(len(plain), 1),
        "non_complaint_n": len(plain),
        "own_fallback_rate": sum(p == FALLBACK for p in predicted) / max(len(predicted), 1),
        "own_matrix": {"labels": labels, "matrix": matrix},
    }


def emotion_figures(folder: Path) -> Optional[Dict]:
    try:
        from kefu.emotion.evaluate import real_figures as emotion_real_figures
    except (ImportError, AttributeError):
        return None
    return emotion_real_figures(folder)


# -- report -----------------------------------------------------------------------

def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def table(figures: Dict, emotion: Optional[Dict]) -> List[str]:
    """The issue's table: figure | kefu | baseline | floor (met or not)."""
    rows = [
        ("complaint F1, shop and food-delivery reviews", f"{figures['reviews_f1']:.3f}",
         f"snownlp {figures['reviews_baseline_f1']:.3f}", figures["reviews_f1"] >= FLOORS["reviews_f1"], "≥ 0.90"),
        ("complaint F1, hotel reviews", f"{figures['hotel_f1']:.3f}",
         f"snownlp {figures['hotel_baseline_f1']:.3f}", figures["hotel_f1"] >= FLOORS["hotel_f1"], "≥ 0.90"),
        (f"helpdesk openings stating a problem read as complaints (n={figures['openings_n']})",
         _pct(figures["openings_recall"]), f"snownlp {_pct(figures['openings_baseline_recall'])}",
         figures["openings_recall"] >= FLOORS["openings_recall"], "≥ 90%"),
    ]
    if emotion is None:
        for label in ("emotion macro-F1, Weibo posts", "emotion macro-F1, helpdesk customers",
                      "emotion polarity accuracy on reviews"):
            rows.append((label, "n/a (emotion module missing)", "", None, ""))
    else:
        rows += [
            ("emotion macro-F1, Weibo posts", f"{emotion['weibo_macro_f1']:.3f}",
             f"lexicon {emotion['weibo_lexicon_macro_f1']:.3f}",
             emotion["weibo_macro_f1"] >= FLOORS["weibo_macro_f1"], "≥ 0.55"),
            ("emotion macro-F1, helpdesk customers", f"{emotion['helpdesk_macro_f1']:.3f}",
             f"lexicon {emotion['helpdesk_lexicon_macro_f1']:.3f}",
             emotion["helpdesk_macro_f1"] >= FLOORS["helpdesk_macro_f1"], "≥ 0.55"),
            ("emotion polarity accuracy on reviews", f"{emotion['review_polarity_acc']:.3f}",
             f"snownlp {emotion['review_snownlp_acc']:.3f}",
             emotion["review_polarity_acc"] >= FLOORS["review_polarity_acc"], "≥ 0.85"),
        ]
    rows.append(("real complaints sent to nlu_fallback", _pct(figures["complaint_fallback_rate"]), "",
                 figures["complaint_fallback_rate"] <= FLOORS["complaint_fallback_rate"], "≤ 5%"))
    if "own_macro_f1" in figures:
        rows += [
            (f"own non-complaint messages read as complaints (n={figures['non_complaint_n']})",
             _pct(figures["non_complaint_rate"]), "",
             figures["non_complaint_rate"] <= FLOORS["non_complaint_rate"], "≤ 3%"),
            (f"own held-out split, intent macro-F1 (n={figures['own_n']})", f"{figures['own_macro_f1']:.3f}", "",
             figures["own_macro_f1"] >= FLOORS["own_macro_f1"], "≥ 0.90"),
        ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}} | {'kefu':>8} | {'baseline':<16} | floor"]
    for label, value, base, met, floor in rows:
        mark = "" if met is None else ("met" if met else "NOT met")
        lines.append(f"{label:<{width}} | {value:>8} | {base:<16} | {floor} {mark}".rstrip())
    return lines


def save_pngs(figures: Dict, directory: Path) -> List[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    drawn = [(f"complaint_{key}.png", f"complaint detection, {key}", matrix, ["not", "complaint"])
             for key, matrix in figures["matrices"].items()]
    if "own_matrix" in figures:
        own = figures["own_matrix"]
        drawn.append(("intents_heldout.png", "own held-out intents", own["matrix"], own["labels"]))
    paths = []
    for name, title, matrix, labels in drawn:
        size = max(4, 0.5 * len(labels) + 2)
        figure, axes = plt.subplots(figsize=(size + 1, size))
        axes.imshow(matrix, cmap="Blues")
        axes.set_xticks(range(len(labels)), labels=labels, rotation=45, ha="right")
        axes.set_yticks(range(len(labels)), labels=labels)
        axes.set_xlabel("predicted")
        axes.set_ylabel("gold")
        axes.set_title(title)
        peak = max(max(row) for row in matrix) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                axes.text(j, i, str(count), ha="center", va="center", fontsize=8,
                          color="white" if count > peak / 2 else "black")
        figure.tight_layout()
        path = directory / name
        figure.savefig(path, dpi=100)
        plt.close(figure)
        paths.append(path)
    return paths


def rasa_parser(model: Path) -> Parse:
    """text -> parse result of the trained Rasa model (NLU only, in process)."""
    import asyncio

    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    return lambda text: loop.run_until_complete(agent.parse_message(text))


def summary(folder: Path, model: Path, png: Optional[Path] = None) -> Tuple[List[str], Dict]:
    parse = rasa_parser(model)
    figures = real_figures(folder, parse)
    if HELDOUT.exists():
        figures.update(own_figures(heldout(), parse))
    lines = table(figures, emotion_figures(folder))
    if png:
        lines += [f"wrote {p}" for p in save_pngs(figures, png)]
    return lines, figures


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="folder of real text (e.g. ../shared/realdev)")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "kefu.tar.gz")
    parser.add_argument("--png", type=Path, help="write the confusion matrices as PNGs here")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.real.is_dir():
        print(f"no folder {args.real}", file=sys.stderr)
        return 2
    lines, figures = summary(args.real, args.model, args.png)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
