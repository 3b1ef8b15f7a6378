"""Replay for trainers, on conversations made for real: the session's Rasa and action
servers are driven over the REST webhook, then read back from their SQL tracker store.
Two conversations the bot would not produce today (a 1,000-turn one, and one an
agent spoiled, classified by an "older model") are written through Rasa's own
TrackerStore API.
"""
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from kefu.replay import mask as masking
from kefu.replay.conversations import RERUN_PREFIX, Replay, masked_turns
from kefu.replay.export import Corrections, pseudonymize, write_nlu, write_stories
from kefu.replay.filters import FilterError, apply, parse_filters
from kefu.replay.report import daily_report
from kefu.replay.rerun import RasaClient, RerunError, compare, rerun
from kefu.replay.source import ConversationNotFound, ConversationSource, TrackerStoreUnavailable
from kefu.replay.turns import Turn

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

CONVERSATIONS = {
    "complete": ["你们这什么破杯子", "收到盖子就是裂的，一倒水全漏桌上了😡", "kf20261101", "13800000001",
                 "前天到的", "换个新的吧", "/affirm", '/inform{"remedy":"replace"}', '/rate{"rating":"5"}'],
    "handoff": ["我的羽绒服八天了物流一动不动！！！", "转人工"],
    "angry": ["你们什么垃圾服务！！！骑手骂人", "再不处理我就投诉到12315，还要曝光你们！！！"],
    "digress": ["快递一直不到，急死了", "没了", "今天天气怎么样", "KF20261102"],
    "personal": ["我是张伟，耳机坏了，寄到北京市朝阳区建国路88号阳光花园3栋1201室，身份证110101199003071234",
                 "电话 139 1234 5678"],
}


def say_all(servers, sender, messages):
    for message in messages:
        servers.say(sender, message)


@pytest.fixture(scope="module")
def store_env(servers):
    """This process reads the fixture's stores: the tracker store and (for the names
    in order records) the shop database."""
    old = {k: os.environ.get(k) for k in ("KEFU_DB_URL", "KEFU_TRACKER_DB", "KEFU_TRACKER_DIALECT")}
    for key in old:
        os.environ[key] = servers.env[key]
    masking._records = (0.0, [])
    yield servers.env
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    masking._records = (0.0, [])


@pytest.fixture(scope="module")
def senders(servers, store_env):
    run = uuid.uuid4().hex[:6]
    made = {name: f"replay-{name}-{run}" for name in CONVERSATIONS}
    for name, messages in CONVERSATIONS.items():
        say_all(servers, made[name], messages)
    return made


@pytest.fixture(scope="module")
def replay(senders):
    return Replay(ConversationSource())  # endpoints.yml, as the desk and the command use it


# --- synthetic trackers, stored through Rasa's TrackerStore API ---------------------------------

def store_tracker(db_path: str, sender: str, events) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=db_path)
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, slots=domain.slots)))
    store.engine.dispose()


def user(text, intent, confidence, emotion=("neutral", 0.1), at=None):
    from rasa.shared.core.events import UserUttered

    parse = {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text,
             "emotion": {"label": emotion[0], "intensity": emotion[1]}}
    return UserUttered(text, parse["intent"], [], parse, timestamp=at, input_channel="rest")


def long_conversation(turns: int):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

    start = time.time() - 3600
    events = []
    for i in range(turns):
        events += [ActionExecuted("action_listen", timestamp=start + i),
                   user(f"第{i}句：快递还没到，电话1380013{i % 10000:04d}", "complain_delivery", 0.9, at=start + i),
                   SlotSet("complaint_step", "listen", timestamp=start + i),
                   BotUttered("您慢慢说，我在认真听。", metadata={"utter_action": "utter_question_account_complete"},
                              timestamp=start + i)]
    return events


