"""Evaluation of an emotion model on a labelled JSON-lines file."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from kefu.emotion.labels import LABELS


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
