"""The bot without kefu's patches: plain `rasa run` (and `python -m kefu.server` with
KEFU_RASA_PATCHES=off) with the same model, action server and credentials.

The patches must only make Rasa faster (and apologise for a dead action server): the
complete complaints of tests/test_conversation_e2e.py must pass without them too. The
stories already run on plain Rasa: `make test-stories` is `rasa test core`, which never
loads kefu.patches, so they are not run a second time here."""
import pytest

from tests import test_conversation_e2e as e2e
from tests.rasa_process import KEFU_SERVER, PLAIN_RASA, Pair

SERVERS = {"rasa run": (PLAIN_RASA, {}), "patches off": (KEFU_SERVER, {"KEFU_RASA_PATCHES": "off"})}


@pytest.fixture(scope="module", params=list(SERVERS))
def plain(request, kefu_env, tmp_path_factory):
    command, extra = SERVERS[request.param]
    pair = Pair(kefu_env, tmp_path_factory.mktemp("plain"), command, extra)
    try:
        yield pair.start()
    finally:
        pair.stop()


def test_no_patch_is_applied(plain):
    if plain.rasa_command is PLAIN_RASA:
        assert "kefu: Rasa patches applied" not in plain.rasa_log()
    else:
        assert "kefu: Rasa patches applied: none" in plain.rasa_log()


@pytest.mark.parametrize("category,messages", e2e.COMPLAINTS, ids=[c for c, _ in e2e.COMPLAINTS])
def test_complete_complaint_without_patches(plain, kefu_env, category, messages):
    e2e.test_complete_complaint_walks_the_six_steps_to_a_ticket(plain.servers, kefu_env, category, messages)


def test_every_message_and_reply_is_stored_once_without_patches(plain):
    e2e.test_every_message_and_reply_is_stored_once(plain.servers)
