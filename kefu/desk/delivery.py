"""Getting an agent's reply to the customer, and the bot back when a case is resolved.

The reply is stored first (``agent_messages``, status pending); then Rasa runs
``action_handoff_relay`` in the conversation, which utters every pending reply: the
tracker keeps it as a bot event marked as the agent's, and Rasa sends it through the
customer's latest channel (socket.io and WeChat live; REST clients poll the desk's
``/customer/{sender}/messages``).  Replies Rasa could not take stay pending and are
retried, so a restart of any process loses none.
"""

from __future__ import annotations

import asyncio
import logging

from kefu.desk.rasa_api import RasaApi, RasaUnavailable
from kefu.handoff import escalations

logger = logging.getLogger(__name__)
RELAY_ACTION = "action_handoff_relay"
RESUME_ACTION = "action_handoff_resume"
RETRY_SECONDS = 5.0


async def deliver(rasa: RasaApi, sender_id: str) -> bool:
    """Relay the conversation's pending replies; False (and kept pending) when Rasa fails."""
    try:
        await rasa.execute(sender_id, RELAY_ACTION)
        return True
    except RasaUnavailable as error:
        logger.warning("reply to %s not delivered yet: %s", sender_id, error)
        await asyncio.to_thread(escalations.note_delivery_failure, sender_id, str(error))
        return False


async def resume_bot(rasa: RasaApi, sender_id: str) -> None:
    """Hand the conversation back: Rasa resumes it and the bot asks for a rating."""
    await rasa.execute(sender_id, RESUME_ACTION)


async def retry_pending(rasa: RasaApi) -> None:
    """Forever: deliver replies that are still pending (Rasa was down, or the desk)."""
    while True:
        try:
            for sender_id in await asyncio.to_thread(escalations.conversations_with_pending_messages):
                await deliver(rasa, sender_id)
        except Exception:  # keep retrying whatever one round met
            logger.exception("retrying pending replies failed")
        await asyncio.sleep(RETRY_SECONDS)
