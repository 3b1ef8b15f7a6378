"""Conversation-level rules and the audit of a stored conversation.

rush_conclusion, broken_promise and play_dumb depend on where the conversation is:
the same sentence is fine after the Check step / with a ticket / after a clear reply,
and forbidden before. `judge` decides one candidate given the context; `audit_events`
replays a Rasa tracker and checks every bot message in the context it was said in.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional

# The six steps and the hours each ticket tier guarantees, from their one home each.
from kefu.complaint.steps import STEPS
from kefu.store.tickets import TIER_HOURS

STEPS_AFTER_CHECK = ("action", "satisfy")

CONTEXT_SLOTS = ("complaint_step", "check_confirmed", "ticket_id", "ticket_tier", "ticket_deadline")

_CHINESE_NUMBERS = {"半": 0.5, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5,
                    "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_UNIT_HOURS = {"分钟": 1 / 60, "小时": 1, "钟头": 1, "天": 24, "日": 24, "周": 168, "星期": 168}
_DURATION = re.compile(r"(\d+|[半一两二三四五六七八九十]+)个?(分钟|小时|钟头|天|日|周|星期)(?:之)?内")


def check_passed(context: Dict[str, Any]) -> bool:
    """The Check step is confirmed: explicit flag, or the step slot reached action."""
    if context.get("check_confirmed") is not None:
        return bool(context["check_confirmed"])
    return context.get("complaint_step") in STEPS_AFTER_CHECK


def _chinese_number(word: str) -> Optional[float]:
    if word.isdigit():
        return float(word)
    if word in _CHINESE_NUMBERS:
        return float(_CHINESE_NUMBERS[word])
    if word.startswith("十") and word[1:] in _CHINESE_NUMBERS:  # 十二
        return 10 + _CHINESE_NUMBERS[word[1:]]
    tens, _, ones = word.partition("十")  # 二十, 二十四
    if tens in _CHINESE_NUMBERS and (not ones or ones in _CHINESE_NUMBERS):
        return _CHINESE_NUMBERS[tens] * 10 + (_CHINESE_NUMBERS[ones] if ones else 0)
    return None


def promised_hours(promise: str) -> Optional[float]:
    """'两小时内给您回电' -> 2.0; None for 明天之前, 工作日 and other non-tier deadlines."""
    if "工作日" in promise:  # working days never equal a tier's calendar deadline
        return None
    m = _DURATION.search(promise)
    if not m:
        return None
    number = _chinese_number(m.group(1))
    return None if number is None else number * _UNIT_HOURS[m.group(2)]


# A message that itself says the ticket exists: "工单已经建好", "单号BX2406…".
TICKET_IN_TEXT = re.compile(
    r"(工单|[修诉件款货询换]单|单号|编号)[^，。！？]{0,16}(已|已经)?(建|创建|生成|登记|受理|派发|提交)"
    r"|(已|已经)(为您|给您|帮您)?(建|创建|生成|登记|受理|派发|开)(好|了)?[^，。！？]{0,6}单"
    r"|(单号|编号)(是|为|：|:)?\s*[A-Za-z]*[-A-Za-z0-9]{4,}")
# Time words no ticket can back, whatever the context (the rule broken_promise says why).
VAGUE_TIME = re.compile(r"尽快|尽早|第一时间|马上|立刻|立即|立马|很快|一会儿|保证|承诺|打包票|包您|百分之?百")


def conversation_known(context: Dict[str, Any]) -> bool:
    """The context comes from a conversation (its step or ticket), not an isolated sentence."""
    return any(context.get(key) is not None for key in ("complaint_step", "check_confirmed", "ticket_id", "ticket_tier"))


def ticket_exists(text: str, context: Dict[str, Any]) -> bool:
    """The conversation has a ticket; for an isolated sentence, the message says it has one."""
    if conversation_known(context):
        return bool(context.get("ticket_id") or context.get("ticket_tier"))
    return bool(TICKET_IN_TEXT.search(text))


def promise_backed_by_ticket(promise: str, text: str, context: Dict[str, Any]) -> bool:
    """A deadline is backed by the ticket: the context's tier guarantees exactly it, or,
    for an isolated sentence, the message itself gives the ticket it comes from."""
    tier = context.get("ticket_tier")
    if tier:
        hours = TIER_HOURS.get(tier)
        return hours is not None and promised_hours(promise) == hours
    return not conversation_known(context) and ticket_exists(text, context)


def known_to_be_before_check(context: Dict[str, Any]) -> bool:
    """The context says the Check step is not passed yet (unknown step: not known)."""
    if context.get("check_confirmed") is not None:
        return not context["check_confirmed"]
    return context.get("complaint_step") in STEPS[:4]


def _last_bot_text(context: Dict[str, Any]) -> Optional[str]:
    previous = context.get("previous_bot_texts") or []
    return previous[-1] if previous else None


def judge(rule_id: str, kind: str, text: str, span: str, context: Dict[str, Any], why: str) -> Optional[str]:
    """The reason a conversation-level candidate is a violation here, or None if it is fine."""
    from kefu.guard.engine import has_kind

    if rule_id == "rush_conclusion":
        if kind == "remedy_offer":
            return why if known_to_be_before_check(context) else None
        if kind == "cause_assertion":
            return None if check_passed(context) else why
        return why  # dismissing the customer is never a conclusion reached by checking
    if rule_id == "broken_promise":
        if kind == "deadline_promise" and promise_backed_by_ticket(span, text, context):
            return None
        if kind == "guarantee" and ticket_exists(text, context):
            return None
        return why
    if rule_id == "play_dumb" and kind == "not_understood":
        previous = _last_bot_text(context)
        return why if previous and has_kind(previous, "play_dumb", "not_understood") else None
    return why


def judge_sentence(behaviour: str, text: str, sentence: str, context: Dict[str, Any], why: str) -> Optional[str]:
    """The same judgement for a whole sentence the classifier scored."""
    if behaviour == "rush_conclusion" and check_passed(context):
        return None
    if behaviour == "broken_promise" and _sentence_backed_by_ticket(sentence, text, context):
        return None
    return why


def _sentence_backed_by_ticket(sentence: str, text: str, context: Dict[str, Any]) -> bool:
    """A ticket exists, the sentence has no vague time word, and any deadline is its tier."""
    if VAGUE_TIME.search(sentence):
        return False
    if not ticket_exists(text, context):
        return False
    hours, tier = promised_hours(sentence), context.get("ticket_tier")
    return hours is None or not tier or TIER_HOURS.get(tier) == hours


# ---------------------------------------------------------------- tracker audit


def _apply_event(event: Dict[str, Any], slots: Dict[str, Any]) -> None:
    kind = event.get("event")
    if kind == "slot":
        slots[event.get("name")] = event.get("value")
    elif kind in ("restart", "reset_slots"):
        slots.clear()


def _slots_after_action(events: List[Dict[str, Any]], index: int, slots: Dict[str, Any]) -> Dict[str, Any]:
    """Slots as they stand once the action that sent events[index] has finished.

    A custom action's messages are logged before the slots it sets (e.g. the ticket
    tier), so a promise is judged with the slots set by the same action.
    """
    after = dict(slots)
    for event in events[index + 1 :]:
        if event.get("event") in ("action", "user", "restart"):
            break
        _apply_event(event, after)
    return after


def context_from_slots(slots: Dict[str, Any], previous_bot_texts: List[str]) -> Dict[str, Any]:
    context = {name: slots.get(name) for name in CONTEXT_SLOTS if slots.get(name) is not None}
    context["previous_bot_texts"] = list(previous_bot_texts)
    return context


def audit_events(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every bot message of a tracker with its turn number and findings.

    Turn n is the bot's answer to the n-th user message (0: before the first one).
    """
    from kefu.guard.engine import check

    events = [e for e in events if isinstance(e, dict)]
    slots: Dict[str, Any] = {}
    previous_bot_texts: List[str] = []
    turn = 0
    report = []
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "user":
            turn += 1
        elif kind == "restart":
            previous_bot_texts = []
        elif kind == "bot" and event.get("text"):
            text = event["text"]
            context = context_from_slots(_slots_after_action(events, index, slots), previous_bot_texts)
            violations = check(text, context)
            report.append({"turn": turn, "text": text, "violations": [v.to_dict() for v in violations]})
            previous_bot_texts.append(text)
        _apply_event(event, slots)
    return report
