"""Run Rasa with kefu's fixes: `python -m kefu.server run --enable-api …` (same arguments as `rasa`).

Hot spots of Rasa 3.6 under load (found by sampling the server, see bench/README.md),
answered without changing what Rasa decides (tests/test_server_fixes.py):

* Action replies: `jsonschema.validate` re-checked the large schema itself and tried each
  event against all 23 event schemas of a `oneOf` (about 5 ms a call, three calls a
  turn). The event schemas differ by their constant `event` name, so an event is checked
  against its own name's schema only; anything refused goes through the full check, so a
  bad reply fails with the very error Rasa reports.
* Stored events were turned back into classes by walking every `Event` subclass, for
  every event on every turn; the class of a name is now remembered.
* The SQLite tracker store opened a connection for every read and write (SQLAlchemy 1.4
  gives file SQLite no pool), checkpointed on close and synced every commit: it now keeps
  pooled connections with kefu's write-ahead log (`kefu.store.db.use_write_ahead_log`),
  and reads only the `data` column instead of building an ORM object per event.
* Python's cycle collector walked the whole heap (TensorFlow and the model: about a
  million objects) at full collections in the middle of turns; once the model is loaded
  those objects are frozen out of its sight (`gc.freeze`).
* Emotion tracking, the slot mapping action run after every customer message, is a pure
  function of that message and the emotion slots (`kefu.emotion.tracking`): it runs here
  instead of sending the whole tracker to the action server, which keeps the same action
  for a plain `rasa run`. It was a third of the action calls.
* Every action call opened a new HTTP session and TCP connection: the endpoint now keeps
  one session with keep-alive connections and writes the request (the whole tracker)
  with ujson, a Rasa dependency, in UTF-8 rather than escapes.
* Every action call carried the whole conversation, 24 KB on average in a complaint and
  growing with every message. The form's validation reads the slots, the latest message
  and only the last turns' events (was the customer the last to speak, the previous
  intent, the previous bot reply): its tracker carries the events of its last
  `RECENT_TURNS_ONLY` customer messages. Every other action gets the whole tracker.
* Before each action it runs, Rasa copies the tracker (so that a rejected action's events
  can be dropped) by replaying every event into a new one. A logged event never changes
  and slot values are replaced, not edited, so the copy now takes the events and the
  state that replaying them would build. The form's temporary trackers (two a turn),
  built the same way, start from such a copy.
* `applied_events` (the events minus those undone: reverts, restarts, a form's repeated
  runs) walks the whole conversation, and Rasa asks for it about five times a message:
  for every prediction, and for every check of the latest message. It is a walk from the
  first event to the last, and a conversation only grows, so a tracker keeps its last
  result and walks only the events added since (again from the start when the events
  are not the ones it walked, or a form appears for the first time). On a complaint's
  last turn that was a fifth of Rasa's time.
* A button payload (`/affirm`, `/rate{"rating":"5"}`) went through the whole NLU
  pipeline (Jieba, featurizers, DIET, the intent and emotion classifiers: about 20 ms),
  and then the pipeline's last step, Rasa's RegexMessageHandler, replaced everything the
  components had said with the intent and entities written in the payload. For a payload
  of an intent the domain knows, that last step's answer is now given at once; any other
  text goes through the pipeline. A third of a complaint's messages are button presses.
* Every prediction starts from an empty copy of the tracker (`init_copy`), whose slots
  Rasa copies with `copy.copy`, about 45 a time: they are now copied as plain objects.
* Rasa deep-copies values for its debug log lines before it knows whether they will be
  written (every slot, every action's events, the rules' states): the copy is now made
  only when the debug line is written.
"""
import copy
import itertools
import logging
import sys
from collections import deque
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

    resolve_by_type.kefu_fix = True
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

        from kefu.store.db import is_sqlite_file

        parsed = make_url(url) if isinstance(url, str) else url
        if parsed.get_backend_name() != "sqlite" or not is_sqlite_file(parsed.database):
            return original(url)
        # Rasa's server uses its connections from one event loop thread; the pool only
        # hands a connection to one session at a time.
        return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False, "timeout": 15}}

    create_engine_kwargs.kefu_fix = True
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

    event_query.kefu_fix = True
    return event_query


