"""kefu.server's compiled validator judges action server replies exactly as Rasa does."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from kefu.server import _validate_action_result

GOOD = {"events": [{"event": "slot", "name": "order_id", "value": "KF20261101"}],
        "responses": [{"text": "好的"}]}
BAD = [{"events": "not a list"}, {"events": [{"event": "slot", "value": 1}]}, {"responses": {"text": 1}}]


def test_a_valid_reply_passes_like_jsonschema_validate():
    jsonschema.validate(GOOD, RemoteAction.action_response_format_spec())
    assert _validate_action_result(None, GOOD) is True


@pytest.mark.parametrize("reply", BAD)
def test_an_invalid_reply_is_refused_like_jsonschema_validate(reply):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as refused:
        _validate_action_result(None, reply)
    assert "Action server response" in refused.value.message
