"""kefu's one way to reach Rasa's HTTP server: the URL, token and timeout come from
:mod:`kefu.settings`; every failure becomes a :class:`RasaError` whose message says what
went wrong and never contains the token.

Two faces of the same client: :class:`RasaClient` (blocking, ``requests``) for the
commands, replay and the web chat; :class:`AsyncRasaClient` (``aiohttp``) for the desk.
They share the paths and the error rules below, so both behave alike.

    RasaClient().say("some-id", "你好")          # the REST channel, as a customer
    RasaClient().tracker("some-id")              # token-protected API
    await AsyncRasaClient().execute("some-id", "action_handoff_relay", output_channel="latest")
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from kefu.settings import settings

REST_WEBHOOK = "/webhooks/rest/webhook"


class RasaError(RuntimeError):
    """Rasa could not be used; the message says why (without the token)."""


class RasaUnreachable(RasaError):
    """No answer: the server is down, the URL is wrong, or it timed out."""


class RasaRefused(RasaError):
    """401/403: the API token is missing or wrong."""


class RasaNotFound(RasaError):
    """404: no such conversation or path."""


class RasaBadAnswer(RasaError):
    """Any other error status, or an answer that is not JSON."""


class _Base:
    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None,
                 timeout: Optional[float] = None):
        current = settings()
        self.base_url = (base_url or current.rasa_url).rstrip("/")
        self.token = current.token if token is None else token
        self.timeout = timeout or current.rasa_timeout

    # --- requests as (method, path, query, body) --------------------------------------------

    @staticmethod
    def _say(sender_id: str, text: str, metadata: Optional[Dict[str, Any]] = None):
        body = {"sender": sender_id, "message": text}
        if metadata:
            body["metadata"] = metadata
        return "POST", REST_WEBHOOK, {}, body

    def _tracker(self, sender_id: str, include_events: Optional[str] = None):
        query = {"include_events": include_events} if include_events else {}
        return "GET", _conversation(sender_id, "tracker"), self._with_token(query), None

    def _execute(self, sender_id: str, action: str, output_channel: Optional[str] = None):
        query = {"output_channel": output_channel} if output_channel else {}
        return "POST", _conversation(sender_id, "execute"), self._with_token(query), {"name": action}

    def _with_token(self, query: Dict[str, str]) -> Dict[str, str]:
        return {**query, "token": self.token} if self.token else query

    # --- answers --------------------------------------------------------------------------

    def _unreachable(self, error: BaseException) -> RasaUnreachable:
        kind = "timed out" if "timeout" in type(error).__name__.lower() else type(error).__name__
        return RasaUnreachable(f"Rasa is not reachable at {self.base_url} ({kind}); is it running? "
                               f"(set KEFU_RASA_URL)")

    def _answer(self, status: int, text: str, path: str) -> Any:
        detail = text[:200].replace(self.token, "***") if self.token else text[:200]
        if status in (401, 403):
            raise RasaRefused(f"Rasa at {self.base_url} refused the API token ({status}): "
                              "set KEFU_TOKEN or .kefu/token to Rasa's --auth-token")
        if status == 404:
            raise RasaNotFound(f"Rasa at {self.base_url} has no {path.split('?')[0]} (404)")
        if status >= 400:
            raise RasaBadAnswer(f"Rasa at {self.base_url} answered {status}: {detail}")
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            raise RasaBadAnswer(f"Rasa at {self.base_url} did not answer with JSON: {detail!r}") from None


def _conversation(sender_id: str, tail: str) -> str:
    return f"/conversations/{quote(sender_id, safe='')}/{tail}"


class RasaClient(_Base):
    """Blocking calls; one keep-alive session per client."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        import requests

        self._http = requests.Session()

    def close(self) -> None:
        self._http.close()

    def say(self, sender_id: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        return self._call(*self._say(sender_id, text, metadata)) or []

    def tracker(self, sender_id: str, include_events: Optional[str] = None) -> Dict[str, Any]:
        return self._call(*self._tracker(sender_id, include_events)) or {}

    def events(self, sender_id: str) -> List[Dict[str, Any]]:
        return self.tracker(sender_id, "ALL").get("events") or []

    def execute(self, sender_id: str, action: str, output_channel: Optional[str] = None) -> Dict[str, Any]:
        return self._call(*self._execute(sender_id, action, output_channel)) or {}

    def _call(self, method: str, path: str, query: Dict[str, str], body: Any) -> Any:
        import requests

        try:
            response = self._http.request(method, self.base_url + path, params=query, json=body,
                                          timeout=self.timeout)
        except requests.RequestException as error:
            raise self._unreachable(error) from None
        return self._answer(response.status_code, response.text, path)


class AsyncRasaClient(_Base):
    """The same calls for an asyncio program; ``await close()`` when done."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._session = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self):
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def say(self, sender_id: str, text: str, metadata: Optional[Dict[str, Any]] = None):
        return await self._call(*self._say(sender_id, text, metadata)) or []

    async def tracker(self, sender_id: str, include_events: Optional[str] = None) -> Dict[str, Any]:
        return await self._call(*self._tracker(sender_id, include_events)) or {}

    async def events(self, sender_id: str) -> List[Dict[str, Any]]:
        return (await self.tracker(sender_id, "ALL")).get("events") or []

    async def execute(self, sender_id: str, action: str, output_channel: Optional[str] = None):
        return await self._call(*self._execute(sender_id, action, output_channel)) or {}

    async def _call(self, method: str, path: str, query: Dict[str, str], body: Any) -> Any:
        import asyncio

        import aiohttp

        try:
            async with self._http().request(method, self.base_url + path, params=query,
                                            json=body) as response:
                status, text = response.status, await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise self._unreachable(error) from None
        return self._answer(status, text, path)

