"""`python -m kefu.guard eval FILE`: how well the guard does on labelled sentences.

Each line of FILE is {"text": …, "expect": behaviour id or null, "context"?: {…}}.
A violating sentence counts as caught when its expected behaviour is found; a compliant
one (expect null) is a false positive when anything is found. Per behaviour, precision is
the share of that behaviour's findings that were expected on that sentence.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

from kefu.guard.engine import BEHAVIOURS, check


@dataclass
class Scores:
    tp: int = 0
    fn: int = 0
    fp: int = 0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0


@dataclass
class Evaluation:
    by_behaviour: Dict[str, Scores] = field(default_factory=lambda: {b: Scores() for b in BEHAVIOURS})
    compliant: int = 0
    flagged_compliant: int = 0
    misses: List[Dict[str, Any]] = field(default_factory=list)
    false_positives: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        tp = sum(s.tp for s in self.by_behaviour.values())
        total = tp + sum(s.fn for s in self.by_behaviour.values())
        return tp / total if total else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.flagged_compliant / self.compliant if self.compliant else 0.0

    def to_dict(self) -> Dict[str, Any]:
        return {
            "behaviours": {b: {"tp": s.tp, "fn": s.fn, "fp": s.fp, "precision": round(s.precision, 3),
                               "recall": round(s.recall, 3)} for b, s in self.by_behaviour.items()},
            "recall": round(self.recall, 3),
            "false_positive_rate": round(self.false_positive_rate, 3),
            "compliant": self.compliant,
            "flagged_compliant": self.flagged_compliant,
        }


def load_labelled(path: Path) -> List[Dict[str, Any]]:
    """The labelled lines; a line that is not {"text", "expect"} stops with a clear error."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ValueError(f"{path}:{number}: not JSON ({error})") from error
        expect = record.get("expect") if isinstance(record, dict) else None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) \
                or (expect is not None and expect not in BEHAVIOURS):
            raise ValueError(f'{path}:{number}: expected {{"text": str, "expect": behaviour id or null}}')
        records.append(record)
    return records


def evaluate(records: Iterable[Dict[str, Any]]) -> Evaluation:
    result = Evaluation()
    for record in records:
        violations = check(record["text"], record.get("context"))
        found: Set[str] = {v.id for v in violations}
        expect: Optional[str] = record.get("expect")
        summary = {"text": record["text"], "expect": expect, "found": sorted(found),
                   "violations": [v.to_dict() for v in violations]}
        if expect is None:
            result.compliant += 1
            if found:
                result.flagged_compliant += 1
                result.false_positives.append(summary)
        else:
            scores = result.by_behaviour[expect]
            if expect in found:
                scores.tp += 1
            else:
                scores.fn += 1
                result.misses.append(summary)
        for other in found - {expect}:
            result.by_behaviour[other].fp += 1
    return result


def format_report(result: Evaluation, details: bool = False) -> str:
    lines = [f"{'behaviour':<18}{'precision':>10}{'recall':>8}{'tp':>5}{'fn':>5}{'fp':>5}"]
    for behaviour, s in result.by_behaviour.items():
        lines.append(f"{behaviour:<18}{s.precision:>10.2f}{s.recall:>8.2f}{s.tp:>5}{s.fn:>5}{s.fp:>5}")
    lines.append(f"overall recall: {result.recall:.3f}")
    lines.append(f"false positives on compliant sentences: {result.flagged_compliant}/{result.compliant}"
                 f" = {result.false_positive_rate:.1%}")
    if details:
        for miss in result.misses:
            lines.append(f"MISS {miss['expect']} (found {miss['found']}): {miss['text']}")
        for fp in result.false_positives:
            lines.append(f"FP {fp['found']}: {fp['text']}")
    return "\n".join(lines)
