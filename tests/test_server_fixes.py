"""kefu.server's compiled validator judges action server replies exactly as Rasa does."""
import asyncio

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from kefu.patches.response_check import _validate_action_result

GOOD = {"events": [{"event": "slot", "name": "order_id", "value": "KF20261101"}],
        "responses": [{"text": "好的"}]}
BAD = [{"events": "not a list"}, {"events": [{"event": "slot", "value": 1}]}, {"responses": {"text": 1}}]


def test_a_valid_reply_passes_like_jsonschema_validate():
    jsonschema.validate(GOOD, RemoteAction.action_response_format_spec())
    assert _validate_action_result(None, GOOD) is True


@pytest.mark.parametrize("reply", BAD)
def test_an_invalid_reply_is_refused_like_jsonschema_validate(reply):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as refused:
        _validate_action_result(None, reply)
    assert "Action server response" in refused.value.message


def _real_replies():
    """Replies shaped like the action server's: every kind of event the actions send."""
    yield {"events": [], "responses": []}
    yield {"events": [{"event": "slot", "name": "emotion_history", "value": [{"label": "angry"}],
                       "timestamp": None},
                      {"event": "active_loop", "name": None},
                      {"event": "bot", "text": "好的", "data": {}, "metadata": {"utter_action": "x"}},
                      {"event": "followup", "name": "action_handoff"},
                      {"event": "pause"}, {"event": "resume"}, {"event": "restart"},
                      {"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet"}}},
                      {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0}],
           "responses": [{"text": "好的", "buttons": [{"title": "换货", "payload": "/x"}]}]}


@pytest.mark.parametrize("reply", list(_real_replies()) + BAD + [
    {"events": [{"event": "nonsense"}]},
    {"events": [{"event": "slot", "name": 3, "value": 1}]},
    {"events": [{"event": "user", "text": 5}]},
    {"events": [{"name": "no event name"}]},
    {"events": [{"event": "bot", "timestamp": "yesterday"}]},
    {"events": [["not", "an", "object"]]},
])
def test_the_quick_check_gives_rasas_verdict(reply):
    from kefu.patches.response_check import _passes_quick_check

    spec = RemoteAction.action_response_format_spec()
    rasa_says_valid = jsonschema.validators.validator_for(spec)(spec).is_valid(reply)
    assert _passes_quick_check(reply) == rasa_says_valid


def test_events_are_still_rebuilt_by_name_and_unknown_names_still_fail():
    from rasa.shared.core.events import ActiveLoop, Event, SlotSet

    from kefu.server import apply_fixes

    apply_fixes()
    apply_fixes()  # twice is harmless
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("active_loop") is ActiveLoop
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nonsense", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("nonsense")
    assert Event.from_parameters({"event": "slot", "name": "a", "value": 1}) == SlotSet("a", 1)


def test_sqlite_tracker_stores_write_ahead(tmp_path):
    import sqlalchemy as sa

    from kefu.server import apply_fixes

    apply_fixes()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


def test_the_sqlite_tracker_store_keeps_its_connections(tmp_path):
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.pool import QueuePool

    from kefu.server import apply_fixes

    apply_fixes()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert isinstance(store.engine.pool, QueuePool)
    tracker = DialogueStateTracker("pooled", [])

    async def talk():
        for turn in range(3):
            tracker.update(UserUttered(f"第{turn}句"))
            tracker.update(SlotSet("requested_slot", f"s{turn}"))
            await store.save(tracker)
        return await store.retrieve("pooled")

    again = asyncio.run(talk())
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in tracker.events]
    with store.engine.connect() as connection:  # every event stored once
        assert connection.exec_driver_sql("select count(*) from events").scalar() == 6

    tracker.update(SessionStarted())
    tracker.update(UserUttered("新的一次"))
    latest = asyncio.run(store.save(tracker)) or asyncio.run(store.retrieve("pooled"))
    assert [e.as_dict() for e in latest.events] == [e.as_dict() for e in list(tracker.events)[-2:]]
    assert store.engine.pool.checkedout() == 0  # every session gave its connection back


