"""The action server dies in the middle of a conversation (single mode): the customer
gets a Chinese apology, not silence, and the conversation goes on once it is back.

Runs its own Rasa server (`python -m kefu.server`, patches on) and action server, since
it stops and restarts the action server."""
import pytest

from kefu.action_failure import APOLOGY, FAILURE_MARK
from kefu.guard import check
from tests.rasa_process import KEFU_SERVER, Pair
from tests.test_conversation_e2e import new_sender, texts


@pytest.fixture(scope="module")
def pair(kefu_env, tmp_path_factory):
    started = Pair(kefu_env, tmp_path_factory.mktemp("action_failure"), KEFU_SERVER)
    try:
        yield started.start()
    finally:
        started.stop()


def test_apology_passes_the_guard():
    assert check(APOLOGY) == []


def test_dead_action_server_gets_an_apology_and_the_conversation_goes_on(pair):
    sender = new_sender("dead-actions")
    question = "KF20261110的工单处理到哪了，下单手机13800000010"  # the phone check passes at once
    assert "工单T" in texts(pair.servers.say(sender, question))  # the action answers

    pair.stop_actions()
    status, replies = pair.servers.post("/webhooks/rest/webhook", {"sender": sender, "message": question})
    assert status == 200
    assert texts(replies) == APOLOGY  # once, nothing else on a half-done turn

    pair.start_actions()
    again = texts(pair.servers.say(sender, question))
    assert "工单T" in again and APOLOGY not in again

    events = pair.servers.tracker(sender)["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == [question] * 3
    apologies = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get(FAILURE_MARK)]
    assert len(apologies) == 1


def test_the_server_says_which_patches_it_applied(pair):
    assert "kefu: Rasa patches applied: response_check, keep_alive" in pair.rasa_log()
    assert "action_failure" in pair.rasa_log()
