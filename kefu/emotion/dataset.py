"""Reading, writing and splitting the emotion data (JSON lines).

Each line is ``{"text": ..., "label": ..., "intensity": 0.0-1.0}``.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from kefu.emotion.labels import LABELS

Example = Dict[str, object]


def load_jsonl(path: str | Path) -> List[Example]:
    """Loads labelled examples; fails loudly on a bad line (training data must be clean)."""
    examples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            example = json.loads(line)
            if example.get("label") not in LABELS or not isinstance(example.get("text"), str):
                raise ValueError(f"{path}:{number}: need a text and a label in {LABELS}")
            examples.append(example)
    return examples


def write_jsonl(path: str | Path, examples: Iterable[Example]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False) + "\n")


def _stable_rank(text: str) -> str:
    # A hash of the text, not the file order, decides the split: adding or
    # reordering examples never moves the others between train and test.
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def stratified_split(
    examples: Iterable[Example], test_every: int = 5
) -> Tuple[List[Example], List[Example]]:
    """Deterministic split: per label, every ``test_every``-th example by hash goes to test."""
    by_label: Dict[str, List[Example]] = defaultdict(list)
    for example in examples:
        by_label[str(example["label"])].append(example)
    train, test = [], []
    for label in LABELS:
        ranked = sorted(by_label[label], key=lambda ex: _stable_rank(str(ex["text"])))
        for position, example in enumerate(ranked):
            (test if position % test_every == 0 else train).append(example)
    return train, test
