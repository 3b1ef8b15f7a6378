"""The guard's trained classifier: a spaCy bag-of-words text categorizer per sentence.

The rules find what a phrase or a pattern can say; agents say the same thing in many
more ways ("会不会是家里人收了" doubts as much as "您确定吗"). The classifier is trained
from kefu/guard/training/<behaviour>.yml (violations, and near-miss compliant sentences
on the same topic) with the emotion model's recipe: jieba words plus characters as
features (kefu.emotion.classifier.feature_doc), cached in .kefu/guard_model/ under a
digest of the data and this file, retrained on first use when either changes.

    from kefu.guard.classifier import scores
    scores("会不会是您家里人帮您签收了？")   # {"doubt": 0.83}, or {} when it reads as compliant
"""
from __future__ import annotations

import hashlib
import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

# The emotion model's recipe: exclusive classes over a bag of words and bigrams.
from kefu.emotion.classifier import TEXTCAT_CONFIG
from kefu.guard.engine import BEHAVIOURS

HERE = Path(__file__).resolve().parent
TRAINING_DIR = HERE / "training"
PROJECT_ROOT = HERE.parents[1]
DEFAULT_MODEL_DIR = PROJECT_ROOT / ".kefu" / "guard_model"
META_FILE = "kefu_guard.json"

COMPLIANT = "ok"
LABELS = (COMPLIANT,) + BEHAVIOURS
# A sentence is flagged for its most probable behaviour when that beats "ok" by this
# margin. Chosen by 5-fold cross-validation on the training sentences (behaviour
# recall 0.56, false positives 1% there): the rules carry the precision, the
# classifier the variety.
MARGIN = 0.1
SEED = 7
EPOCHS = 20
BATCH_SIZE = 16

Example = Tuple[str, str]  # (text, label)


def training_files(directory: Path = TRAINING_DIR) -> List[Path]:
    return sorted(directory.glob("*.yml"))


def load_training(directory: Path = TRAINING_DIR) -> List[Example]:
    """(sentence, label) pairs: a behaviour id for violations, "ok" for compliant ones."""
    examples: List[Example] = []
    for path in training_files(directory):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("id") not in LABELS:
            raise ValueError(f"{path}: id must be one of {LABELS}")
        examples += [(text, data["id"]) for text in data.get("violations") or []]
        examples += [(text, COMPLIANT) for text in data.get("compliant") or []]
    return examples


def data_digest(directory: Path = TRAINING_DIR) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(json.dumps(TEXTCAT_CONFIG, sort_keys=True).encode())
    for path in training_files(directory):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


class GuardClassifier:
    def __init__(self, nlp, digest: str = "", examples: int = 0) -> None:
        self.nlp = nlp
        self.textcat = nlp.get_pipe("textcat")
        self.digest = digest
        self.examples = examples

    @classmethod
    def train(cls, examples: Sequence[Example], digest: str = "", epochs: int = EPOCHS,
              seed: int = SEED) -> "GuardClassifier":
        from kefu.emotion.classifier import _blank_chinese, feature_doc

        nlp = _blank_chinese()
        from spacy.training import Example as SpacyExample

        from kefu.textcat import fit_textcat

        textcat = nlp.add_pipe("textcat", config=TEXTCAT_CONFIG)
        for label in LABELS:
            textcat.add_label(label)
        training = [SpacyExample.from_dict(feature_doc(nlp, text), {"cats": {l: float(l == label) for l in LABELS}})
                    for text, label in examples]
        fit_textcat(nlp, training, epochs, seed, BATCH_SIZE)
        return cls(nlp, digest, len(examples))

    def to_disk(self, directory: Path) -> None:
        self.nlp.to_disk(directory)
        meta = {"digest": self.digest, "examples": self.examples, "labels": list(LABELS)}
        (Path(directory) / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def from_disk(cls, directory: Path) -> "GuardClassifier":
        from kefu.emotion.classifier import _import_spacy, _use_private_jieba

        nlp = _use_private_jieba(_import_spacy().load(directory))
        meta = json.loads((Path(directory) / META_FILE).read_text(encoding="utf-8"))
        return cls(nlp, meta["digest"], meta.get("examples", 0))

    def probabilities(self, sentence: str) -> Dict[str, float]:
        from kefu.emotion.classifier import feature_doc

        return dict(self.textcat(feature_doc(self.nlp, sentence)).cats)

    def flagged(self, sentence: str) -> Dict[str, float]:
        """{behaviour: probability} for the sentence's most probable behaviour, if it beats "ok"."""
        cats = self.probabilities(sentence)
        top = max(BEHAVIOURS, key=cats.get)
        return {top: round(cats[top], 3)} if cats[top] >= cats[COMPLIANT] + MARGIN else {}


def _cached_digest(directory: Path) -> Optional[str]:
    try:
        return json.loads((directory / META_FILE).read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError):
        return None


def train_default() -> GuardClassifier:
    """Trains from kefu/guard/training/ and saves to the cache, whatever is there."""
    from kefu.emotion.classifier import save_atomically

    model = GuardClassifier.train(load_training(), data_digest())
    save_atomically(model, DEFAULT_MODEL_DIR)
    return model


def load_default() -> GuardClassifier:
    """The cached model, (re)trained first when the data or this code changed."""
    if _cached_digest(DEFAULT_MODEL_DIR) == data_digest():
        return GuardClassifier.from_disk(DEFAULT_MODEL_DIR)
    return train_default()


_lock = threading.Lock()
_model: Optional[GuardClassifier] = None


def default_model() -> GuardClassifier:
    """Loaded once per process, on the first message that needs it (the desk checks
    drafts from worker threads, hence the lock)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = load_default()
    return _model


@lru_cache(maxsize=4096)
def scores(sentence: str) -> Dict[str, float]:
    """Behaviours the classifier finds in one sentence (bot replies repeat: remembered)."""
    return default_model().flagged(sentence)
