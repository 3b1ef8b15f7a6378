"""The desk's calls to Rasa's HTTP API (token-protected): read a conversation, run an
action in it.  Agent replies and the resume go through actions, so they land in the
tracker and in the customer's channel (``output_channel=latest``).

A thin face of kefu's one Rasa client (:mod:`kefu.rasa_client`): URL, token, timeout
and errors are configured and handled there.
"""

from __future__ import annotations

from typing import Any, Dict

from kefu.rasa_client import AsyncRasaClient, RasaError
from kefu.settings import DEFAULT_RASA_URL, settings  # noqa: F401 (kept for importers)

RasaUnavailable = RasaError  # the desk's name for any failure of Rasa


def api_token() -> str:
    return settings().token


class RasaApi(AsyncRasaClient):
    async def tracker_state(self, sender_id: str) -> Dict[str, Any]:
        """The tracker without its events: small, for "anything new?" checks."""
        return await self.tracker(sender_id, include_events="NONE")

    async def execute(self, sender_id: str, action: str, output_channel: str = "latest") -> Dict[str, Any]:
        """Run ``action`` in the conversation; its messages go to the customer's channel."""
        return await super().execute(sender_id, action, output_channel)
