"""Emotion tracking, the slot mapping action run after every customer message, is a pure
function of that message and the emotion slots (`kefu.emotion.tracking`): it runs in
Rasa's process instead of sending the whole tracker to the action server, which keeps
the same action for a plain `rasa run`. It was a third of the action calls."""
from kefu.patches.base import Patch, Replacement


def _track_emotion(tracker):
    from rasa.shared.core.events import SlotSet

    from kefu.emotion.tracking import emotion_slot_changes, tracked_since_message

    latest = tracker.latest_message
    message = {**latest.parse_data, "text": latest.text} if latest else None
    newest_first = ((e.type_name, getattr(e, "key", None)) for e in reversed(tracker.events))
    changes = emotion_slot_changes(message, tracker.get_slot, tracked_since_message(newest_first))
    return [SlotSet(name, value) for name, value in changes.items()]

SLOT_ACTIONS_IN_PROCESS = {"action_track_emotion": _track_emotion}

def _slot_actions_in_process(original):
    async def run_custom_action(self, custom_action, output_channel, nlg, tracker, domain):
        in_process = SLOT_ACTIONS_IN_PROCESS.get(custom_action)
        if in_process is None:
            return await original(self, custom_action, output_channel, nlg, tracker, domain)
        return in_process(tracker)

    run_custom_action.kefu_fix = True
    return run_custom_action


PATCH = Patch(Replacement("rasa.core.actions.action:ActionExtractSlots", "_run_custom_action",
                          _slot_actions_in_process))
apply, revert = PATCH.apply, PATCH.revert