def spoiled_conversation():
    """An older model's reading of 你好 (complain_other, 0.3), and an agent who doubted
    the customer."""
    from rasa.shared.core.events import ActionExecuted, BotUttered

    return [ActionExecuted("action_listen"), user("你好", "complain_other", 0.3),
            ActionExecuted("action_handoff_relay"),
            BotUttered("您确定真的没收到吗？", metadata={"kefu_from": "agent", "agent": "wang"})]


@pytest.fixture(scope="module")
def synthetic(store_env):
    run = uuid.uuid4().hex[:6]
    made = {"long": f"replay-long-{run}", "spoiled": f"replay-spoiled-{run}"}
    store_tracker(store_env["KEFU_TRACKER_DB"], made["long"], long_conversation(1000))
    store_tracker(store_env["KEFU_TRACKER_DB"], made["spoiled"], spoiled_conversation())
    return made


# --- reading and the turn view -------------------------------------------------------------------

def test_a_complete_complaint_turn_by_turn(replay, senders):
    conversation = replay.conversation(senders["complete"])
    summary = conversation.summary
    assert summary.channel == "rest" and summary.category == "quality"
    assert summary.complete and summary.rating == 5 and not summary.handed_off
    turns = [t for t in conversation.turns if t.index]
    assert [t.text for t in turns] == CONVERSATIONS["complete"]
    assert turns[0].intent == "complain_quality" and 0 < turns[0].confidence <= 1
    assert turns[0].emotion in ("angry", "disappointed") and turns[0].intensity > 0
    assert any(e["entity"] == "order_id" for e in turns[2].entities)
    assert turns[0].step == "listen" and turns[-2].step == "satisfy"
    assert "complaint_form" in turns[0].actions and turns[0].messages
    assert turns[2].slots.get("order_id") == "KF20261101"
    assert not any(n.startswith("skipped") for t in turns for n in t.notes)


def test_a_handoff_shows_the_reason_and_the_pause(replay, senders):
    conversation = replay.conversation(senders["handoff"])
    assert conversation.summary.handed_off
    handed = [t for t in conversation.turns if t.handoff]
    assert handed and handed[0].text == "转人工" and handed[0].intent == "request_human"
    assert conversation.summary.handoff_reasons == [handed[0].handoff]


def test_an_angry_customer_is_marked(replay, senders):
    summary = replay.conversation(senders["angry"]).summary
    assert summary.emotion == "angry" and summary.emotion_intensity >= 0.7
    # anger this strong needs a person: handed over, or marked as missed
    assert summary.handed_off or summary.marks.get("no_handoff") or summary.marks.get("late_handoff")


def test_step_skips_stalls_confidence_and_rising_emotion_are_marked():
    from kefu.replay.turns import _mark_confidence, _mark_emotion, _mark_steps

    turns = [Turn(0), Turn(1, text="a", steps_entered=["listen"], requested_slot="x", emotion="neutral", intensity=0.2),
             Turn(2, text="b", steps_entered=["probe"], requested_slot="order_id", intent="nlu_fallback",
                  confidence=0.45, emotion="angry", intensity=0.6),
             Turn(3, text="c", requested_slot="order_id", confidence=0.2, intent="inform"),
             Turn(4, text="d", requested_slot="order_id", confidence=0.9, intent="inform")]
    _mark_steps(turns), _mark_confidence(turns), _mark_emotion(turns)
    assert "skipped:share" in turns[2].notes
    assert "emotion_rose" in turns[2].notes
    assert "low_confidence" in turns[2].notes and "low_confidence" in turns[3].notes
    assert any(n.startswith("stalled") for n in turns[4].notes)
    assert not turns[1].notes


# --- filters ---------------------------------------------------------------------------------------

def found(replay, **params):
    return {s.sender_id for s in apply(replay.summaries(), parse_filters(params))}


