"""Every prediction starts from an empty copy of the tracker (`init_copy`), whose slots
Rasa copies with `copy.copy`, about 45 a time: they are now copied as plain objects."""
from kefu.patches.base import Patch, Replacement
from kefu.patches.tracker_copy import _copied_slots, _is_plain_tracker


def _init_copy_without_copy_module(original):
    from rasa.shared.constants import DEFAULT_SENDER_ID
    from rasa.shared.core.trackers import DialogueStateTracker

    def init_copy(self):
        if not _is_plain_tracker(self):
            return original(self)
        new = DialogueStateTracker(self.sender_id or DEFAULT_SENDER_ID, None, self._max_event_history,
                                   is_rule_tracker=self.is_rule_tracker)
        new.slots = _copied_slots(self)
        new._reset_slots()
        return new

    init_copy.kefu_fix = True
    init_copy.rasas_own = original  # for tests/test_server_fixes.py
    return init_copy


PATCH = Patch(Replacement("rasa.shared.core.trackers:DialogueStateTracker", "init_copy",
                          _init_copy_without_copy_module))
apply, revert = PATCH.apply, PATCH.revert