def _freezing_after_load(original):
    async def load_agent_on_start(*args, **kwargs):
        import gc

        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()  # what exists now lives as long as the server: never scan it again
        return agent

    load_agent_on_start.kefu_fix = True
    return load_agent_on_start


def _track_emotion(tracker):
    from rasa.shared.core.events import SlotSet

    from kefu.emotion.tracking import emotion_slot_changes, tracked_since_message

    latest = tracker.latest_message
    message = {**latest.parse_data, "text": latest.text} if latest else None
    newest_first = ((e.type_name, getattr(e, "key", None)) for e in reversed(tracker.events))
    changes = emotion_slot_changes(message, tracker.get_slot, tracked_since_message(newest_first))
    return [SlotSet(name, value) for name, value in changes.items()]


SLOT_ACTIONS_IN_PROCESS = {"action_track_emotion": _track_emotion}


def _slot_actions_in_process(original):
    async def run_custom_action(self, custom_action, output_channel, nlg, tracker, domain):
        in_process = SLOT_ACTIONS_IN_PROCESS.get(custom_action)
        if in_process is None:
            return await original(self, custom_action, output_channel, nlg, tracker, domain)
        return in_process(tracker)

    run_custom_action.kefu_fix = True
    return run_custom_action


def _slot_validation_only_while_paused(original):
    """Rasa calls ``action_validate_slot_mappings`` after every customer message, with a
    full replay of the tracker first; kefu's (actions/waiting.py) only speaks while the
    conversation waits for a person, so elsewhere the call is skipped."""
    async def execute_validation_action(self, extraction_events, output_channel, nlg, tracker, domain):
        if tracker.is_paused():
            return await original(self, extraction_events, output_channel, nlg, tracker, domain)
        from rasa.shared.core.events import SlotSet
        return [event for event in extraction_events if isinstance(event, SlotSet)]

    execute_validation_action.kefu_fix = True
    return execute_validation_action


# Actions that read slots, the latest message and the events of their last N customer
# messages only (actions/complaint.py, ValidateComplaintForm).
RECENT_TURNS_ONLY = {"validate_complaint_form": 3}


def recent_events(events, turns: int) -> list:
    """The events from the action_listen before the `turns`-th last customer message on."""
    events = list(events)
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if events[index].type_name == "user":
            seen += 1
            if seen == turns:
                return events[max(index - 1, 0):]
    return events


