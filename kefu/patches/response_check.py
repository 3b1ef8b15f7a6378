"""Action replies: Rasa's `jsonschema.validate` re-checked the large schema itself and
tried each event against all 23 event schemas of a `oneOf` (about 5 ms a call, three
calls a turn). The event schemas differ by their constant `event` name, so an event is
checked against its own name's schema only; anything refused goes through the full
check, so a bad reply fails with the very error Rasa reports."""
from functools import lru_cache

from kefu.patches.base import Patch, Replacement


@lru_cache(maxsize=1)
def _response_validator():
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)

@lru_cache(maxsize=1)
def _quick_checks():
    """(reply without its events' details, what every event needs, event name → its schemas)."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    event_schema = schema["properties"]["events"]["items"]
    by_name = {}
    for branch in event_schema["oneOf"]:
        name = branch.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str):
            return None  # a schema without a fixed name could match anything: no shortcut
        by_name.setdefault(name, []).append(validator_class(branch))
    reply_schema = {**schema, "properties": {**schema["properties"],
                                             "events": {"type": "array", "items": {"type": "object"}}}}
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    return validator_class(reply_schema), validator_class(common), by_name

def _passes_quick_check(result) -> bool:
    checks = _quick_checks()
    if checks is None:
        return False
    reply, common, by_name = checks
    if not reply.is_valid(result):
        return False
    events = result.get("events") if isinstance(result, dict) else None
    for event in events or []:
        if not common.is_valid(event):
            return False
        matches = [branch for branch in by_name.get(event["event"], []) if branch.is_valid(event)]
        if len(matches) != 1:  # `oneOf`: exactly one
            return False
    return True

def _validate_action_result(self, result) -> bool:
    from jsonschema.exceptions import best_match

    if _passes_quick_check(result):
        return True
    error = best_match(_response_validator().iter_errors(result))
    if error is not None:
        error.message += (". Failed to validate Action server response from API, make sure your "
                          "response from the Action endpoint is valid.")
        raise error
    return True


PATCH = Patch(Replacement("rasa.core.actions.action:RemoteAction", "_validate_action_result",
                          lambda _rasas: _validate_action_result))
apply, revert = PATCH.apply, PATCH.revert
