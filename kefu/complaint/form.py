"""One customer message inside the complaint form: which slots it fills, what the bot says.

`handle_message` is the whole validation of `complaint_form`, written without Rasa so
each rule of the six steps can be tested directly. It returns slot updates and
replies (domain response names with their arguments); an empty outcome means the
message was not for the form (a digression), and Rasa's rules answer it instead.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol, Tuple

from kefu.complaint import facts, policy, wording
from kefu.complaint.rating import is_low, parse_rating
from kefu.complaint.risk import CATEGORY_OF, INTENT_KINDS, is_repeat, risk_of
from kefu.complaint.steps import STEP_OF_SLOT, required_slots
from kefu.emotion.tracking import ANGRY_TONES

# Intents that step out of the form; the form resumes after rules answer them.
DIGRESSIONS = {"greet", "goodbye", "thank", "praise", "out_of_scope", "ask_progress",
               "request_human", "give_up", "ask_is_bot"}
DIGRESSION_CONFIDENCE = 0.6
LISTEN_MAX_MESSAGES = 3
LISTEN_ENOUGH_CHARS = 20
MAX_ORDER_ATTEMPTS = 3  # the first try and two more: "asked again twice at most"
FACT_SLOTS = ("order_id", "contact_phone", "incident_time", "wished_remedy", "product")
FIXABLE_FACTS = {"order_id": ("订单", "单号"), "incident_time": ("时间", "日期", "哪天"),
                 "wished_remedy": ("诉求", "处理", "方案", "想要"), "problem": ("问题", "情况", "描述")}
# 三换: after this many unproductive answers in a row at one step a person is offered,
# one more and a person takes over ("stalled at <step>").
STALL_OFFER_AT = 2
STALL_HANDOVER_AT = 3
# Slots that only count or remember; setting them alone is no progress.
BOOKKEEPING = {"unclear_count", "repeat_complaint", "claimed_amount", "question_counts",
               "previous_ticket_id"}
# A first message this long, or with a fact and this long, is a whole account already.
WHOLE_ACCOUNT_CHARS = 25
ACCOUNT_WITH_FACT_CHARS = 10


@dataclass
class Message:
    text: str
    intent: str
    confidence: float = 1.0
    entities: List[dict] = field(default_factory=list)


@dataclass
class Outcome:
    updates: Dict[str, Any] = field(default_factory=dict)
    replies: List[tuple] = field(default_factory=list)  # (response name, kwargs)

    def set(self, **slots: Any) -> None:
        self.updates.update(slots)

    def say(self, response: str, **kwargs: Any) -> None:
        self.replies.append((response, kwargs))


class Records(Protocol):
    """What the form needs from the shop's systems (kefu.complaint.records)."""

    def find_order(self, order_id: str) -> Optional[Any]: ...

    def beyond_authority(self, slots: Dict[str, Any], remedy: str) -> bool: ...

    def open_ticket(self, slots: Dict[str, Any], remedy: str) -> Dict[str, Any]: ...

    def earlier_ticket(self, slots: Dict[str, Any]) -> Optional[str]: ...


def handle_message(slots: Dict[str, Any], message: Message, records: Records) -> Outcome:
    """Validate one customer message against the slot the form is asking for."""
    out = Outcome()
    risk = risk_of(message.intent, message.confidence, message.entities)
    if risk:  # a person first, before any question, remedy or voucher
        out.set(risk_kind=risk, handoff_reason="risk",
                complaint_category=CATEGORY_OF.get(risk) or slots.get("complaint_category") or "other")
        return out
    if _is_digression(message):
        return out
    current = dict(slots)
    _take_category(current, message, out)
    _take_facts(current, message, out)
    if is_repeat(message.entities) and not slots.get("repeat_complaint"):
        out.set(repeat_complaint=True)
    current.update(out.updates)
    asking = slots.get("requested_slot")
    handler = HANDLERS.get(asking, _listen)
    handler(current, message, records, out)
    current.update(out.updates)
    _verify_order(current, records, out)
    _link_repeat({**current, **out.updates}, records, out)
    _count_progress(slots, out)
    return out


def _link_repeat(slots, records, out) -> None:
    """A repeat complaint is linked to the customer's earlier ticket once one is found."""
    if slots.get("repeat_complaint") and not slots.get("previous_ticket_id"):
        earlier = records.earlier_ticket(slots)
        if earlier:
            out.set(previous_ticket_id=earlier)


def _count_progress(slots, out) -> None:
    """三换: an answer that fills nothing new counts; two in a row offer a person (the
    question's wording, actions/complaint.py), a third hands over."""
    if set(out.updates) - BOOKKEEPING or out.replies:
        out.updates.setdefault("unclear_count", 0)
        return
    count = (slots.get("unclear_count") or 0) + 1
    out.set(unclear_count=count)
    if count >= STALL_HANDOVER_AT:
        out.set(handoff_reason="stalled", stalled_step=stalled_step(slots))