def test_action_calls_reuse_one_connection():
    import asyncio

    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    from kefu.server import apply_fixes

    apply_fixes()
    peers = []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": [], "got": await request.json()})

    async def scenario():
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="t")
        try:
            answers = [await endpoint.request(json={"n": n}, method="post") for n in range(3)]
        finally:
            await endpoint._kefu_session[1].close()
            await runner.cleanup()
        return answers

    answers = asyncio.run(scenario())
    assert [a["got"]["n"] for a in answers] == [0, 1, 2]
    assert len(set(peers)) == 1  # one keep-alive connection for all three calls


@pytest.mark.parametrize("value", [
    {"tracker": {"events": [{"event": "user", "text": "盖子裂了😡 a/b \"quoted\"", "timestamp": 1795586911.764087}]}},
    {"nan": float("nan")},
])
def test_action_requests_are_the_same_json(value):
    import json
    import math

    from kefu.patches.keep_alive import _request_json

    again = json.loads(_request_json(value))
    if "nan" in value:
        assert math.isnan(again["nan"])
    else:
        assert again == value


EMOTIONS_IN_A_ROW = [("neutral", 0.1, []), ("anxious", 0.4, []), ("angry", 0.6, ["exclaim"]),
                     ("angry", 0.85, ["threat"]), ("angry", 0.85, ["threat"]), ("satisfied", 0.3, [])]


def test_emotion_tracking_in_rasa_sets_what_the_action_server_would(monkeypatch):
    """The in-process slot action and actions/emotion.py, message by message, give the same slots."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
    from rasa.utils.endpoints import EndpointConfig
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.emotion import TrackEmotion
    from kefu.server import apply_fixes

    async def remote_call_is_not_made(*args, **kwargs):
        raise AssertionError("action_track_emotion was sent to the action server")

    apply_fixes()
    monkeypatch.setattr(RemoteAction, "run", remote_call_is_not_made)
    domain = Domain.load("domain.yml")
    tracker = DialogueStateTracker.from_events("t-emotion", [ActionExecuted("action_listen")], domain.slots)
    extract = ActionExtractSlots(EndpointConfig("http://127.0.0.1:9/webhook"))
    button = ("/affirm", {"label": "neutral", "intensity": 0.0, "signals": []})
    for text, emotion in [(f"第{i}条消息", {"label": label, "intensity": intensity, "signals": signals})
                          for i, (label, intensity, signals) in enumerate(EMOTIONS_IN_A_ROW)] + [button]:
        tracker.update(UserUttered(text, {"name": "inform", "confidence": 0.9},
                                   parse_data={"text": text, "intent": {"name": "inform"}, "emotion": emotion}))
        sdk_tracker = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
        expected = asyncio.run(TrackEmotion().run(CollectingDispatcher(), sdk_tracker, {}))
        events = asyncio.run(extract.run(None, None, tracker, domain))
        assert all(isinstance(event, SlotSet) for event in events)
        assert {e.key: e.value for e in events} == {e["name"]: e["value"] for e in expected}
        tracker.update_with_events(events, domain)
        # a form opened by this message extracts again: the message still counts once
        assert asyncio.run(extract.run(None, None, tracker, domain)) == []
        sdk_tracker = Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))
        assert asyncio.run(TrackEmotion().run(CollectingDispatcher(), sdk_tracker, {})) == []
    assert tracker.get_slot("needs_human") is True  # the run above did reach the interesting states
    assert len(tracker.get_slot("emotion_history")) == len(EMOTIONS_IN_A_ROW)  # the button added none


def test_the_validation_gets_its_last_turns_and_other_actions_the_whole_tracker():
    """What the form's validation reads is the same in both trackers (actions/complaint.py)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
    from rasa.utils.endpoints import EndpointConfig
    from rasa_sdk import Tracker

    from actions.complaint import answers_customer
    from actions.handoff import previous_intent
    from actions.reply import guard_context
    from kefu.server import apply_fixes

    apply_fixes()
    domain = Domain.load("domain.yml")
    events = [ActionExecuted("action_listen")]
    for turn in range(8):
        events += [UserUttered(f"第{turn}句", {"name": "inform" if turn % 2 else "complain_quality"},
                               input_channel="rest"),
                   ActionExecuted("complaint_form"), SlotSet("complaint_step", "probe"),
                   BotUttered(f"回复{turn}"), ActionExecuted("action_listen")]
    events += [UserUttered("最后一句", {"name": "deny"}, input_channel="rest"), ActionExecuted("complaint_form")]
    tracker = DialogueStateTracker.from_events("t-recent", events, domain.slots)
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook", enable_selective_domain=True)  # as endpoints.yml

    sent = RemoteAction("validate_complaint_form", endpoint)._action_call_format(tracker, domain)
    whole = tracker.current_state(EventVerbosity.ALL)
    assert set(sent["tracker"]) == set(whole)
    assert {k: v for k, v in sent["tracker"].items() if k != "events"} == {
        k: v for k, v in whole.items() if k != "events"}
    assert sent["tracker"]["events"] == whole["events"][-13:]  # listen + 3 customer messages on
    assert sent["tracker"]["events"][0]["name"] == "action_listen"
    assert "domain" not in sent  # send_domain: false in domain.yml

    recent, full = Tracker.from_dict(sent["tracker"]), Tracker.from_dict(whole)
    assert answers_customer(recent) is answers_customer(full) is True
    assert previous_intent(recent) == previous_intent(full) == "inform"  # turn 7
    recent_context, full_context = guard_context(recent), guard_context(full)
    # the guard's rules read the previous bot reply only (kefu/guard/conversation.py)
    assert recent_context.pop("previous_bot_texts")[-1] == full_context.pop("previous_bot_texts")[-1] == "回复7"
    assert recent_context == full_context
    assert recent.get_latest_input_channel() == full.get_latest_input_channel() == "rest"

    handoff = RemoteAction("action_handoff", endpoint)._action_call_format(tracker, domain)
    assert handoff["tracker"]["events"] == whole["events"]


