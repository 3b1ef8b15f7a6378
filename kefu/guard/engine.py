"""Rule engine: loads the YAML rules once and checks one message.

A rule (rules/<id>.yml) has matchers; each matcher finds candidate spans with spaCy
PhraseMatcher phrases, spaCy Matcher token patterns (over jieba tokens) and/or regular
expressions on the raw text. A candidate is dropped when an `unless` regex matches the
sentence it is in. The trained classifier (kefu/guard/classifier.py) adds, per sentence,
a behaviour no rule found there. Conversation-level rules then ask `conversation.judge`
whether a candidate is a violation in the given context.
"""
from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

RULES_DIR = Path(__file__).parent / "rules"

# Order of the table in shared/DOMAIN.md.
BEHAVIOURS = (
    "doubt",
    "insist_right",
    "rush_conclusion",
    "joke",
    "shift_blame",
    "nitpick",
    "broken_promise",
    "blame_other_dept",
    "play_dumb",
    "blame_customer",
)

SENTENCE_END = re.compile(r"[。！？!?；;\n]")


@dataclass
class Violation:
    id: str
    span: str
    start: int
    end: int
    why: str
    suggest: str = ""  # how a good agent would say it instead (the rule's `suggest`)
    source: str = "rule"  # "rule": a pattern matched the span; "classifier": the sentence's score
    score: Optional[float] = None  # the classifier's probability for the behaviour

    def to_dict(self) -> Dict[str, Any]:
        found = asdict(self)
        if self.score is None:
            del found["score"]
        return found


@dataclass
class Matcher:
    kind: str
    why: Optional[str] = None
    phrases: List[str] = field(default_factory=list)
    patterns: List[list] = field(default_factory=list)
    regex: List[str] = field(default_factory=list)
    unless: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.compiled_regex = [re.compile(r) for r in self.regex]
        self.compiled_unless = [re.compile(r) for r in self.unless]


@dataclass
class Rule:
    id: str
    name: str
    why: str
    scope: str  # "sentence" or "conversation"
    matchers: List[Matcher]
    examples: list
    counter_examples: list
    suggest: str = ""


@dataclass(frozen=True)
class Candidate:
    rule: Rule
    matcher: Matcher
    start: int
    end: int


def load_rule(path: Path) -> Rule:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    matchers = [Matcher(**m) for m in data.get("matchers", [])]
    return Rule(
        id=data["id"],
        name=data["name"],
        why=data["why"],
        scope=data.get("scope", "sentence"),
        matchers=matchers,
        examples=data.get("examples", []),
        counter_examples=data.get("counter_examples", []),
        suggest=data.get("suggest", ""),
    )


@lru_cache(maxsize=None)
def load_rules(rules_dir: str = str(RULES_DIR)) -> Dict[str, Rule]:
    rules = {}
    for path in sorted(Path(rules_dir).glob("*.yml")):
        rule = load_rule(path)
        rules[rule.id] = rule
    return rules


def _import_spacy():
    """Import spaCy without letting thinc probe TensorFlow (3 s and a lot of memory).

    thinc imports tensorflow only to offer optional wrappers the guard never uses.
    When tensorflow is already loaded (inside the Rasa server) nothing changes.
    """
    if "tensorflow" in sys.modules or "spacy" in sys.modules:
        import spacy

        return spacy
    sys.modules["tensorflow"] = None  # makes `import tensorflow` fail fast
    try:
        import spacy
    finally:
        del sys.modules["tensorflow"]
    return spacy


@lru_cache(maxsize=None)
def _nlp():
    spacy = _import_spacy()
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


class _CompiledRules:
    """spaCy matchers for all rules; match ids are '<rule>#<matcher index>'."""

    def __init__(self, rules: Dict[str, Rule]) -> None:
        nlp = _nlp()  # first: imports spaCy without TensorFlow
        from spacy.matcher import Matcher as TokenMatcher
        from spacy.matcher import PhraseMatcher

        self.rules = rules
        self.token_matcher = TokenMatcher(nlp.vocab)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for rule in rules.values():
            for index, matcher in enumerate(rule.matchers):
                key = f"{rule.id}#{index}"
                if matcher.patterns:
                    self.token_matcher.add(key, matcher.patterns)
                if matcher.phrases:
                    docs = [nlp.make_doc(p) for p in matcher.phrases]
                    self.phrase_matcher.add(key, docs)

    def candidates(self, text: str) -> List[Candidate]:
        found = []
        doc = _nlp()(text)
        for match_id, start, end in self.token_matcher(doc) + self.phrase_matcher(doc):
            rule_id, index = doc.vocab.strings[match_id].split("#")
            rule = self.rules[rule_id]
            span = doc[start:end]
            found.append(Candidate(rule, rule.matchers[int(index)], span.start_char, span.end_char))
        for rule in self.rules.values():
            for matcher in rule.matchers:
                for pattern in matcher.compiled_regex:
                    for m in pattern.finditer(text):
                        if m.end() > m.start():
                            found.append(Candidate(rule, matcher, m.start(), m.end()))
        return found


@lru_cache(maxsize=None)
def _compiled() -> _CompiledRules:
    return _CompiledRules(load_rules())