def _recent_turns_call_format(original):
    def action_call_format(self, tracker, domain):
        turns = RECENT_TURNS_ONLY.get(self.name())
        if turns is None:
            return original(self, tracker, domain)
        import rasa

        state = tracker.current_state()  # everything but the events
        state["events"] = [event.as_dict() for event in recent_events(tracker.events, turns)]
        result = {"next_action": self.name(), "sender_id": tracker.sender_id, "tracker": state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    action_call_format.kefu_fix = True
    return action_call_format


def _shallow_copy(instance):
    """What `copy.copy` makes of a plain object, without its generic machinery."""
    twin = object.__new__(type(instance))
    twin.__dict__.update(instance.__dict__)
    return twin


def _is_plain_tracker(tracker) -> bool:
    """A DialogueStateTracker itself (not a subclass) with a domain's slots: what the fast
    copies below know how to copy."""
    from rasa.shared.core.trackers import DialogueStateTracker

    return type(tracker) is DialogueStateTracker and type(tracker.slots) is dict


def _copied_slots(tracker) -> dict:
    """The tracker's slots as Rasa's `copy.copy` of each would give them."""
    return {name: _shallow_copy(slot) for name, slot in tracker.slots.items()}


def _copied_without_replay(original):
    import dataclasses

    def copy(self):
        if not _is_plain_tracker(self):
            return original(self)  # a subclass, or a tracker without a domain's slots
        new = _shallow_copy(self)
        new.events = deque(self.events, self._max_event_history)
        new.slots = _copied_slots(self)
        new.latest_action = dict(self.latest_action) if self.latest_action is not None else None
        new.active_loop = dataclasses.replace(self.active_loop) if self.active_loop else self.active_loop
        new.sender_source = new.model_id = new.assistant_id = None  # as Rasa's copy has them
        return new

    copy.kefu_fix = True
    return copy


def _init_copy_without_copy_module(original):
    from rasa.shared.constants import DEFAULT_SENDER_ID
    from rasa.shared.core.trackers import DialogueStateTracker

    def init_copy(self):
        if not _is_plain_tracker(self):
            return original(self)
        new = DialogueStateTracker(self.sender_id or DEFAULT_SENDER_ID, None, self._max_event_history,
                                   is_rule_tracker=self.is_rule_tracker)
        new.slots = _copied_slots(self)
        new._reset_slots()
        return new

    init_copy.kefu_fix = True
    init_copy.rasas_own = original  # for tests/test_server_fixes.py
    return init_copy


def _payloads_without_the_pipeline(original):
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    last_step = f"run_{RegexMessageHandler.__name__}"
    regex_message_handler = RegexMessageHandler()

    def parse_message_with_graph(self, message, tracker, only_output_properties=True):
        text = message.text
        if isinstance(text, str) and text.startswith("/") and self.model_metadata.nlu_target == last_step:
            # The pipeline's last step alone: what it makes of a payload whatever came before it.
            [unpacked] = regex_message_handler.process([Message({TEXT: text})], self.domain)
            if unpacked.get(INTENT):
                parse_data = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                              ENTITIES: []}
                parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
                return parse_data
        return original(self, message, tracker, only_output_properties)

    parse_message_with_graph.kefu_fix = True
    parse_message_with_graph.rasas_own = original  # for tests/test_server_fixes.py
    return parse_message_with_graph


class _AppliedSoFar:
    """`applied_events` of a tracker's first `count` events, and what tells that the
    tracker still starts with those very events (Rasa only ever appends to them)."""

    __slots__ = ("count", "first", "last", "loop_names", "events")

    def __init__(self, events, loop_names: frozenset, applied: list) -> None:
        self.count = len(events)
        self.first = events[0] if events else None
        self.last = events[-1] if events else None
        self.loop_names = loop_names
        self.events = tuple(applied)

    def starts(self, events) -> bool:
        return self.count <= len(events) and (
            self.count == 0 or (events[0] is self.first and events[self.count - 1] is self.last))


def _apply_in_order(tracker, applied: list, events, loop_names: frozenset) -> None:
    """The body of Rasa 3.6's `DialogueStateTracker.applied_events` loop, step by step."""
    from rasa.shared.core.events import (ActionExecuted, ActionReverted, Restarted, SessionStarted,
                                         UserUttered, UserUtteranceReverted)

    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
              and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def _applied_events_extended(original):
    from rasa.shared.core.events import ActiveLoop
    from rasa.shared.core.trackers import DialogueStateTracker

    def applied_events(self):
        if type(self) is not DialogueStateTracker:
            return original(self)
        events = self.events
        known = self.__dict__.get("_kefu_applied")
        if known is None or not known.starts(events):
            known = _AppliedSoFar((), frozenset(), [])
        new_events = list(itertools.islice(events, known.count, None))
        loop_names = known.loop_names | {e.name for e in new_events if isinstance(e, ActiveLoop) and e.name}
        if loop_names == known.loop_names:
            applied = list(known.events)
            _apply_in_order(self, applied, new_events, loop_names)
        else:  # a loop seen for the first time changes how its earlier runs count
            applied = original(self)
        self._kefu_applied = _AppliedSoFar(events, loop_names, applied)
        return applied

    applied_events.kefu_fix = True
    applied_events.rasas_own = original  # for tests/test_server_fixes.py
    return applied_events