def test_filters(replay, senders, synthetic):
    today, tomorrow = date.today().isoformat(), (date.today() + timedelta(days=1)).isoformat()
    assert senders["handoff"] in found(replay, handed_off="yes")
    assert senders["complete"] not in found(replay, handed_off="yes")
    assert senders["complete"] in found(replay, handed_off="no", category="quality", rating="5")
    assert senders["complete"] not in found(replay, rating="low")
    assert set(senders.values()) <= found(replay, **{"from": today, "to": today})
    assert not set(senders.values()) & found(replay, **{"from": tomorrow})
    assert senders["angry"] in found(replay, emotion="angry", min_intensity="0.7")
    assert senders["digress"] not in found(replay, emotion="angry", min_intensity="0.7")
    assert senders["digress"] in found(replay, q="天气")
    assert synthetic["spoiled"] in found(replay, max_confidence="0.4")
    assert senders["complete"] not in found(replay, max_confidence="0.4")
    assert found(replay, guard="doubt") >= {synthetic["spoiled"]}
    assert senders["complete"] not in found(replay, guard="any")
    assert senders["complete"] in found(replay, channel="rest")
    assert not found(replay, channel="wechat") & set(senders.values())


def test_the_free_text_filter_searches_masked_text(replay, senders):
    assert senders["personal"] not in found(replay, q="13912345678")
    assert senders["personal"] in found(replay, q="耳机坏了")


@pytest.mark.parametrize("params,message", [
    ({"from": "2026-13-01"}, "from must be a date"), ({"to": "yesterday"}, "to must be a date"),
    ({"from": "2026-11-25", "to": "2026-11-01"}, "from must not be after to"),
    ({"max_confidence": "abc"}, "max_confidence"), ({"max_confidence": "1.5"}, "max_confidence"),
    ({"min_intensity": "nan"}, "min_intensity"), ({"handed_off": "maybe"}, "handed_off"),
    ({"category": "weather"}, "category"), ({"guard": "rude"}, "guard"), ({"rating": "6"}, "rating"),
    ({"channel": "<script>"}, "channel"),
])
def test_malformed_filters_say_what_is_wrong(params, message):
    with pytest.raises(FilterError, match=message):
        parse_filters(params)


# --- masking ---------------------------------------------------------------------------------------

def test_masking_patterns_and_order_records(store_env):
    masking._records = (0.0, [])
    text = ("我是张伟，手机13812345678、138-1234-5678，身份证11010119900307123X，"
            "寄到上海市徐汇区漕溪北路595号2号楼，订单KF20261101")
    masked = masking.mask_text(text)
    for secret in ("张伟", "13812345678", "1234-5678", "19900307", "漕溪北路595号"):
        assert secret not in masked
    assert "张*" in masked and "138****5678" in masked and "110101********123X" in masked
    assert "上海市徐汇区＊＊＊" in masked and "KF20261101" in masked  # order ids are not personal
    assert masking.mask_text("快递三天前就该到了") == "快递三天前就该到了"


def test_the_trainer_view_is_masked_everywhere(replay, senders):
    turns = masked_turns(replay.conversation(senders["personal"]).turns)
    shown = json.dumps(turns, ensure_ascii=False)
    for secret in ("张伟", "建国路88号", "110101199003071234", "139 1234 5678", "13912345678"):
        assert secret not in shown
    complete = json.dumps(masked_turns(replay.conversation(senders["complete"]).turns), ensure_ascii=False)
    assert "13800000001" not in complete and "138****0001" in complete  # text, entities, slots


# --- bad input ---------------------------------------------------------------------------------------

def test_unknown_conversations(replay):
    for bad in ("no-such-conversation", "", "x" * 300):
        with pytest.raises(ConversationNotFound):
            replay.conversation(bad)


def test_a_tracker_store_that_is_down(tmp_path):
    missing = ConversationSource(url=f"sqlite:///{tmp_path}/gone/tracker.db")
    with pytest.raises(TrackerStoreUnavailable, match="no tracker store database"):
        missing.list()
    started = time.monotonic()
    down = ConversationSource(url="postgresql://kefu:secret@127.0.0.1:1/kefu")
    with pytest.raises(TrackerStoreUnavailable) as error:
        down.list()
    assert "secret" not in str(error.value)  # the password is never shown
    assert time.monotonic() - started < 10


