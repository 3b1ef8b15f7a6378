"""Before each action it runs, Rasa copies the tracker (so that a rejected action's
events can be dropped) by replaying every event into a new one. A logged event never
changes and slot values are replaced, not edited, so the copy now takes the events and
the state that replaying them would build."""
from collections import deque

from kefu.patches.base import Patch, Replacement


def _shallow_copy(instance):
    """What `copy.copy` makes of a plain object, without its generic machinery."""
    twin = object.__new__(type(instance))
    twin.__dict__.update(instance.__dict__)
    return twin

def _is_plain_tracker(tracker) -> bool:
    """A DialogueStateTracker itself (not a subclass) with a domain's slots: what the fast
    copies below know how to copy."""
    from rasa.shared.core.trackers import DialogueStateTracker

    return type(tracker) is DialogueStateTracker and type(tracker.slots) is dict

def _copied_slots(tracker) -> dict:
    """The tracker's slots as Rasa's `copy.copy` of each would give them."""
    return {name: _shallow_copy(slot) for name, slot in tracker.slots.items()}

def _copied_without_replay(original):
    import dataclasses

    def copy(self):
        if not _is_plain_tracker(self):
            return original(self)  # a subclass, or a tracker without a domain's slots
        new = _shallow_copy(self)
        new.events = deque(self.events, self._max_event_history)
        new.slots = _copied_slots(self)
        new.latest_action = dict(self.latest_action) if self.latest_action is not None else None
        new.active_loop = dataclasses.replace(self.active_loop) if self.active_loop else self.active_loop
        new.sender_source = new.model_id = new.assistant_id = None  # as Rasa's copy has them
        return new

    copy.kefu_fix = True
    return copy


PATCH = Patch(Replacement("rasa.shared.core.trackers:DialogueStateTracker", "copy", _copied_without_replay))
apply, revert = PATCH.apply, PATCH.revert