def _temporary_tracker_from_copy(original):
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, Restarted, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    def temporary_tracker(self, current_tracker, additional_events, domain):
        if (type(current_tracker) is not DialogueStateTracker
                or set(current_tracker.slots) != {slot.name for slot in domain.slots}
                or any(isinstance(event, Restarted) for event in current_tracker.events)):
            return original(self, current_tracker, additional_events, domain)
        temporary = current_tracker.copy()
        # the events Rasa's FormAction._temporary_tracker appends, in its order
        for event in [SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
                      ActionExecuted(self.name()), *additional_events]:
            temporary.update(event)
        return temporary

    temporary_tracker.kefu_fix = True
    temporary_tracker.rasas_own = original  # for tests/test_server_fixes.py
    return temporary_tracker


# Modules whose every `copy.deepcopy` is an argument of a `structlogger.debug(...)` call
# (tests/test_server_fixes.py holds this list to their source).
DEEPCOPY_FOR_DEBUG_ONLY = ("rasa.core.processor", "rasa.core.actions.forms", "rasa.core.policies.rule_policy")


class _CopyForDebugLines:
    """Stands in for the `copy` module in those modules: the deep copy is made only when
    the debug line it feeds will be written."""

    kefu_fix = True

    def __init__(self, module_name: str) -> None:
        self._logger = logging.getLogger(module_name)  # structlog filters by this logger's level

    def deepcopy(self, value, memo=None):
        return copy.deepcopy(value, memo) if self._logger.isEnabledFor(logging.DEBUG) else value

    def __getattr__(self, name: str):
        return getattr(copy, name)


def _copy_only_for_debug_lines() -> None:
    import importlib

    for name in DEEPCOPY_FOR_DEBUG_ONLY:
        module = importlib.import_module(name)
        if not getattr(module.copy, "kefu_fix", False):
            module.copy = _CopyForDebugLines(name)


def _replace_once(owner, name: str, make) -> None:
    """`owner.name = make(owner.name)`, unless done already (apply_fixes may run twice)."""
    current = getattr(owner, name)
    if not getattr(current, "kefu_fix", False):
        setattr(owner, name, make(current))


def apply_fixes() -> None:
    import rasa.core.run as run
    import rasa.core.tracker_store as tracker_store
    from rasa.core.actions.action import ActionExtractSlots, RemoteAction
    from rasa.core.actions.forms import FormAction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    RemoteAction._validate_action_result = _validate_action_result
    EndpointConfig.session = _kept_session
    _replace_once(Event, "resolve_by_type", _remembering_resolve_by_type)
    _replace_once(tracker_store, "create_engine_kwargs", _pooled_sqlite_engine_kwargs)
    _replace_once(tracker_store.SQLTrackerStore, "_event_query", _only_event_data)
    _replace_once(run, "load_agent_on_start", _freezing_after_load)
    _replace_once(ActionExtractSlots, "_run_custom_action", _slot_actions_in_process)
    _replace_once(ActionExtractSlots, "_execute_validation_action", _slot_validation_only_while_paused)
    _replace_once(RemoteAction, "_action_call_format", _recent_turns_call_format)
    _replace_once(DialogueStateTracker, "copy", _copied_without_replay)
    _replace_once(DialogueStateTracker, "applied_events", _applied_events_extended)
    _replace_once(DialogueStateTracker, "init_copy", _init_copy_without_copy_module)
    _replace_once(MessageProcessor, "_parse_message_with_graph", _payloads_without_the_pipeline)
    _replace_once(FormAction, "_temporary_tracker", _temporary_tracker_from_copy)
    _copy_only_for_debug_lines()
    _sqlite_tracker_store_uses_write_ahead_log()


def main() -> None:
    apply_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