def run_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "kefu.replay", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_the_command(servers, senders, tmp_path):
    listed = run_cli(servers.env, "list", "--handed-off", "yes")
    assert listed.returncode == 0 and senders["handoff"] in listed.stdout
    assert senders["complete"] not in listed.stdout
    shown = run_cli(servers.env, "show", senders["complete"])
    assert shown.returncode == 0 and "complain_quality" in shown.stdout and "138****0001" in shown.stdout
    assert run_cli(servers.env, "show", "no-such-id").returncode == 3
    bad = run_cli(servers.env, "list", "--max-confidence", "2")
    assert bad.returncode == 2 and "max_confidence" in bad.stderr
    down = run_cli(dict(servers.env, KEFU_TRACKER_DB=str(tmp_path / "none" / "t.db")), "list")
    assert down.returncode == 4 and "tracker store" in down.stderr and "Traceback" not in down.stderr
    report = run_cli(servers.env, "report", "--json")
    expected = daily_report(Replay(ConversationSource()).summaries(), date.today())
    assert report.returncode == 0 and json.loads(report.stdout)["complaints"] == expected.complaints >= 2


# --- the 1,000-turn conversation ----------------------------------------------------------------------

def test_a_thousand_turns_load_and_page(synthetic, store_env):
    replay = Replay(ConversationSource())
    conversation = replay.conversation(synthetic["long"])
    assert len([t for t in conversation.turns if t.index]) == 1000
    page = masked_turns(conversation.turns[950:1000])
    again = replay.conversation(synthetic["long"])
    assert again is conversation and len(page) == 50 and "138****" in page[0]["text"]


# --- re-run --------------------------------------------------------------------------------------------

def test_rerun_of_a_real_conversation_matches_turn_by_turn(servers, replay, senders):
    result = rerun(replay.conversation(senders["digress"]), RasaClient(servers.rasa_url, servers.token))
    assert result.rerun_id.startswith(RERUN_PREFIX)
    assert [t.text for t in result.turns] == CONVERSATIONS["digress"]
    assert not [t for t in result.turns if "intent" in t.differences]  # same model, same intents
    assert all(t.now["responses"] for t in result.turns)
    assert result.rerun_id not in {s.sender_id for s in replay.summaries()}  # hidden from lists


def test_rerun_shows_what_the_current_model_does_differently(servers, replay, synthetic):
    result = rerun(replay.conversation(synthetic["spoiled"]), RasaClient(servers.rasa_url, servers.token))
    (turn,) = result.turns
    assert turn.then["intent"] == "complain_other" and turn.now["intent"] == "greet"
    assert "intent" in turn.differences and "responses" in turn.differences


def test_rerun_says_when_rasa_is_down_or_refuses(replay, senders, servers):
    with pytest.raises(RerunError, match="not reachable"):
        rerun(replay.conversation(senders["digress"]), RasaClient("http://127.0.0.1:1", "t"))
    with pytest.raises(RerunError, match="token"):
        RasaClient(servers.rasa_url, "wrong-token").events(senders["digress"])


def test_compare_names_each_kind_of_difference():
    then = Turn(1, text="x", intent="inform", emotion="angry", intensity=0.9, step="probe")
    now = Turn(1, text="x", intent="deny", emotion="angry", intensity=0.3, step="check")
    assert compare(then, now).differences == ["intent", "emotion", "step"]
    assert compare(then, None).differences == ["intent", "emotion", "step"]


# --- export --------------------------------------------------------------------------------------------

