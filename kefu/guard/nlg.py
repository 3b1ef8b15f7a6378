"""Rasa NLG that runs the guard on every templated bot response.

endpoints.yml:
    nlg:
      type: kefu.guard.nlg.GuardedNLG

Rasa builds it as GuardedNLG(endpoint_config=…, domain=…) (rasa/core/nlg/generator.py).
A violating text is replaced by the safe reply of the current complaint step, and the
response gets a "guard" key; Rasa's create_bot_utterance keeps unknown keys as the
BotUttered metadata, so trainers see the original text and the findings in the tracker.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Reversible, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from kefu.guard.conversation import context_from_slots
from kefu.guard.engine import warm_up
from kefu.guard.runtime import guard_reply

PREVIOUS_BOT_TEXTS = 3  # enough for "didn't understand twice in a row"


def latest_bot_texts(events: Reversible[Event]) -> List[str]:
    """The last bot texts, oldest first, as the action server sees them (every event, not
    only the applied ones): walking back from the end reads a few events, not the whole
    conversation, on every response."""
    texts: List[str] = []
    for event in reversed(events):
        if isinstance(event, BotUttered) and event.text:
            texts.insert(0, event.text)
            if len(texts) == PREVIOUS_BOT_TEXTS:
                break
    return texts


class GuardedNLG(TemplatedNaturalLanguageGenerator):
    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        domain: Optional[Domain] = None,
        responses: Optional[Dict[Text, List[Dict[Text, Any]]]] = None,
        **kwargs: Any,
    ) -> None:
        if responses is None:
            responses = domain.responses if domain else {}
        super().__init__(responses)
        warm_up()  # rules, spaCy and the classifier (trained here if stale), before the first reply

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        # A custom action's responses are rendered before its slot events are applied:
        # values it passes along (slots it is about to set, its ticket) stand in for the
        # slots, to choose the variation and for the guard's context alike.
        slots = {**tracker.current_slot_values(), **kwargs}
        response = self.generate_from_slots(utter_action, slots, output_channel, **kwargs)
        if not response or not isinstance(response.get("text"), str):
            return response
        context = context_from_slots(slots, latest_bot_texts(tracker.events))
        guarded = guard_reply(response["text"], context)
        if guarded.replaced:
            response["guard"] = {
                "replaced": True,
                "original": response["text"],
                "violations": [v.to_dict() for v in guarded.violations],
            }
            response["text"] = guarded.text
        return response
