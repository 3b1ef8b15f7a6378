"""Run Rasa with kefu's fixes: `python -m kefu.server run --enable-api …` (same arguments as `rasa`).

Two hot spots of Rasa 3.6, found by `bench/profile_turn.py`, answered without changing
what Rasa decides:

* Every action server reply is checked with `jsonschema.validate`, which re-checks the
  large schema itself and then tries each event against all 23 event schemas of a
  `oneOf` (about 5 ms a call, three calls a turn). The event schemas differ by the
  constant `event` name, so an event can only ever match the schemas of its own name:
  checking just those gives the same verdict. Anything the quick check refuses goes
  through the full check, so a bad reply fails with the very error Rasa reports.
* Each stored event is turned back into its class by walking every `Event` subclass
  (`resolve_by_type`) — on every turn, for every event of the conversation. The class of
  a name does not change once found, so it is remembered.

And the SQLite tracker store opened and closed a database connection for every read and
write (SQLAlchemy 1.4 gives file SQLite no pool), closing meant a checkpoint, and every
commit an fsync: it now keeps its connections in a pool and uses the same write-ahead log
as kefu's own store (`kefu.store.db.use_write_ahead_log`). Reading a conversation built an
ORM object per stored event only to read its `data` column; it now reads just that column.

Python's cycle collector walked the whole heap (TensorFlow and the model: about a
million objects) at every full collection, in the middle of turns; once the model is
loaded those objects are frozen out of its sight (`gc.freeze`).

Rasa also opened a new HTTP session, so a new TCP connection, for every action call;
the action endpoint now keeps one session with keep-alive connections, and writes the
request (the whole tracker) with ujson, a Rasa dependency, in UTF-8 rather than escapes.
"""
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _response_validator():
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@lru_cache(maxsize=1)
def _quick_checks():
    """(reply without its events' details, what every event needs, event name → its schemas)."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    event_schema = schema["properties"]["events"]["items"]
    by_name = {}
    for branch in event_schema["oneOf"]:
        name = branch.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str):
            return None  # a schema without a fixed name could match anything: no shortcut
        by_name.setdefault(name, []).append(validator_class(branch))
    reply_schema = {**schema, "properties": {**schema["properties"],
                                             "events": {"type": "array", "items": {"type": "object"}}}}
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    return validator_class(reply_schema), validator_class(common), by_name


def _passes_quick_check(result) -> bool:
    checks = _quick_checks()
    if checks is None:
        return False
    reply, common, by_name = checks
    if not reply.is_valid(result):
        return False
    events = result.get("events") if isinstance(result, dict) else None
    for event in events or []:
        if not common.is_valid(event):
            return False
        matches = [branch for branch in by_name.get(event["event"], []) if branch.is_valid(event)]
        if len(matches) != 1:  # `oneOf`: exactly one
            return False
    return True


def _validate_action_result(self, result) -> bool:
    from jsonschema.exceptions import best_match

    if _passes_quick_check(result):
        return True
    error = best_match(_response_validator().iter_errors(result))
    if error is not None:
        error.message += (". Failed to validate Action server response from API, make sure your "
                          "response from the Action endpoint is valid.")
        raise error
    return True


def _remembering_resolve_by_type(original):
    known = {}

    def resolve_by_type(type_name, default=None):
        found = known.get(type_name)
        if found is None:
            found = original(type_name, default)  # unknown names: Rasa's own default or error
            if found is not None and found is not default:
                known[type_name] = found
        return found

    resolve_by_type.kefu_remembers = True
    return staticmethod(resolve_by_type)


def _write_ahead_log_for_sqlite(dbapi_connection, _record) -> None:
    import sqlite3

    from kefu.store.db import use_write_ahead_log

    if isinstance(dbapi_connection, sqlite3.Connection):
        use_write_ahead_log(dbapi_connection)


def _sqlite_tracker_store_uses_write_ahead_log() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _write_ahead_log_for_sqlite):
        event.listen(Engine, "connect", _write_ahead_log_for_sqlite)


def _pooled_sqlite_engine_kwargs(original):
    def create_engine_kwargs(url):
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import QueuePool

        parsed = make_url(url) if isinstance(url, str) else url
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return original(url)
        # Rasa's server uses its connections from one event loop thread; the pool only
        # hands a connection to one session at a time.
        return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False, "timeout": 15}}

    create_engine_kwargs.kefu_pools = True
    return create_engine_kwargs


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


def _only_event_data(original):
    def event_query(self, session, sender_id, fetch_events_from_all_sessions):
        query = original(self, session, sender_id, fetch_events_from_all_sessions)
        return query.with_entities(self.SQLEvent.data)  # rows with `.data`, same order and count

    event_query.kefu_lean = True
    return event_query


def _freezing_after_load(original):
    async def load_agent_on_start(*args, **kwargs):
        import gc

        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()  # what exists now lives as long as the server: never scan it again
        return agent

    load_agent_on_start.kefu_freezes = True
    return load_agent_on_start


def apply_fixes() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    import rasa.core.run as run
    import rasa.core.tracker_store as tracker_store
    from rasa.utils.endpoints import EndpointConfig

    _sqlite_tracker_store_uses_write_ahead_log()
    if not getattr(tracker_store.create_engine_kwargs, "kefu_pools", False):
        tracker_store.create_engine_kwargs = _pooled_sqlite_engine_kwargs(tracker_store.create_engine_kwargs)
    EndpointConfig.session = _kept_session
    if not getattr(run.load_agent_on_start, "kefu_freezes", False):
        run.load_agent_on_start = _freezing_after_load(run.load_agent_on_start)
    sql_store = tracker_store.SQLTrackerStore
    if not getattr(sql_store._event_query, "kefu_lean", False):
        sql_store._event_query = _only_event_data(sql_store._event_query)

    RemoteAction._validate_action_result = _validate_action_result
    if not getattr(Event.resolve_by_type, "kefu_remembers", False):
        Event.resolve_by_type = _remembering_resolve_by_type(Event.resolve_by_type)


def main() -> None:
    apply_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