def test_export_passes_rasa_validate_and_rasa_test(replay, senders, tmp_path):
    chosen = [replay.conversation(senders[name]) for name in ("complete", "handoff", "digress", "angry")]
    stories, skipped = write_stories(chosen, tmp_path / "test_replay_stories.yml")
    text = stories.read_text(encoding="utf-8")
    assert text.count("- story: replay ") == 4 - len(skipped) >= 3
    assert "user: " in text and "action: action_handoff" in text
    assert "paused" not in text
    validate = subprocess.run([str(VENV_BIN / "rasa"), "data", "validate", "--data", "data", str(stories),
                               "--domain", "domain.yml", "--fail-on-warnings"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert validate.returncode == 0, validate.stdout[-3000:]
    out = tmp_path / "results"
    tested = subprocess.run([str(VENV_BIN / "rasa"), "test", "core", "--stories", str(stories),
                             "--model", str(ROOT / "models" / "kefu.tar.gz"), "--out", str(out),
                             "--fail-on-prediction-errors"],  # as `make test-stories` runs them
                            cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "None of the test stories failed" in (out / "failed_test_stories.yml").read_text()


def test_export_with_corrections_and_nlu_for_review(replay, senders, tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    conversation = replay.conversation(senders["digress"])
    fixes = {senders["digress"]: Corrections(intents={3: "greet"},
                                             actions={1: {"complaint_form": "action_outside_complaint"}})}
    text = write_stories([conversation], tmp_path / "test_fixed.yml", fixes)[0].read_text(encoding="utf-8")
    third_user = text.split("- intent: ")[3]
    # The model may tag an entity inside the text ([今天天气](time)); the words must stay.
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", third_user)
    assert third_user.startswith("greet") and "今天天气怎么样" in plain
    assert text.split("- action: ")[1].startswith("action_outside_complaint")
    complete = replay.conversation(senders["complete"])
    nlu = write_nlu([conversation, complete], tmp_path / "nlu.yml", fixes)
    examples = {m.get("text"): m.get("intent") for m in load_data(str(nlu)).training_examples}
    assert examples["今天天气怎么样"] == "greet"
    assert examples[CONVERSATIONS["complete"][1]] == complete.turns[2].intent
    assert "/affirm" not in examples


def test_export_keeps_personal_data_out_of_the_repository(replay, senders, tmp_path):
    text = write_stories([replay.conversation(senders["personal"])], tmp_path / "test_p.yml")[0].read_text("utf-8")
    for secret in ("张伟", "110101199003071234", "139 1234 5678"):
        assert secret not in text
    assert pseudonymize("13912345678") == "13900005678"


def test_a_forced_action_ends_the_story_where_the_bot_listened():
    from kefu.replay.export import story_events

    def turn(text):
        return [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": {}},
                {"event": "action", "name": "complaint_form"}]
    forced = [{"event": "followup", "name": "action_handoff"}, {"event": "action", "name": "action_handoff"}]
    events = story_events(turn("快递没到") + turn("你们太过分了！！！") + forced, Corrections())
    assert [e.get("text") for e in events if e["event"] == "user"] == ["快递没到"]
    assert events[-1] == {"event": "action", "name": "action_listen"}
    assert not [e for e in story_events(turn("气死了！！！") + forced, Corrections()) if e["event"] == "user"]


def test_an_unknown_intent_in_a_correction_is_refused(replay, senders, tmp_path):
    from kefu.replay.export import ExportError

    with pytest.raises(ExportError, match="not an intent"):
        write_stories([replay.conversation(senders["angry"])], tmp_path / "test_x.yml",
                      {senders["angry"]: Corrections(intents={1: "complain_weather"})})


# --- the daily report ---------------------------------------------------------------------------------

def test_the_daily_report(replay, senders, synthetic):
    report = daily_report(replay.summaries(), date.today())
    assert report.complaints >= 3 and report.by_category.get("quality", 0) >= 1
    assert report.handed_off >= 1 and report.handoff_reasons
    assert report.average_satisfaction is not None and report.six_step_complete >= 1
    assert report.findings_by_behaviour.get("doubt", 0) >= 1
    assert report.sqi >= 5 * report.sqi_counts["forbidden_behaviour"] > 0
    empty = daily_report(replay.summaries(), date.today() + timedelta(days=1))
    assert empty.conversations == 0 and empty.sqi == 0 and empty.handoff_rate is None
