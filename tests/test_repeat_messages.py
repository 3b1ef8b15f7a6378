"""A message resent with the same client id is answered again, never handled twice
(kefu.patches.repeat_messages, kefu.channels.rest). The fault test (test_cluster_faults.py)
resends this way through the balancer."""
import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from kefu.channels import public_input
from kefu.channels.rest import MESSAGE_ID_KEY
from kefu.patches.repeat_messages import _answer_repeats, _refuse_repeats, earlier_replies

EVENTS = [
    UserUttered("快递没到", message_id="m1"),
    ActionExecuted("complaint_form"),
    BotUttered("很抱歉让您久等了。", {"buttons": [{"title": "转人工", "payload": "/request_human"}]}),
    BotUttered("订单号方便发一下吗？"),
    UserUttered("KF20261102", message_id="m2"),
    BotUttered("收到，正在查。"),
]


def test_earlier_replies_are_the_bot_messages_after_that_message_only():
    first = earlier_replies(EVENTS, "m1")
    assert first == [{"text": "很抱歉让您久等了。", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
                     {"text": "订单号方便发一下吗？"}]
    assert earlier_replies(EVENTS, "m2") == [{"text": "收到，正在查。"}]
    assert earlier_replies(EVENTS, "m3") is None
    assert earlier_replies([UserUttered("在吗", message_id="m4")], "m4") == []  # arrived, no reply yet


class Processor:
    """Rasa's MessageProcessor in miniature: handle_message fetches the conversation and
    hands it to _handle_message_with_tracker, then answers and stores."""

    def __init__(self, store):
        self.tracker_store = store
        self.handled = []

    async def handle_message(self, message):
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        await self._handle_message_with_tracker(message, tracker)
        await message.output_channel.send_response(message.sender_id, {"text": "新的回复"})
        await self.tracker_store.save(tracker)
        return message.output_channel.messages

    async def _handle_message_with_tracker(self, message, tracker):
        self.handled.append(message.text)
        tracker.update(UserUttered(message.text, message_id=message.message_id))


def patched(processor):
    refuse = _refuse_repeats(Processor._handle_message_with_tracker)
    processor._handle_message_with_tracker = lambda message, tracker: refuse(processor, message, tracker)
    return lambda message: _answer_repeats(Processor.handle_message)(processor, message)


@pytest.mark.parametrize("message_id, metadata_id, expected_texts, handled", [
    ("m1", "m1", ["很抱歉让您久等了。", "订单号方便发一下吗？"], []),   # resent: answered again
    ("m9", "m9", ["新的回复"], ["快递没到"]),                           # a new id: handled
    ("m1", None, ["新的回复"], ["快递没到"]),                           # no client id (plain Rasa's uuid)
])
def test_a_resent_message_is_answered_again_and_not_handled(message_id, metadata_id, expected_texts, handled):
    store = InMemoryTrackerStore(Domain.empty())
    tracker = DialogueStateTracker.from_events("c-1", EVENTS)
    asyncio.run(store.save(tracker))
    processor = Processor(store)
    metadata = {MESSAGE_ID_KEY: metadata_id} if metadata_id else {}
    message = UserMessage("快递没到", CollectingOutputChannel(), "c-1", metadata=metadata, message_id=message_id)
    replies = asyncio.run(patched(processor)(message))
    assert [reply["text"] for reply in replies] == expected_texts
    assert all(reply["recipient_id"] == "c-1" for reply in replies)
    assert processor.handled == handled
    stored = asyncio.run(store.retrieve("c-1"))
    assert len(stored.events) == len(tracker.events) + len(handled)  # a replay stores nothing


def test_a_new_conversation_is_handled():
    processor = Processor(InMemoryTrackerStore(Domain.empty()))
    message = UserMessage("你好", CollectingOutputChannel(), "c-new", metadata={MESSAGE_ID_KEY: "m1"}, message_id="m1")
    asyncio.run(patched(processor)(message))
    assert processor.handled == ["你好"]
    again = UserMessage("你好", CollectingOutputChannel(), "c-new", metadata={MESSAGE_ID_KEY: "m1"}, message_id="m1")
    assert [reply["text"] for reply in asyncio.run(patched(processor)(again))] == []  # arrived, no bot line stored
    assert processor.handled == ["你好"]


@pytest.mark.parametrize("value, expected", [(None, None), ("abc-123_X", "abc-123_X"), ("a" * 64, "a" * 64)])
def test_message_ids_that_are_accepted(value, expected):
    assert public_input.message_id(value) == expected


@pytest.mark.parametrize("value", ["", "a" * 65, "带中文", "a b", 12, ["m1"], {"id": 1}])
def test_malformed_message_ids_are_a_400_with_a_chinese_line(value):
    with pytest.raises(public_input.Refused) as refused:
        public_input.message_id(value)
    assert refused.value.status == 400
    assert "消息编号" in refused.value.as_dict()["message"]