def person_offer(slots: Dict[str, Any]) -> Tuple[str, ...]:
    """Why the next question comes with a person offered, the most fitting reason first
    (empty: no offer): "angry" after an answer that did not help and was said in anger
    (the Share step's angry or furious tone), which must not meet a bare question;
    "stalled" after two answers that did not help."""
    count = slots.get("unclear_count") or 0
    angry = count >= 1 and slots.get("emotion_tone") in ANGRY_TONES
    return (("angry",) if angry else ()) + (("stalled",) if count >= STALL_OFFER_AT else ())


def stalled_step(slots: Dict[str, Any]) -> str:
    asking = slots.get("requested_slot")
    return STEP_OF_SLOT.get(asking) or slots.get("complaint_step") or "listen"


def next_slot(slots: Dict[str, Any]) -> Optional[str]:
    return next((name for name in required_slots(slots) if slots.get(name) is None), None)


# --- what every message may carry -------------------------------------------------

def _is_digression(message: Message) -> bool:
    return message.intent in DIGRESSIONS and message.confidence >= DIGRESSION_CONFIDENCE


def _take_category(slots, message, out) -> None:
    """The first complaint intent names the category; a vague first line ("你们这什么破杯子",
    complain_other) gives way to the first specific one that follows."""
    if not message.intent.startswith("complain_"):
        return
    category = message.intent[len("complain_"):]
    category = CATEGORY_OF.get(INTENT_KINDS.get(message.intent), category)  # complain_safety → quality
    if not slots.get("complaint_category") or (slots.get("complaint_category") == "other" and category != "other"):
        out.set(complaint_category=category)


def _take_facts(slots, message, out) -> None:
    """Facts may come in any order, all at once, or as a correction of an earlier one."""
    found = facts.facts_in(message.text, message.entities)
    amount = facts.amount_of(found.get("amount"))
    if amount and amount != slots.get("claimed_amount"):
        out.set(claimed_amount=amount)
    for name in FACT_SLOTS:
        value = found.get(name)
        if not value or value == slots.get(name):
            continue
        if slots.get(name) and slots.get("facts_confirmed") is None and _past_probe(slots):
            out.say("utter_fact_updated")
        out.set(**{name: value})
        if name in ("order_id", "contact_phone"):
            out.set(order_verified=None)


def _past_probe(slots) -> bool:
    return slots.get("complaint_step") in ("check", "action", "satisfy")


# --- one handler per slot the form asks for ------------------------------------------

def _listen(slots, message, records, out) -> None:
    """Collect short messages into one account until the customer has told it all."""
    account = list(slots.get("complaint_account") or [])
    done = facts.says_done(message.text, message.intent) and bool(account)
    story = facts.without_facts(message.text)
    if not done and len(story) >= 2:  # a bare order number or phone is a fact, not the story
        account.append(message.text.strip())
        out.set(complaint_account=account)
    told = sum(len(facts.without_facts(part)) for part in account)
    whole = len(account) == 1 and (told >= WHOLE_ACCOUNT_CHARS or (
        told >= ACCOUNT_WITH_FACT_CHARS and any(slots.get(name) for name in FACT_SLOTS[:4])))
    if done or whole or len(account) >= LISTEN_MAX_MESSAGES or (len(account) >= 2 and told >= LISTEN_ENOUGH_CHARS):
        out.set(account_complete=True)
        if told >= 6 and not slots.get("problem"):
            out.set(problem="，".join(account))
        if not slots.get("complaint_category"):
            out.set(complaint_category="other")


def _order_id(slots, message, records, out) -> None:
    if slots.get("order_id"):
        return
    if facts.says_no_order(message.text) or message.intent == "deny":
        out.set(order_unavailable=True)
        out.say("utter_order_unverified")


def _contact_phone(slots, message, records, out) -> None:
    if not slots.get("contact_phone") and message.intent == "deny":
        out.set(order_unavailable=True, order_id=None)
        out.say("utter_order_unverified")


def _free_text(slot_name: str):
    """Problem and time accept the customer's own words as they are."""
    def handle(slots, message, records, out) -> None:
        if not slots.get(slot_name) and len(message.text.strip()) >= 2:
            out.set(**{slot_name: message.text.strip()})
    return handle


def _wished_remedy(slots, message, records, out) -> None:
    if not slots.get("wished_remedy") and message.text.strip():
        out.set(wished_remedy="open")  # no preference: the Action step offers all


