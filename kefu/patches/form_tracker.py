"""The form's temporary trackers (two a turn), built by replaying every event, start
from a fast copy of the tracker (kefu.patches.tracker_copy) instead."""
from kefu.patches.base import Patch, Replacement


def _temporary_tracker_from_copy(original):
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, Restarted, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    def temporary_tracker(self, current_tracker, additional_events, domain):
        if (type(current_tracker) is not DialogueStateTracker
                or set(current_tracker.slots) != {slot.name for slot in domain.slots}
                or any(isinstance(event, Restarted) for event in current_tracker.events)):
            return original(self, current_tracker, additional_events, domain)
        temporary = current_tracker.copy()
        # the events Rasa's FormAction._temporary_tracker appends, in its order
        for event in [SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
                      ActionExecuted(self.name()), *additional_events]:
            temporary.update(event)
        return temporary

    temporary_tracker.kefu_fix = True
    temporary_tracker.rasas_own = original  # for tests/test_server_fixes.py
    return temporary_tracker


PATCH = Patch(Replacement("rasa.core.actions.forms:FormAction", "_temporary_tracker", _temporary_tracker_from_copy))
apply, revert = PATCH.apply, PATCH.revert
