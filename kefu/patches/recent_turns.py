"""Every action call carried the whole conversation, 24 KB on average in a complaint and
growing with every message. The form's validation reads the slots, the latest message
and only the last turns' events (was the customer the last to speak, the previous
intent, the previous bot reply): its tracker carries the events of its last
`RECENT_TURNS_ONLY` customer messages. Every other action gets the whole tracker."""
from kefu.patches.base import Patch, Replacement

# Actions that read slots, the latest message and the events of their last N customer
# messages only (actions/complaint.py, ValidateComplaintForm).
RECENT_TURNS_ONLY = {"validate_complaint_form": 3}

def recent_events(events, turns: int) -> list:
    """The events from the action_listen before the `turns`-th last customer message on."""
    events = list(events)
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if events[index].type_name == "user":
            seen += 1
            if seen == turns:
                return events[max(index - 1, 0):]
    return events

def _recent_turns_call_format(original):
    def action_call_format(self, tracker, domain):
        turns = RECENT_TURNS_ONLY.get(self.name())
        if turns is None:
            return original(self, tracker, domain)
        import rasa

        state = tracker.current_state()  # everything but the events
        state["events"] = [event.as_dict() for event in recent_events(tracker.events, turns)]
        result = {"next_action": self.name(), "sender_id": tracker.sender_id, "tracker": state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    action_call_format.kefu_fix = True
    return action_call_format


PATCH = Patch(Replacement("rasa.core.actions.action:RemoteAction", "_action_call_format",
                          _recent_turns_call_format))
apply, revert = PATCH.apply, PATCH.revert
