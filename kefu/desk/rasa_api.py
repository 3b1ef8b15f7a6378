"""The desk's calls to Rasa's HTTP API (token-protected): read a conversation, run an
action in it.  Agent replies and the resume go through actions, so they land in the
tracker and in the customer's channel (``output_channel=latest``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RASA_URL = "http://localhost:5005"
TIMEOUT = aiohttp.ClientTimeout(total=30)


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with an error; the message says which."""


def api_token() -> str:
    token = os.environ.get("KEFU_TOKEN", "").strip()
    if not token:
        home = Path(os.environ.get("KEFU_HOME") or PROJECT_ROOT / ".kefu")
        try:
            token = (home / "token").read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
    return token


class RasaApi:
    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None):
        self.base_url = (base_url or os.environ.get("KEFU_RASA_URL") or DEFAULT_RASA_URL).rstrip("/")
        self.token = token if token is not None else api_token()
        self._session: Optional[aiohttp.ClientSession] = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    def _url(self, sender_id: str, tail: str) -> str:
        return f"{self.base_url}/conversations/{quote(sender_id, safe='')}/{tail}"

    async def tracker(self, sender_id: str) -> Dict[str, Any]:
        return await self._call("GET", self._url(sender_id, "tracker"))

    async def tracker_state(self, sender_id: str) -> Dict[str, Any]:
        """The tracker without its events: small, for "anything new?" checks."""
        return await self._call("GET", self._url(sender_id, "tracker"), include_events="NONE")

    async def execute(self, sender_id: str, action: str) -> Dict[str, Any]:
        """Run ``action`` in the conversation; its messages go to the customer's channel."""
        return await self._call("POST", self._url(sender_id, "execute"),
                                json={"name": action}, output_channel="latest")

    async def _call(self, method: str, url: str, json: Any = None, **params: str) -> Dict[str, Any]:
        params = {**params, "token": self.token}
        try:
            async with self._http().request(method, url, json=json, params=params) as response:
                if response.status >= 400:
                    detail = (await response.text())[:300]
                    raise RasaUnavailable(f"Rasa answered {response.status}: {detail}")
                return await response.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RasaUnavailable(f"Rasa is not reachable at {self.base_url}: {error}") from error