def _everything_in(tracker):
    import dataclasses

    state = {name: value for name, value in vars(tracker).items() if not name.startswith("_kefu")}
    state["events"] = list(tracker.events)
    state["slots"] = {name: (type(slot), slot._value, slot._has_been_set) for name, slot in tracker.slots.items()}
    state["active_loop"] = dataclasses.asdict(tracker.active_loop) if tracker.active_loop else tracker.active_loop
    return state


def test_a_tracker_copy_holds_what_replaying_its_events_builds():
    """After every kind of event: the copy equals Rasa's replayed copy, and stays separate."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionExecutionRejected,
        ActionReverted,
        ActiveLoop,
        AllSlotsReset,
        BotUttered,
        ConversationPaused,
        ConversationResumed,
        DefinePrevUserUtteredFeaturization,
        EntitiesAdded,
        FollowupAction,
        LoopInterrupted,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    from kefu.server import apply_fixes

    apply_fixes()
    domain = Domain.load("domain.yml")
    replayed = DialogueStateTracker.travel_back_in_time  # Rasa's own copy: replay up to "now"
    order = {"entity": "order_id", "value": "KF20261101", "start": 0, "end": 10}
    happenings = [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("杯子漏水", {"name": "complain_quality", "confidence": 0.9}, [order]),
        DefinePrevUserUtteredFeaturization(False), EntitiesAdded([{"entity": "product", "value": "杯子"}]),
        ActionExecuted("complaint_form"), ActiveLoop("complaint_form"),
        SlotSet("complaint_account", ["杯子漏水"]), SlotSet("order_attempts", 1.0), SlotSet("order_verified", True),
        BotUttered("您慢慢说", {"buttons": [{"title": "没了", "payload": "/deny"}]}), ActionExecuted("action_listen"),
        UserUttered("你好", {"name": "greet"}), ActionExecutionRejected("complaint_form"), LoopInterrupted(True),
        ActionExecuted("utter_greet"), FollowupAction("complaint_form"), ActionExecuted("complaint_form"),
        ActionReverted(), UserUtteranceReverted(), ConversationPaused(), ConversationResumed(),
        ActiveLoop(None), AllSlotsReset(), SlotSet("complaint_step", "probe"), Restarted(),
    ]
    tracker = DialogueStateTracker.from_events("t-copy", [], domain.slots)
    for event in happenings:
        tracker.update(event, domain)
        fast, slow = tracker.copy(), replayed(tracker, float("inf"))
        assert _everything_in(fast) == _everything_in(slow), event
        fast.update(SlotSet("order_id", "KF99999999"))
        if fast.active_loop:
            fast.interrupt_loop(not fast.active_loop.is_interrupted)
        assert _everything_in(tracker) == _everything_in(replayed(tracker, float("inf")))  # untouched


def without_time(event):
    data = event.as_dict() if hasattr(event, "as_dict") else dict(event)
    data.pop("timestamp", None)
    return data


def test_the_forms_temporary_tracker_is_the_one_rasa_builds():
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Restarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from kefu.server import apply_fixes

    apply_fixes()
    domain = Domain.load("domain.yml")
    form = FormAction("complaint_form", None)
    original = FormAction._temporary_tracker.rasas_own
    events = [ActionExecuted("action_listen"), UserUttered("杯子漏水", {"name": "complain_quality"}),
              ActionExecuted("complaint_form"), ActiveLoop("complaint_form"), SlotSet("requested_slot", "order_id"),
              BotUttered("订单号是多少？"), ActionExecuted("action_listen"), UserUttered("KF20261101", {"name": "inform"})]
    new_events = [SlotSet("order_id", "KF20261101"), SlotSet("requested_slot", "contact_phone")]
    for before in ([], [ActionExecuted("action_listen"), UserUttered("你好"), Restarted()]):
        tracker = DialogueStateTracker.from_events("t-temp", before + events, domain.slots)
        fast = form._temporary_tracker(tracker, new_events, domain)
        slow = original(form, tracker, new_events, domain)
        ours, theirs = _everything_in(fast), _everything_in(slow)
        if before:  # after a restart Rasa's own is used: the events before it are left out
            assert ours == theirs
        else:  # the two events the form adds are made anew each time: all but their timestamps
            assert [without_time(e) for e in ours.pop("events")] == [without_time(e) for e in theirs.pop("events")]
            assert without_time(ours.pop("latest_action")) == without_time(theirs.pop("latest_action"))
            assert ours == theirs
        assert fast.get_slot("order_id") == "KF20261101" and tracker.get_slot("order_id") is None


def _random_conversation(rng, domain):
    """Events as a conversation with forms, digressions, reverts, restarts and sessions makes them."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionExecutionRejected,
        ActionReverted,
        ActiveLoop,
        BotUttered,
        DefinePrevUserUtteredFeaturization,
        LoopInterrupted,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )

    loops = ["complaint_form", "handoff_form"]
    makers = [
        lambda: ActionExecuted("action_listen"), lambda: UserUttered("好的", {"name": rng.choice(["inform", "greet"])}),
        lambda: ActionExecuted(rng.choice(loops)), lambda: ActiveLoop(rng.choice(loops + [None])),
        lambda: ActionExecutionRejected(rng.choice(loops)), lambda: LoopInterrupted(rng.random() < 0.5),
        lambda: SlotSet("complaint_step", rng.choice(["listen", "probe"])), lambda: BotUttered("您说"),
        lambda: ActionExecuted(rng.choice(["utter_greet", "action_complaint_close"])),
        lambda: DefinePrevUserUtteredFeaturization(False), lambda: ActionReverted(), lambda: UserUtteranceReverted(),
        lambda: Restarted(), lambda: SessionStarted(),
    ]
    weights = [8, 8, 8, 3, 2, 2, 4, 4, 3, 1, 1, 1, 0.3, 0.3]
    return [rng.choices(makers, weights)[0]() for _ in range(rng.randint(1, 120))]


