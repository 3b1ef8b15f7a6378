"""Run Rasa with kefu's fixes: `python -m kefu.server run --enable-api …` (same arguments as `rasa`).

Rasa 3.6 checks every action server reply with `jsonschema.validate`, which
re-checks the large response schema itself on each call: about 50 ms per custom
action here, three calls a turn. One compiled validator gives the same verdict
(the same best-matching error) in a fraction of that.
"""
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _response_validator():
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self, result) -> bool:
    from jsonschema.exceptions import best_match

    error = best_match(_response_validator().iter_errors(result))
    if error is not None:
        error.message += (". Failed to validate Action server response from API, make sure your "
                          "response from the Action endpoint is valid.")
        raise error
    return True


def apply_fixes() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


def main() -> None:
    apply_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
