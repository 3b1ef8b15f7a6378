"""Every action call opened a new HTTP session and TCP connection: the endpoint now keeps
one session with keep-alive connections and writes the request (the whole tracker) with
ujson, a Rasa dependency, in UTF-8 rather than escapes."""
from kefu.patches.base import Patch, Replacement

# Shorter than the action server's own keep-alive (Sanic's default, 5 s), so Rasa never
# sends on a connection the server is just closing.
KEEP_ALIVE_SECONDS = 2

def _request_json(value) -> str:
    import json

    import ujson

    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except (TypeError, ValueError, OverflowError):  # e.g. NaN: let json decide, as before
        return json.dumps(value)

class _KeptOpen:
    """`async with` over a session that stays open for the next request."""

    def __init__(self, session):
        self.session = session

    async def __aenter__(self):
        return self.session

    async def __aexit__(self, *exc) -> bool:
        return False

def _kept_session(self):
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    kept = getattr(self, "_kefu_session", None)
    if kept is None or kept[0] is not loop or kept[1].closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) \
            if self.basic_auth else None
        session = aiohttp.ClientSession(
            headers=self.headers, auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            json_serialize=_request_json, connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS))
        self._kefu_session = kept = (loop, session)
    return _KeptOpen(kept[1])


PATCH = Patch(Replacement("rasa.utils.endpoints:EndpointConfig", "session", lambda _rasas: _kept_session))
apply, revert = PATCH.apply, PATCH.revert