def sentences(text: str) -> List[Tuple[int, int]]:
    """(start, end) of each sentence with words in it, without its closing mark or spaces."""
    spans, start = [], 0
    for mark in list(SENTENCE_END.finditer(text)) + [None]:
        end = mark.start() if mark else len(text)
        left = start + len(text[start:end]) - len(text[start:end].lstrip())
        right = end - (len(text[start:end]) - len(text[start:end].rstrip()))
        if WORD.search(text, left, right):
            spans.append((left, right))
        start = mark.end() if mark else len(text)
    return spans


WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")
CJK = re.compile(r"[\u4e00-\u9fff]")
# The classifier learnt from Chinese sentences: a fragment of a few characters or a
# sentence mostly in another language gives it nothing to judge (the rules still do).
MIN_CLASSIFIED_CJK = 6
# The classifier reads at most this many sentences of a message (a pasted page would
# otherwise cost a few milliseconds per sentence; the rules still read all of it).
MAX_CLASSIFIED_SENTENCES = 20


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end]; `unless` exceptions look only there."""
    left = max((m.end() for m in SENTENCE_END.finditer(text, 0, start)), default=0)
    right_match = SENTENCE_END.search(text, end)
    right = right_match.start() if right_match else len(text)
    return text[left:right]


def find_candidates(text: str) -> Tuple[Candidate, ...]:
    """Pattern matches that no `unless` exception cancels; context not yet applied.

    The bot's replies are a few hundred texts said again and again, and each is checked
    on every turn (and again as a previous reply): short texts are matched once.
    """
    if len(text) <= REMEMBERED_TEXT_LENGTH:
        return _remembered_candidates(text)
    return _candidates(text)


REMEMBERED_TEXT_LENGTH = 300


@lru_cache(maxsize=4096)
def _remembered_candidates(text: str) -> Tuple[Candidate, ...]:
    return _candidates(text)


def _candidates(text: str) -> Tuple[Candidate, ...]:
    kept = []
    for c in _compiled().candidates(text):
        sentence = sentence_around(text, c.start, c.end)
        if not any(u.search(sentence) for u in c.matcher.compiled_unless):
            kept.append(c)
    return tuple(kept)


def has_kind(text: str, rule_id: str, kind: str) -> bool:
    """Whether `text` contains a candidate of that rule and matcher kind."""
    if not isinstance(text, str) or not text.strip():
        return False
    return any(c.rule.id == rule_id and c.matcher.kind == kind for c in find_candidates(text))


def _merge_overlaps(violations: List[Violation]) -> List[Violation]:
    """One finding per rule per stretch of text: overlapping spans of a rule merge."""
    merged: List[Violation] = []
    for v in sorted(violations, key=lambda v: (v.id, v.start, -v.end)):
        last = merged[-1] if merged else None
        if last and last.id == v.id and v.start < last.end:
            continue
        merged.append(v)
    return sorted(merged, key=lambda v: (v.start, v.id))


def _classifier_findings(text: str, found: List[Violation], context: Dict[str, Any]) -> List[Violation]:
    """The classifier's behaviour for each sentence where no rule found anything.

    Where a rule did, a different label from the classifier is mostly the two
    behaviours' wordings confused, and the rule's finding already names the span.
    """
    from kefu.guard import classifier, conversation

    rules = load_rules()
    findings = []
    for start, end in sentences(text)[:MAX_CLASSIFIED_SENTENCES]:
        if any(v.start < end and start < v.end for v in found) or not _classifiable(text[start:end]):
            continue
        for behaviour, score in classifier.scores(text[start:end]).items():
            rule = rules[behaviour]
            why = conversation.judge_sentence(behaviour, text, text[start:end], context, rule.why)
            if why is not None:
                findings.append(Violation(behaviour, text[start:end], start, end, why, rule.suggest,
                                          "classifier", score))
    return findings


def _classifiable(sentence: str) -> bool:
    chinese = len(CJK.findall(sentence))
    return chinese >= MIN_CLASSIFIED_CJK and 2 * chinese >= len("".join(sentence.split()))


def check(text: Any, context: Optional[Dict[str, Any]] = None, use_classifier: bool = True) -> List[Violation]:
    """Forbidden behaviours in one bot/agent message.

    context (all keys optional): complaint_step, check_confirmed, ticket_id,
    ticket_tier, ticket_deadline, previous_bot_texts (oldest first). None means
    nothing is known about the conversation: no ticket, no previous reply, and the
    complaint step unknown (a remedy is then not judged as premature).
    """
    from kefu.guard import conversation

    if not isinstance(text, str) or not text.strip():
        return []
    context = context or {}
    violations = []
    for c in find_candidates(text):
        why = c.matcher.why or c.rule.why
        if c.rule.scope == "conversation":
            why = conversation.judge(c.rule.id, c.matcher.kind, text, text[c.start : c.end], context, why)
            if why is None:
                continue
        violations.append(Violation(c.rule.id, text[c.start : c.end], c.start, c.end, why, c.rule.suggest))
    if use_classifier:
        violations += _classifier_findings(text, violations, context)
    return _merge_overlaps(violations)


def warm_up() -> None:
    """Load rules, spaCy, jieba and the classifier now instead of on the first message."""
    check("您好，请问有什么可以帮您？")  # long enough for the classifier to be asked
