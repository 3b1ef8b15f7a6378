"""`applied_events` (the events minus those undone: reverts, restarts, a form's repeated
runs) walks the whole conversation, and Rasa asks for it about five times a message. A
conversation only grows, so a tracker keeps its last result and walks only the events
added since (again from the start when the events are not the ones it walked, or a
form appears for the first time). On a complaint's last turn that was a fifth of
Rasa's time."""
import itertools

from kefu.patches.base import Patch, Replacement


class _AppliedSoFar:
    """`applied_events` of a tracker's first `count` events, and what tells that the
    tracker still starts with those very events (Rasa only ever appends to them)."""

    __slots__ = ("count", "first", "last", "loop_names", "events")

    def __init__(self, events, loop_names: frozenset, applied: list) -> None:
        self.count = len(events)
        self.first = events[0] if events else None
        self.last = events[-1] if events else None
        self.loop_names = loop_names
        self.events = tuple(applied)

    def starts(self, events) -> bool:
        return self.count <= len(events) and (
            self.count == 0 or (events[0] is self.first and events[self.count - 1] is self.last))

def _apply_in_order(tracker, applied: list, events, loop_names: frozenset) -> None:
    """The body of Rasa 3.6's `DialogueStateTracker.applied_events` loop, step by step."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
              and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)

def _applied_events_extended(original):
    from rasa.shared.core.events import ActiveLoop
    from rasa.shared.core.trackers import DialogueStateTracker

    def applied_events(self):
        if type(self) is not DialogueStateTracker:
            return original(self)
        events = self.events
        known = self.__dict__.get("_kefu_applied")
        if known is None or not known.starts(events):
            known = _AppliedSoFar((), frozenset(), [])
        new_events = list(itertools.islice(events, known.count, None))
        loop_names = known.loop_names | {e.name for e in new_events if isinstance(e, ActiveLoop) and e.name}
        if loop_names == known.loop_names:
            applied = list(known.events)
            _apply_in_order(self, applied, new_events, loop_names)
        else:  # a loop seen for the first time changes how its earlier runs count
            applied = original(self)
        self._kefu_applied = _AppliedSoFar(events, loop_names, applied)
        return applied

    applied_events.kefu_fix = True
    applied_events.rasas_own = original  # for tests/test_server_fixes.py
    return applied_events


PATCH = Patch(Replacement("rasa.shared.core.trackers:DialogueStateTracker", "applied_events",
                          _applied_events_extended))
apply, revert = PATCH.apply, PATCH.revert
