"""Tests of kefu.emotion: data, classifier, Rasa component, CLI, trend and quality targets."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # lets plain `pytest` (not `python -m pytest`) import kefu
    sys.path.insert(0, str(ROOT))

from kefu.emotion import LABELS, NEGATIVE_LABELS, assess_trend, data_digest, load_default  # noqa: E402
from kefu.emotion.classifier import EmotionModel  # noqa: E402
from kefu.emotion.dataset import load_jsonl, stratified_split, write_jsonl  # noqa: E402
from kefu.emotion.signals import detect  # noqa: E402

TRAIN = ROOT / "data" / "emotion" / "train.jsonl"
TEST = ROOT / "data" / "emotion" / "test.jsonl"

TINY = {
    "angry": ["气死我了，三天还没到！！！", "垃圾服务，我要打12315", "你们可真行，退款拖一个月", "太过分了，骗子", "再不处理我就曝光你们"],
    "anxious": ["明天就要出发了，快递能到吗，好着急", "钱扣了订单没了，会不会没了啊", "孩子等着用药，急死了", "担心包裹丢了", "求求快点，赶时间"],
    "disappointed": ["本来很期待的，有点失望", "心凉了，以后不买了", "生日礼物坏了，好难过", "唉，挺可惜的", "白高兴一场，很失落"],
    "neutral": ["订单号是KF20261107", "好的", "嗯我看看", "请问退货地址是哪里", "我想查一下物流"],
    "satisfied": ["谢谢，解决得挺快", "非常满意👍", "服务很好，辛苦了", "退款收到了，感谢", "好评，下次还来"],
}


@pytest.fixture(scope="session")
def default_model() -> EmotionModel:
    """The default model, trained once from data/emotion/train.jsonl (cached in .kefu/)."""
    return load_default()


@pytest.fixture()
def tiny_data(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.jsonl"
    write_jsonl(path, [{"text": t, "label": label, "intensity": 0.5} for label, texts in TINY.items() for t in texts])
    return path


def assert_emotion_shape(emotion: dict) -> None:
    assert {"label", "intensity", "scores"} <= set(emotion)
    assert emotion["label"] in LABELS
    assert 0.0 <= emotion["intensity"] <= 1.0
    assert set(emotion["scores"]) == set(LABELS)
    assert sum(emotion["scores"].values()) == pytest.approx(1.0, abs=0.01)
    assert emotion["label"] == max(emotion["scores"], key=emotion["scores"].get)


# -- data ------------------------------------------------------------------------


def test_data_split_is_stratified_disjoint_and_large_enough():
    train, test = load_jsonl(TRAIN), load_jsonl(TEST)
    train_counts = Counter(ex["label"] for ex in train)
    test_counts = Counter(ex["label"] for ex in test)
    assert set(train_counts) == set(LABELS)
    for label in LABELS:
        assert train_counts[label] >= 300
        share = test_counts[label] / (train_counts[label] + test_counts[label])
        assert 0.18 <= share <= 0.22
    assert not {ex["text"] for ex in train} & {ex["text"] for ex in test}
    assert all(0.0 <= ex["intensity"] <= 1.0 for ex in train + test)


def test_split_is_deterministic_and_independent_of_order():
    examples = load_jsonl(TEST)
    first = stratified_split(examples)
    second = stratified_split(list(reversed(examples)))
    assert [ex["text"] for ex in first[1]] == [ex["text"] for ex in second[1]]


# -- signals ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["再不退款我就打12315", "我要找媒体曝光你们", "律师函等着吧", "我要投诉到消协"])
def test_threats_are_detected(text):
    assert detect(text).threat


def test_hotline_number_inside_an_order_id_is_no_threat():
    assert not detect("订单号KF12315678").threat


def test_sarcasm_intensifiers_and_punctuation_are_detected():
    found = detect("呵呵，你们可真是太好样的了！！！")
    assert found.sarcasm and found.intensifiers >= 1 and found.repeated_punct >= 1


def test_sarcastic_thanks_is_angry(default_model):
    assert default_model.predict("呵呵，真是谢谢你们全家了")["label"] == "angry"


def test_negated_praise_is_not_satisfied(default_model):
    assert default_model.predict("非常不满意！")["label"] != "satisfied"


def test_signals_raise_intensity(default_model):
    calm = default_model.predict("快递还没到，有点生气")
    furious = default_model.predict("快递还没到，太气人了！！！再不处理我就打12315投诉")
    assert calm["label"] == furious["label"] == "angry"
    assert furious["intensity"] > calm["intensity"]
    assert furious["intensity"] >= 0.8


# -- classifier --------------------------------------------------------------------


# Fewer of the installed packages' reviews and news sentences than the real model takes:
# the same code paths, a tenth of the training time.
FEW_REAL_TEXTS = {"reviews": 40, "news": 40, "valence_reviews": 80}


def test_training_is_deterministic(tiny_data):
    texts = ["快递还没到", "谢谢你们", "有点担心"]
    first = EmotionModel.train_from_file(tiny_data, **FEW_REAL_TEXTS).predict_many(texts)
    second = EmotionModel.train_from_file(tiny_data, **FEW_REAL_TEXTS).predict_many(texts)
    assert first == second


def test_model_round_trips_through_disk(tiny_data, tmp_path):
    model = EmotionModel.train_from_file(tiny_data, **FEW_REAL_TEXTS)
    model.to_disk(tmp_path / "model")
    loaded = EmotionModel.from_disk(tmp_path / "model")
    texts = ["气死了！！！", "谢谢", "KF20261107"]
    assert loaded.predict_many(texts) == model.predict_many(texts)


@pytest.mark.parametrize(
    "text", ["", "   \n\t", "😀😀😀", "Where is my package, please?", None, 12345, "！！！", "KF20261107"]
)
def test_odd_input_is_neutral_or_sensible_and_never_crashes(default_model, text):
    emotion = default_model.predict(text)
    assert_emotion_shape(emotion)


@pytest.mark.parametrize("text", ["", "   ", "hello world", "The quick brown fox"])
def test_text_without_evidence_is_neutral_with_low_confidence(default_model, text):
    emotion = default_model.predict(text)
    assert emotion["label"] == "neutral"
    assert max(emotion["scores"].values()) < 0.5
    assert emotion["intensity"] <= 0.1


def test_five_thousand_characters_are_classified(default_model):
    # how fast: bench/bench_emotion.py
    text = "我的快递一直没有更新物流信息，" * 340 + "你们太过分了！！！"
    assert len(text) >= 5000
    emotion = default_model.predict(text)
    assert_emotion_shape(emotion)
    assert emotion["label"] in NEGATIVE_LABELS
    assert "repeated_phrase" in emotion["signals"]


def test_emoji_anger_is_angry(default_model):
    assert default_model.predict("😡😡😡")["label"] == "angry"


def test_data_digest_changes_with_the_data(tiny_data):
    before = data_digest(tiny_data)
    with open(tiny_data, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "新的一条", "label": "neutral", "intensity": 0.1}, ensure_ascii=False) + "\n")
    assert data_digest(tiny_data) != before


# -- quality targets on the held-out set ---------------------------------------------


def test_quality_targets_on_held_out_data(default_model):
    from kefu.emotion.evaluate import evaluate

    result = evaluate(default_model, load_jsonl(TEST))
    assert result["macro_f1"] >= 0.85, result
    assert result["angry_vs_rest_f1"] >= 0.90, result


# -- Rasa component --------------------------------------------------------------------


@pytest.fixture()
def rasa_parts(tmp_path):
    pytest.importorskip("rasa")
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    storage_dir = tmp_path / "storage"
    storage_dir.mkdir()
    return storage_dir, LocalModelStorage(storage_dir), Resource("emotion_classifier"), ExecutionContext(GraphSchema({}), "test")


def test_component_trains_persists_and_loads_back(rasa_parts, tiny_data):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from kefu.emotion.component import EmotionClassifier

    storage_dir, storage, resource, context = rasa_parts
    config = {**EmotionClassifier.get_default_config(), "data_path": str(tiny_data)}
    component = EmotionClassifier.create(config, storage, resource, context)
    assert component.train(TrainingData()) == resource

    texts = ["气死我了，退款还没到！！！", "谢谢，很满意", "订单号KF20261107", "/affirm", ""]
    trained = component.process([Message.build(text=text) for text in texts])
    reopened = LocalModelStorage(storage_dir)  # a fresh storage object reading the same files
    loaded = EmotionClassifier.load(config, reopened, resource, context)
    again = loaded.process([Message.build(text=text) for text in texts])

    for first, second in zip(trained, again):
        assert first.get("emotion") == second.get("emotion")
        assert_emotion_shape(first.get("emotion"))
        assert "emotion" in first.as_dict(only_output_properties=True)  # reaches /model/parse
    assert trained[0].get("emotion")["label"] == "angry"
    assert trained[3].get("emotion")["label"] == "neutral"  # a button payload carries no feeling


def test_component_without_a_trained_model_still_answers_neutral(rasa_parts):
    from rasa.shared.nlu.training_data.message import Message

    from kefu.emotion.component import EmotionClassifier

    _, storage, resource, context = rasa_parts
    component = EmotionClassifier.load(EmotionClassifier.get_default_config(), storage, resource, context)
    [message] = component.process([Message.build(text="气死了")])
    assert message.get("emotion")["label"] == "neutral"


def test_component_fingerprint_follows_the_emotion_data(tiny_data):
    pytest.importorskip("rasa")
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    from kefu.emotion.component import EmotionClassifier

    config = {**EmotionClassifier.get_default_config(), "data_path": str(tiny_data)}
    before = calculate_fingerprint_key(EmotionClassifier, config, {})
    with open(tiny_data, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "好的呢", "label": "neutral", "intensity": 0.1}, ensure_ascii=False) + "\n")
    assert calculate_fingerprint_key(EmotionClassifier, config, {}) != before


# -- trend ---------------------------------------------------------------------------------


def test_anger_rising_over_two_turns_needs_a_human():
    result = assess_trend([("neutral", 0.1), ("angry", 0.4), ("angry", 0.7)])
    assert result.trend == "rising"
    assert result.needs_human and result.reason == "rising_anger"
    assert result.as_slots() == {"emotion_trend": "rising", "needs_human": True, "needs_human_reason": "rising_anger"}


def test_calming_down_does_not_need_a_human():
    result = assess_trend([("angry", 0.75), ("angry", 0.5), ("neutral", 0.1)])
    assert result.trend == "falling"
    assert not result.needs_human and result.reason is None


def test_one_rise_only_is_not_rising_anger():
    result = assess_trend([("angry", 0.6), ("angry", 0.5), ("angry", 0.7)])
    assert not result.needs_human


def test_threat_needs_a_human_even_when_calm():
    emotion = {"label": "angry", "intensity": 0.5, "scores": {}, "signals": ["threat"]}
    result = assess_trend([("neutral", 0.1), emotion])
    assert result.needs_human and result.reason == "threat"


def test_intense_negative_turn_needs_a_human():
    assert assess_trend([("anxious", 0.85)]).reason == "intense"
    assert not assess_trend([("satisfied", 0.95)]).needs_human


def test_steady_and_empty_history():
    assert assess_trend([("anxious", 0.5), ("anxious", 0.55)]).trend == "steady"
    empty = assess_trend([])
    assert empty.trend == "steady" and not empty.needs_human


def test_trend_from_real_predictions(default_model):
    messages = ["快递怎么还没到", "都三天了，有点火大", "太过分了！！！你们到底管不管，垃圾"]
    result = assess_trend(default_model.predict_many(messages))
    assert result.trend == "rising" and result.needs_human


# -- CLI --------------------------------------------------------------------------------------


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kefu.emotion", *args],
        input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=180,
    )


def test_cli_classifies_arguments(default_model):
    result = run_cli("你们可真行，三天了还没到！！！", "谢谢，解决得挺快👍")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["你们可真行，三天了还没到！！！", "谢谢，解决得挺快👍"]
    assert [line["emotion"]["label"] for line in lines] == ["angry", "satisfied"]


def test_cli_jsonl_reports_a_bad_line_and_processes_the_rest(default_model):
    stdin = '{"text": "气死我了！！！", "id": 1}\nnot json\n{"text": "好的"}\n{"no_text": 1}\n'
    result = run_cli("--jsonl", stdin=stdin)
    assert result.returncode != 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["text"] for record in records] == ["气死我了！！！", "好的"]
    assert records[0]["id"] == 1 and records[0]["emotion"]["label"] == "angry"
    errors = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [error["line"] for error in errors] == [2, 4]


def test_cli_eval_prints_metrics_and_writes_a_png(default_model, tmp_path):
    png = tmp_path / "confusion.png"
    result = run_cli("eval", str(TEST), "--png", str(png))
    assert result.returncode == 0, result.stderr
    assert "macro-F1" in result.stdout and "angry-vs-rest F1" in result.stdout
    assert "confusion" in result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
