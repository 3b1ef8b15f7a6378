"""A customer message sent again with the same client id is answered, not handled twice.

A client that lost the connection after sending cannot know whether the message
arrived; it sends it again with the same ``message_id`` (kefu.channels.rest). Inside the
conversation's lock (Rasa's ``Agent.handle_message`` holds it around the processor), a
message whose id the conversation already holds gets the bot's replies to it again, and
nothing is stored or predicted a second time.
"""
import logging
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered, UserUttered

from kefu.channels.rest import MESSAGE_ID_KEY
from kefu.patches.base import Patch, Replacement

logger = logging.getLogger(__name__)


def earlier_replies(events, message_id: str) -> Optional[List[Dict[str, Any]]]:
    """The bot's messages after the customer message ``message_id``, or None if it is new."""
    events = list(events)
    for position in range(len(events) - 1, -1, -1):
        event = events[position]
        if isinstance(event, UserUttered) and event.message_id == message_id:
            replies = []
            for later in events[position + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append({"text": later.text, **{k: v for k, v in (later.data or {}).items() if v}})
            return replies
    return None


class _Repeated(Exception):
    """The message is one the conversation already holds; ``replies`` were its answers."""

    def __init__(self, replies: List[Dict[str, Any]]) -> None:
        super().__init__("message already handled")
        self.replies = replies


def _refuse_repeats(original):
    # Runs on the tracker the processor just fetched (inside the lock, from kefu's
    # tracker cache), before the message is added to it: nothing is read twice.
    async def handle_message_with_tracker(self, message, tracker):
        client_id = (message.metadata or {}).get(MESSAGE_ID_KEY)
        replies = earlier_replies(tracker.events, client_id) if client_id else None
        if replies is not None:
            raise _Repeated(replies)
        return await original(self, message, tracker)

    handle_message_with_tracker.kefu_fix = True
    return handle_message_with_tracker


def _answer_repeats(original):
    async def handle_message(self, message):
        try:
            return await original(self, message)
        except _Repeated as repeated:  # nothing was predicted or stored
            logger.info("message %s of %s came again: its replies are sent again",
                        (message.metadata or {}).get(MESSAGE_ID_KEY), message.sender_id)
            for reply in repeated.replies:
                await message.output_channel.send_response(message.sender_id, dict(reply))
            if isinstance(message.output_channel, CollectingOutputChannel):
                return message.output_channel.messages
            return None

    handle_message.kefu_fix = True
    return handle_message


PATCH = Patch(
    Replacement("rasa.core.processor:MessageProcessor", "_handle_message_with_tracker", _refuse_repeats),
    Replacement("rasa.core.processor:MessageProcessor", "handle_message", _answer_repeats),
)
apply, revert = PATCH.apply, PATCH.revert
