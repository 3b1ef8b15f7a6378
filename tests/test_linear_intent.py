"""Tests of kefu.nlu.linear_intent.LinearIntentClassifier (no DIET, no server: seconds)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import scipy.sparse
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from kefu.nlu.linear_intent import LinearIntentClassifier

ROOT = Path(__file__).resolve().parents[1]
VOCAB = ["坏", "了", "谢", "谢谢", "快递", "慢"]


def featurize(text: str, intent: str | None = None) -> Message:
    """A message with two sparse sentence blocks, as two CountVectorsFeaturizers would give."""
    message = Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
    counts = scipy.sparse.coo_matrix([[text.count(w) for w in VOCAB]], dtype=float)
    chars = scipy.sparse.coo_matrix([[float(len(text) > 3)]])
    message.features.append(Features(counts, FEATURE_TYPE_SENTENCE, TEXT, "cv_word"))
    message.features.append(Features(chars, FEATURE_TYPE_SENTENCE, TEXT, "cv_char"))
    return message


EXAMPLES = [("东西坏了", "complain_quality"), ("又坏了", "complain_quality"), ("坏了坏了", "complain_quality"),
            ("谢谢", "thank"), ("谢谢你", "thank"), ("多谢谢", "thank"),
            ("快递太慢", "complain_delivery"), ("快递好慢", "complain_delivery"), ("慢死了快递", "complain_delivery")]


@pytest.fixture
def trained(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intent")
    context = ExecutionContext(GraphSchema({}), "test")
    component = LinearIntentClassifier.create({"diet_weight": 0.0}, storage, resource, context)
    component.train(TrainingData([featurize(t, i) for t, i in EXAMPLES]))
    return storage, resource, context


def test_trained_model_round_trips_and_ranks_every_intent(trained):
    storage, resource, context = trained
    loaded = LinearIntentClassifier.load({"diet_weight": 0.0}, storage, resource, context)
    [message] = loaded.process([featurize("坏了")])
    assert message.get(INTENT)["name"] == "complain_quality"
    ranking = message.get("intent_ranking")
    assert {r["name"] for r in ranking} == {"complain_quality", "thank", "complain_delivery"}
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])
    # stored as arrays and JSON only: loading needs no pickle
    files = {p.suffix for p in Path(storage._storage_path / resource.name).iterdir()}
    assert files == {".npz", ".json"}


def test_blend_with_the_ranking_already_on_the_message(trained):
    storage, resource, context = trained
    blend = LinearIntentClassifier.load({"diet_weight": 0.9}, storage, resource, context)
    message = featurize("坏了")
    message.set("intent_ranking", [{"name": "thank", "confidence": 1.0}])
    blend.process([message])
    assert message.get(INTENT)["name"] == "thank"  # 0.9 of DIET's certainty outweighs the rest
    assert sum(r["confidence"] for r in message.get("intent_ranking")) == pytest.approx(1.0)


def test_message_without_features_gets_a_prediction(trained):
    storage, resource, context = trained
    loaded = LinearIntentClassifier.load({}, storage, resource, context)
    [message] = loaded.process([Message(data={TEXT: ""})])
    assert message.get(INTENT)["name"] in {i for _, i in EXAMPLES}


def test_untrained_component_leaves_messages_alone(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = LinearIntentClassifier.load({}, storage, Resource("missing"), context)
    message = featurize("坏了")
    message.set(INTENT, {"name": "greet", "confidence": 1.0})
    loaded.process([message])
    assert message.get(INTENT)["name"] == "greet"


def test_cue_regexes_compile_and_are_no_entities():
    data = yaml.safe_load((ROOT / "data" / "nlu" / "cues.yml").read_text(encoding="utf-8"))
    cues = [item for item in data["nlu"] if "regex" in item]
    assert cues and all(item["regex"].startswith("cue_") for item in cues)
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    entities = {e if isinstance(e, str) else next(iter(e)) for e in domain.get("entities", [])}
    for item in cues:
        assert item["regex"] not in entities
        pattern = re.compile(item["examples"].strip().lstrip("- "))
        assert pattern.search("东西坏了") or pattern.search("我要投诉")
        assert not pattern.search("你好")


def test_one_message_is_scored_on_the_features_it_was_trained_on(trained):
    import numpy as np

    storage, resource, context = trained
    loaded = LinearIntentClassifier.load({}, storage, resource, context)
    messages = [featurize(text) for text in ("坏了坏了谢谢", "快递", "慢慢慢", "谢谢快递")]
    as_in_training = np.asarray(loaded._weighted(loaded._counts(messages)) @ loaded.coef.T + loaded.intercept)
    assert np.allclose([loaded._scores(m) for m in messages], as_in_training)