def test_applied_events_extend_as_the_conversation_grows():
    """After every event of 200 random conversations, a tracker that keeps its applied events
    gives what Rasa's full walk gives, also for its copies and when a loop appears late."""
    import random

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from kefu.server import apply_fixes

    apply_fixes()
    rasas_own = DialogueStateTracker.applied_events.rasas_own
    domain = Domain.load("domain.yml")
    rng = random.Random(2026)
    extended = 0
    for number in range(200):
        tracker = DialogueStateTracker.from_events(f"t-applied-{number}", [], domain.slots)
        for event in _random_conversation(rng, domain):
            tracker.update(event)
            assert tracker.applied_events() == rasas_own(tracker), [e.as_dict() for e in tracker.events]
            extended += tracker._kefu_applied.count > 1
            if rng.random() < 0.1:
                tracker = tracker.copy()
                assert tracker.applied_events() == rasas_own(tracker)
    assert extended > 5000  # the kept walk was extended, not started again, most of the time


def test_applied_events_start_again_when_the_events_are_not_the_same():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from kefu.server import apply_fixes

    apply_fixes()
    domain = Domain.load("domain.yml")
    tracker = DialogueStateTracker.from_events(
        "t-applied", [ActionExecuted("action_listen"), UserUttered("在吗", {"name": "greet"})], domain.slots)
    assert len(tracker.applied_events()) == 2
    tracker.events.clear()  # not something Rasa does: the kept walk must not be trusted
    tracker.update(ActionExecuted("action_listen"))
    assert [e.as_dict()["event"] for e in tracker.applied_events()] == ["action"]
    returned = tracker.applied_events()
    returned.append(UserUttered("改了"))  # callers may change the list they get
    assert len(tracker.applied_events()) == 1


