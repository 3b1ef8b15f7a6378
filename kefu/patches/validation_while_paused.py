"""Rasa calls ``action_validate_slot_mappings`` after every customer message, replaying
the whole tracker first. kefu's (actions/waiting.py) only speaks while a conversation
waits for a person, so for a conversation that is not paused the call is skipped and
the extracted slots are kept as they are — what Rasa does when no such action exists."""
from kefu.patches.base import Patch, Replacement


def _only_while_paused(original):
    async def execute_validation_action(self, extraction_events, output_channel, nlg, tracker, domain):
        if tracker.is_paused():
            return await original(self, extraction_events, output_channel, nlg, tracker, domain)
        from rasa.shared.core.events import SlotSet

        return [event for event in extraction_events if isinstance(event, SlotSet)]

    execute_validation_action.kefu_fix = True
    return execute_validation_action


PATCH = Patch(Replacement("rasa.core.actions.action:ActionExtractSlots", "_execute_validation_action",
                          _only_while_paused))
apply, revert = PATCH.apply, PATCH.revert
