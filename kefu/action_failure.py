"""When the action server cannot be reached, the customer hears an apology, not silence.

Rasa 3.6 logs a failed custom action ("the actions events are lost") and goes on as
if it had run: the customer's message gets no answer at all. With the patch
``kefu.patches.action_failure`` (on by default, ``KEFU_RASA_PATCHES``) a custom action
that fails because its server is down, too slow or broken (connection refused, time
out, HTTP 5xx) instead

* says :data:`APOLOGY` once in that turn (a second failing action stays quiet), and
* ends the turn (``FollowupAction("action_listen")``), so nothing else runs on the
  half-done turn. The conversation is stored as it was; the customer's next message,
  once the server is back, carries on from there.

A refusal by the action server itself (HTTP 400, ``ActionExecutionRejection``) and a
missing endpoint are Rasa's business as before.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional

logger = logging.getLogger(__name__)

FAILURE_MARK = "kefu_action_failure"
APOLOGY = "抱歉，系统这会儿有点卡，您的消息没能处理好。麻烦过两分钟再发一次，我们接着往下办。"


def is_server_down(error: BaseException) -> bool:
    """True when ``error`` (what RemoteAction.run raised) means the action server
    could not answer: unreachable, timed out, or failed with a 5xx."""
    import aiohttp
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.utils.endpoints import ClientResponseError

    if isinstance(error, ActionExecutionRejection):
        return False
    seen: List[BaseException] = []
    current: Optional[BaseException] = error
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, ClientResponseError):
            return current.status >= 500
        if isinstance(current, (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)):
            return True
        current = current.__cause__ or current.__context__
    return False


def apologised_this_turn(tracker: Any) -> bool:
    """Whether an apology for a failed action was already said since the customer's
    latest message."""
    for event in reversed(tracker.events):
        if event.type_name == "user":
            return False
        if event.type_name == "bot" and (event.metadata or {}).get(FAILURE_MARK):
            return True
    return False


def failure_events(action_name: str, tracker: Any) -> list:
    """What a failed action returns instead of raising: the apology once, then listen."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import BotUttered, FollowupAction

    events: list = []
    if not apologised_this_turn(tracker):
        events.append(BotUttered(APOLOGY, metadata={FAILURE_MARK: action_name}))
    return events + [FollowupAction(ACTION_LISTEN_NAME)]