def _wrong_fact(slots, message, records, out) -> None:
    """After a "no" at Check: clear only the fact the customer says is wrong."""
    wrong = facts.entity_values(message.entities).get("wrong_fact") or _fact_named_in(message.text)
    if wrong or out.updates:
        out.set(check_denied=False, wrong_fact=None, facts_confirmed=None)
        if wrong and not out.updates.get(wrong):
            out.set(**{wrong: None})
            if wrong == "order_id":
                out.set(order_verified=None)


def _fact_named_in(text: str) -> Optional[str]:
    for slot_name, words in FIXABLE_FACTS.items():
        if any(word in text for word in words):
            return slot_name
    return None


def _facts_confirmed(slots, message, records, out) -> None:
    if out.updates:  # a correction ("不对，订单号是…"): restate again
        return
    if message.intent == "affirm":
        out.set(facts_confirmed=True, unclear_count=0)
    elif message.intent == "deny":
        out.set(check_denied=True)


def _chosen_remedy(slots, message, records, out) -> None:
    chosen = facts.facts_in(message.text, message.entities).get("wished_remedy")
    if chosen is None and slots.get("wished_remedy") == "callback" and out.updates.get("contact_phone"):
        chosen = "callback"  # the phone we asked for, to call back on
    offered = slots.get("offered_remedies") or []
    if chosen not in offered:
        out.updates.pop("wished_remedy", None)
        return
    if chosen == "callback" and not slots.get("contact_phone"):
        # a callback needs a number to call: asked first, the ticket comes with it
        out.set(wished_remedy="callback")
        out.say(None, text=wording.CALLBACK_PHONE)
        return
    if records.beyond_authority(slots, chosen):
        out.set(chosen_remedy=chosen, handoff_reason="over_authority")
        return
    ticket = records.open_ticket({**slots, **out.updates}, chosen)
    out.set(chosen_remedy=chosen, unclear_count=0, ticket_id=ticket["ticket_id"],
            ticket_tier=ticket["tier"], ticket_deadline=ticket["deadline_iso"])
    out.say("utter_ticket_created", **ticket)


def _satisfaction(slots, message, records, out) -> None:
    rating = parse_rating(message.text, message.entities)
    if rating is None:
        return
    if is_low(rating) and not slots.get("alternative_offered"):
        tried = list(slots.get("offered_remedies_tried") or []) + [slots.get("chosen_remedy")]
        out.set(alternative_offered=True, chosen_remedy=None, unclear_count=0,
                offered_remedies_tried=tried)
        out.say("utter_offer_alternative")
        return
    out.set(satisfaction=float(rating), unclear_count=0)


HANDLERS = {
    "account_complete": _listen,
    "order_id": _order_id,
    "contact_phone": _contact_phone,
    "problem": _free_text("problem"),
    "incident_time": _free_text("incident_time"),
    "wished_remedy": _wished_remedy,
    "wrong_fact": _wrong_fact,
    "facts_confirmed": _facts_confirmed,
    "chosen_remedy": _chosen_remedy,
    "satisfaction": _satisfaction,
}


# --- our own side: the order must exist and belong to the customer ----------------------

def _verify_order(slots, records, out) -> None:
    order_id = slots.get("order_id")
    if not order_id or slots.get("order_verified") is not None or slots.get("order_unavailable"):
        return
    order = records.find_order(order_id)
    if order is None:
        _order_failed(slots, out, "utter_order_not_found", clear_phone=False)
    elif slots.get("contact_phone") and slots["contact_phone"] != order.phone:
        _order_failed(slots, out, "utter_order_phone_mismatch", clear_phone=True)
    elif slots.get("contact_phone"):
        out.set(order_verified=True, product=order.products)  # our records beat a guessed entity


def _order_failed(slots, out, response: str, clear_phone: bool) -> None:
    """Ask again (twice at most), then go on and let a person verify the order."""
    attempts = (slots.get("order_attempts") or 0) + 1
    out.set(order_attempts=attempts, order_id=None, order_verified=None)
    if clear_phone:
        out.set(contact_phone=None)
    if attempts >= MAX_ORDER_ATTEMPTS:
        out.set(order_unavailable=True, contact_phone=slots.get("contact_phone"))
        out.say("utter_order_unverified")
    else:
        out.say(response, order_id=slots.get("order_id"))


def remedies_to_offer(slots: Dict[str, Any], order_status: Optional[str]) -> List[str]:
    """What the Action step offers; after a low rating, what was not chosen before."""
    remedies = policy.order_remedies(slots.get("complaint_category") or "other",
                                     order_status, slots.get("wished_remedy"))
    tried = slots.get("offered_remedies_tried") or []
    fresh = [remedy for remedy in remedies if remedy not in tried]
    return fresh or ["callback"]
