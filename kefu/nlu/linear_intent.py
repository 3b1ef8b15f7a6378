"""Linear intent classifier on the pipeline's sparse features, blended with DIET.

config.yml (after DIETClassifier, before FallbackClassifier):

    pipeline:
      - name: kefu.nlu.linear_intent.LinearIntentClassifier
        C: 30              # inverse L2 strength of the logistic regression
        diet_weight: 0.5   # share of the intent ranking already on the message (DIET)
        ranking_length: 10

It reads the sentence-level sparse features of the text (RegexFeaturizer and the
CountVectorsFeaturizers), weights each featurizer's counts by tf-idf and
L2-normalises them featurizer by featurizer, and trains a multinomial logistic
regression with balanced class weights. At parse time its probabilities are
blended with the ranking DIET set (``diet_weight`` for DIET, the rest for the
regression; intents missing from DIET's truncated ranking count as 0) and
``intent`` / ``intent_ranking`` are replaced by the blend, so FallbackClassifier
sees the blended confidence. DIET keeps extracting entities unchanged.

The model is stored as plain arrays (``numpy.savez``, no pickle).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
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

MODEL_FILE = "linear_intent.npz"
META_FILE = "linear_intent.json"


def _sentence_blocks(message: Message) -> Dict[Text, scipy.sparse.csr_matrix]:
    """The sparse sentence features of the text, one 1×d matrix per featurizer."""
    blocks: Dict[Text, scipy.sparse.csr_matrix] = {}
    for f in message.features:
        if f.attribute != TEXT or f.type != FEATURE_TYPE_SENTENCE or not f.is_sparse():
            continue
        origin = f.origin if isinstance(f.origin, str) else "+".join(f.origin)
        blocks[origin] = scipy.sparse.csr_matrix(f.features)
    return blocks


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Tf-idf logistic regression over the sparse features, blended with DIET."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 30.0, "max_iter": 300, "diet_weight": 0.5, "ranking_length": 10, "random_state": 42}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        origins: Optional[List[Text]] = None,
        dims: Optional[List[int]] = None,
        idf: Optional[List[np.ndarray]] = None,
        coef: Optional[np.ndarray] = None,
        intercept: Optional[np.ndarray] = None,
        classes: Optional[List[Text]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.origins = origins or []
        self.dims = dims or []
        self.idf = idf or []
        self.coef = coef
        self.intercept = intercept
        self.classes = classes or []

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    # -- features -----------------------------------------------------------------

    def _counts(self, messages: List[Message]) -> List[scipy.sparse.csr_matrix]:
        """One n×d count matrix per featurizer (in self.origins order)."""
        per_message = [_sentence_blocks(m) for m in messages]
        mats = []
        for origin, dim in zip(self.origins, self.dims):
            rows = []
            for blocks in per_message:
                b = blocks.get(origin)
                rows.append(b if b is not None and b.shape[1] == dim else scipy.sparse.csr_matrix((1, dim)))
            mats.append(scipy.sparse.vstack(rows).tocsr())
        return mats

    def _weighted(self, counts: List[scipy.sparse.csr_matrix]) -> scipy.sparse.csr_matrix:
        blocks = [l2_rows(scale_columns(c, idf)) for c, idf in zip(counts, self.idf)]
        return scipy.sparse.hstack(blocks).tocsr()

    # -- training -----------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("No intent examples; LinearIntentClassifier is not trained.")
            return self._resource
        dims: Dict[Text, int] = {}
        for e in examples:
            for origin, b in _sentence_blocks(e).items():
                dims.setdefault(origin, b.shape[1])
        self.origins = sorted(dims)
        self.dims = [dims[o] for o in self.origins]
        counts = self._counts(examples)
        n = len(examples)
        self.idf = []
        for c in counts:
            df = np.asarray((c > 0).sum(axis=0)).ravel()
            self.idf.append(np.log((1.0 + n) / (1.0 + df)) + 1.0)
        X = self._weighted(counts)
        y = [e.get(INTENT) for e in examples]
        clf = LogisticRegression(
            C=float(self._config["C"]),
            max_iter=int(self._config["max_iter"]),
            class_weight="balanced",
            random_state=int(self._config["random_state"]),
        )
        clf.fit(X, y)
        self.classes = [str(c) for c in clf.classes_]
        self.coef = np.asarray(clf.coef_, dtype=np.float64)
        self.intercept = np.asarray(clf.intercept_, dtype=np.float64)
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self.coef is None:
            return
        with self._model_storage.write_to(self._resource) as model_dir:
            arrays = {"coef": self.coef, "intercept": self.intercept}
            arrays.update({f"idf_{i}": idf for i, idf in enumerate(self.idf)})
            np.savez(model_dir / MODEL_FILE, **arrays)
            meta = {"origins": self.origins, "dims": self.dims, "classes": self.classes}
            (model_dir / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
                with np.load(model_dir / MODEL_FILE, allow_pickle=False) as z:
                    coef, intercept = z["coef"], z["intercept"]
                    idf = [z[f"idf_{i}"] for i in range(len(meta["origins"]))]
        except (ValueError, OSError, KeyError):
            logger.warning("No trained LinearIntentClassifier in '%s'; DIET's intents are kept.", resource.name)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, meta["origins"], meta["dims"], idf, coef, intercept, meta["classes"])

    # -- inference ----------------------------------------------------------------

    def predict_proba(self, messages: List[Message]) -> np.ndarray:
        scores = np.array([self._scores(message) for message in messages])
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return p / p.sum(axis=1, keepdims=True)

    def _scores(self, message: Message) -> np.ndarray:
        """The regression's scores for one message: the same features as in training, but
        computed on the few non-zero counts only (building sparse matrices for one short
        message cost ~20 ms, the whole rest of NLU ~10 ms)."""
        blocks = _sentence_blocks(message)
        scores = self.intercept.copy()
        offset = 0
        for origin, dim, idf in zip(self.origins, self.dims, self.idf):
            block = blocks.get(origin)
            if block is not None and block.shape[1] == dim and block.nnz:
                columns = block.indices
                values = block.data * idf[columns]
                norm = np.sqrt(values @ values)
                if norm:
                    scores += self.coef[:, offset + columns] @ (values / norm)
            offset += dim
        return scores

    def process(self, messages: List[Message]) -> List[Message]:
        if self.coef is None or not messages:
            return messages
        w = float(self._config["diet_weight"])
        probs = self.predict_proba(messages)
        for message, p in zip(messages, probs):
            blended = {name: (1.0 - w) * float(q) for name, q in zip(self.classes, p)}
            if w > 0:
                for r in message.get(INTENT_RANKING_KEY) or []:
                    name = r.get(INTENT_NAME_KEY)
                    blended[name] = blended.get(name, 0.0) + w * float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            ranking = sorted(
                ({INTENT_NAME_KEY: k, PREDICTED_CONFIDENCE_KEY: v} for k, v in blended.items()),
                key=lambda r: -r[PREDICTED_CONFIDENCE_KEY],
            )
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            n = int(self._config["ranking_length"])
            message.set(INTENT_RANKING_KEY, ranking[:n] if n > 0 else ranking, add_to_output=True)
        return messages