def _deepcopies_outside_debug_lines(tree) -> list:
    """Line numbers of `copy.deepcopy(...)` calls that are not inside `structlogger.debug(...)`."""
    import ast

    def is_call_of(node, owner, attribute):
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == attribute and isinstance(node.func.value, ast.Name)
                and node.func.value.id == owner)

    inside_debug = {id(inner) for node in ast.walk(tree) if is_call_of(node, "structlogger", "debug")
                    for inner in ast.walk(node)}
    return [node.lineno for node in ast.walk(tree)
            if is_call_of(node, "copy", "deepcopy") and id(node) not in inside_debug]


def test_rasas_deep_copies_skipped_are_only_for_debug_lines():
    import ast
    import importlib
    import inspect

    from kefu.patches.debug_copies import DEEPCOPY_FOR_DEBUG_ONLY

    for name in DEEPCOPY_FOR_DEBUG_ONLY:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        assert _deepcopies_outside_debug_lines(tree) == [], name
    # the check itself sees a copy that is used for something else
    assert _deepcopies_outside_debug_lines(ast.parse("x = copy.deepcopy(y)\nstructlogger.debug('a', b=copy.deepcopy(y))")) == [1]


def test_the_deep_copy_is_made_when_debug_lines_are_written():
    import logging

    import rasa.core.processor as processor

    from kefu.server import apply_fixes

    apply_fixes()
    value = {"events": [{"event": "slot", "value": ["a"]}]}
    logger = logging.getLogger("rasa.core.processor")
    level = logger.level
    try:
        logger.setLevel(logging.INFO)
        assert processor.copy.deepcopy(value) is value
        logger.setLevel(logging.DEBUG)
        copied = processor.copy.deepcopy(value)
        assert copied == value and copied is not value and copied["events"][0] is not value["events"][0]
        assert processor.copy.copy(value) is not value  # the rest of `copy` is the module's own
    finally:
        logger.setLevel(level)


