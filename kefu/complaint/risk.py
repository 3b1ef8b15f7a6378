"""Risks a person must take over at once: danger to safety or health, leaked data and
scams, threats to go to the regulator, the media or a lawyer (issue 14, item 3).

Found by the NLU only: the intents complain_safety / complain_privacy and the `risk`
entity, whose synonyms name the kind (data/nlu/risk.yml).
"""
from typing import Iterable, Optional

KINDS = ("fire", "shock", "injury", "food", "child", "safety", "privacy", "scam", "threat")
INTENT_KINDS = {"complain_safety": "safety", "complain_privacy": "privacy"}
INTENT_CONFIDENCE = 0.5
# The complaint category a risk is filed under (a threat keeps the complaint's own).
CATEGORY_OF = {"fire": "quality", "shock": "quality", "injury": "quality", "food": "quality",
               "child": "quality", "safety": "quality", "privacy": "service", "scam": "service"}


def risk_of(intent: Optional[str], confidence: float, entities: Iterable[dict]) -> Optional[str]:
    """The kind of risk in one customer message, or None."""
    for entity in entities or ():
        if entity.get("entity") == "risk":
            value = str(entity.get("value") or "")
            return value if value in KINDS else INTENT_KINDS.get(intent or "", "safety")
    if intent in INTENT_KINDS and confidence >= INTENT_CONFIDENCE:
        return INTENT_KINDS[intent]
    return None


def is_repeat(entities: Iterable[dict]) -> bool:
    """"上次…又…", "还是没解决", "第三次了": the `repeat` entity."""
    return any(entity.get("entity") == "repeat" for entity in entities or ())
