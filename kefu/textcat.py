"""The one training loop of kefu's spaCy text classifiers (emotion, guard)."""
from __future__ import annotations

import random
from typing import List

BATCH_SIZE = 32


def fit_textcat(nlp, training: List, epochs: int, seed: int, batch_size: int = BATCH_SIZE):
    """Initialises ``nlp`` on ``training`` (spaCy Examples) and trains it; returns ``nlp``.

    The same examples, epochs and seed give the same model: spaCy's random state and
    the shuffling both follow ``seed``.
    """
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(seed)
    optimizer = nlp.initialize(lambda: training)
    shuffler = random.Random(seed)
    training = list(training)
    for _ in range(epochs):
        shuffler.shuffle(training)
        for batch in minibatch(training, size=batch_size):
            nlp.update(batch, sgd=optimizer)
    return nlp
