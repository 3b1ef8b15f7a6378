"""Facts of a complaint, read from what the customer typed and what NLU found."""
import re
from typing import Dict, Iterable, Optional

from kefu.store.orders import normalize_order_id, normalize_phone

PHONE_PATTERN = re.compile(r"(?<!\d)(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)")
ORDER_PATTERN = re.compile(r"[Kk][Ff][ #]?\d{8}")
AMOUNT_PATTERN = re.compile(r"(\d+(?:\.\d+)?)")

# Typed remedies the NLU may miss; canonical names as in docs/CONVENTIONS.md.
REMEDY_KEYWORDS = (
    ("refund", ("退款", "退钱", "退货", "退费", "把钱退", "退给我", "退宽")),
    ("replace", ("换货", "换一个", "换个", "换新", "调换")),
    ("resend", ("补发", "重发", "重新发", "再寄", "再发")),
    ("compensate", ("补偿", "赔偿", "赔钱", "赔点", "优惠券", "红包")),
    ("repair", ("维修", "修一下", "修好", "返修", "保修")),
    ("callback", ("回电", "打电话给我", "给我打电话", "电话联系")),
)
DONE_WORDS = ("没了", "没有了", "就这些", "就这样", "说完了", "没别的", "没其他", "没有别的", "就这么多")
# A time in the future tells when the customer needs something ("我明天就要用"), not when
# the problem happened.
FUTURE_TIME_WORDS = ("明天", "明早", "明晚", "明儿", "后天", "下周", "下礼拜", "下星期", "下个月", "明年")
NO_ORDER_WORDS = ("没有订单", "没订单号", "不记得", "忘了", "找不到订单", "不知道订单", "没有单号", "记不得")


def find_phone(text: str) -> Optional[str]:
    """A mobile number anywhere in a sentence ("手机138 1234 5678")."""
    match = PHONE_PATTERN.search(text or "")
    return normalize_phone(match.group(1)) if match else None


def find_remedy(text: str) -> Optional[str]:
    for remedy, words in REMEDY_KEYWORDS:
        if any(word in (text or "") for word in words):
            return remedy
    return None


def amount_of(value: Optional[str]) -> Optional[float]:
    """An amount in yuan from the NLU's `amount` entity ("50元", "49.9块")."""
    match = AMOUNT_PATTERN.search(value or "")
    return float(match.group(1)) if match else None


def without_facts(text: str) -> str:
    """The message without its order number and phone: what is left of the story."""
    rest = PHONE_PATTERN.sub("", ORDER_PATTERN.sub("", text or ""))
    return re.sub(r"[\s，,。.！!？?：:、]|订单号?|单号|手机号?|电话", "", rest)


def entity_values(entities: Iterable[dict]) -> Dict[str, str]:
    """First value of each entity type found by NLU."""
    values: Dict[str, str] = {}
    for entity in entities or ():
        values.setdefault(entity.get("entity"), str(entity.get("value")))
    return values


def facts_in(text: str, entities: Iterable[dict]) -> Dict[str, str]:
    """Every complaint fact in one message: NLU entities first, patterns as a safety net."""
    found = entity_values(entities)
    facts = {
        "order_id": normalize_order_id(found.get("order_id", "")) or normalize_order_id(text),
        "contact_phone": find_phone(found.get("phone", "")) or find_phone(text),
        "incident_time": incident_time(entities),
        "wished_remedy": _canonical_remedy(found.get("remedy")) or find_remedy(text),
        "product": found.get("product"),
        "amount": found.get("amount"),
    }
    return {name: value for name, value in facts.items() if value}


def incident_time(entities: Iterable[dict]) -> Optional[str]:
    """The first time the NLU found that does not lie in the future."""
    for entity in entities or ():
        value = str(entity.get("value") or "")
        if entity.get("entity") == "time" and value and not any(word in value for word in FUTURE_TIME_WORDS):
            return value
    return None


def _canonical_remedy(value: Optional[str]) -> Optional[str]:
    known = {remedy for remedy, _ in REMEDY_KEYWORDS}
    if value in known:
        return value
    return find_remedy(value) if value else None


def says_done(text: str, intent: str) -> bool:
    """The customer has finished telling ("没了", "就这些", or a plain no)."""
    return intent == "deny" or any(word in (text or "") for word in DONE_WORDS)


def says_no_order(text: str) -> bool:
    return any(word in (text or "") for word in NO_ORDER_WORDS)