def test_init_copy_is_the_tracker_rasa_starts_from():
    """A tracker with this one's sender and slots at their initial values, as Rasa makes it."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from kefu.server import apply_fixes

    apply_fixes()
    rasas_own = DialogueStateTracker.init_copy.rasas_own
    domain = Domain.load("domain.yml")
    tracker = DialogueStateTracker.from_events(
        "t-init", [ActionExecuted("action_listen"), UserUttered("杯子漏水", {"name": "complain_quality"}),
                   SlotSet("complaint_step", "listen"), SlotSet("complaint_account", ["杯子漏水"])], domain.slots)
    fast, slow = tracker.init_copy(), rasas_own(tracker)
    assert _everything_in(fast) == _everything_in(slow)
    assert fast.get_slot("complaint_step") is None and tracker.get_slot("complaint_step") == "listen"
    fast.update(SlotSet("complaint_step", "probe"))
    assert tracker.get_slot("complaint_step") == "listen"  # slots are the copy's own


class _Pipeline:
    """Stands in for the NLU graph: every component's output on the message, then Rasa's
    own last step (RegexMessageHandler), exactly as the trained graph ends."""

    def __init__(self, domain):
        self.domain, self.calls = domain, 0

    def run(self, inputs, targets):
        from rasa.engine.constants import PLACEHOLDER_MESSAGE
        from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
        from rasa.shared.nlu.training_data.message import Message

        self.calls += 1
        [user_message] = inputs[PLACEHOLDER_MESSAGE]
        message = Message({"text": user_message.text, "message_id": user_message.message_id,
                           "metadata": user_message.metadata})
        message.set("intent", {"name": "complain_quality", "confidence": 0.7}, add_to_output=True)
        message.set("entities", [{"entity": "product", "value": "杯子"}], add_to_output=True)
        message.set("emotion", {"label": "angry", "intensity": 0.9}, add_to_output=True)
        return {targets[0]: RegexMessageHandler().process([message], self.domain)}


@pytest.mark.parametrize("text, skips_the_pipeline", [
    ('/affirm', True), ('/rate{"rating":"5"}', True), ('/inform{"remedy":"refund"}', True), ('/deny@0.6', True),
    (' /affirm', True), ('/inform{"remedy": broken', True),  # Rasa keeps the intent, warns about the rest
    ('/no_such_intent', False), ('/', False), ('杯子漏水', False), ('我要 /affirm', False)])
def test_a_button_payload_is_parsed_as_rasas_pipeline_ends_it(text, skips_the_pipeline):
    """Rasa's NLU graph ends with RegexMessageHandler, which replaces whatever the
    components said about a payload of a known intent: kefu skips the components then,
    and gives the same parse; anything else still goes through the pipeline."""
    from types import SimpleNamespace

    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import Domain

    from kefu.server import apply_fixes

    apply_fixes()
    domain = Domain.load("domain.yml")
    rasas_own = MessageProcessor._parse_message_with_graph.rasas_own

    def processor():
        pipeline = _Pipeline(domain)
        metadata = SimpleNamespace(nlu_target="run_RegexMessageHandler")
        return SimpleNamespace(graph_runner=pipeline, model_metadata=metadata, domain=domain), pipeline

    message = UserMessage(text, sender_id="t-payload")
    ours, skipped = processor()
    theirs, ran = processor()
    parsed = MessageProcessor._parse_message_with_graph(ours, message, None)
    assert parsed == rasas_own(theirs, message, None)
    assert ran.calls == 1
    assert skipped.calls == (0 if skips_the_pipeline else 1)
    if text == '/rate{"rating":"5"}':
        assert skipped.calls == 0 and parsed["entities"][0]["value"] == "5" and "emotion" not in parsed
