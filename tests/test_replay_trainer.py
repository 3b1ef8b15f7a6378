"""Trainer tools on bad stored data, the review queue, roles and masking — against the
real desk process (``python -m kefu.desk serve``) reading a tracker store written here.
No Rasa server is needed: good conversations are stored through Rasa's own TrackerStore
API, broken ones are rows written straight into Rasa's ``events`` table, as a crashed
writer, a migration or another tool could have left them.
"""
import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from e2e.desk_server import DeskProcess

from kefu.replay import mask as masking
from kefu.replay.conversations import Replay
from kefu.replay.filters import apply, parse_filters
from kefu.replay.report import SQI_DAYS, daily_report
from kefu.replay.source import BrokenConversation, ConversationNotFound, ConversationSource, events_table

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "trainer-pass-1"
LONG_ID = "x" * 5000
XSS_ID = '<script>window.__pwned=1</script> /?#&"'
PHONE, ID_NUMBER, STREET = "13912345678", "110101199003071234", "建国路88号阳光花园3栋1201室"
BROKEN = {  # sender id -> rows of its events table (None: a NULL data column)
    "broken-json": ['{"event": "user", "text": "快递'],
    "broken-not-object": ['[1, 2, 3]'],
    "broken-null": [None],
    "broken-parse-data": [json.dumps({"event": "user", "text": "hi", "parse_data": "garbage"})],
    LONG_ID: [json.dumps({"event": "user", "text": "你好", "parse_data": {}})],
}


def user(text, intent, confidence, emotion=("neutral", 0.1), entities=(), at=None):
    from rasa.shared.core.events import UserUttered

    parse = {"intent": {"name": intent, "confidence": confidence}, "entities": list(entities),
             "text": text, "emotion": {"label": emotion[0], "intensity": emotion[1]}}
    return UserUttered(text, parse["intent"], list(entities), parse, timestamp=at, input_channel="rest")


def good_conversation(at: float):
    """A delivery complaint that got to the probe step and ended calmer than it began."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

    text = f"快递一直不到，我电话{PHONE}，地址北京市朝阳区{STREET}，身份证{ID_NUMBER}"
    phone = {"entity": "phone", "value": PHONE, "start": text.index(PHONE), "end": text.index(PHONE) + 11}
    return [ActionExecuted("action_listen", timestamp=at),
            user(text, "complain_other", 0.2, ("angry", 0.9), [phone], at=at),
            SlotSet("complaint_category", "delivery", timestamp=at),
            SlotSet("complaint_step", "listen", timestamp=at), SlotSet("complaint_step", "share", timestamp=at),
            SlotSet("complaint_step", "probe", timestamp=at),
            BotUttered("真抱歉让您等这么久，我马上帮您查。", timestamp=at),
            ActionExecuted("action_listen", timestamp=at + 1),
            user("好的谢谢", "thank", 0.95, ("neutral", 0.2), at=at + 1),
            user("/affirm", "affirm", 1.0, at=at + 2)]


def store_tracker(url: str, sender: str, events) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=url)
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, slots=domain.slots)))
    store.engine.dispose()


@pytest.fixture(scope="module")
def tracker_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("trainer_tracker") / "tracker.db"
    run = uuid.uuid4().hex[:6]
    good = {"good": f"trainer-good-{run}", "xss": XSS_ID, "old": f"trainer-old-{run}"}
    store_tracker(str(path), good["good"], good_conversation(time.time() - 60))
    store_tracker(str(path), good["xss"], good_conversation(time.time() - 30))
    store_tracker(str(path), good["old"], good_conversation(time.time() - 3 * 86400))
    engine = sa.create_engine(f"sqlite:///{path}")
    table = events_table()
    with engine.begin() as connection:
        for sender, rows in BROKEN.items():
            for data in rows:
                connection.execute(table.insert().values(sender_id=sender, type_name="user",
                                                         timestamp=time.time(), data=data))
        # An event type no Rasa knows, in an otherwise good conversation: ignored, not broken.
        connection.execute(table.insert().values(sender_id=good["good"], type_name="quantum",
                                                 timestamp=time.time(), data='{"event": "quantum_leap"}'))
    engine.dispose()
    return {"path": path, "url": f"sqlite:///{path}", **good}


@pytest.fixture(scope="module")
def replay(tracker_db):
    return Replay(ConversationSource(url=tracker_db["url"]), audit=False)


# --- broken conversations ------------------------------------------------------------------

def test_each_broken_conversation_is_listed_apart_with_its_reason(replay, tracker_db):
    summaries = {s.sender_id: s for s in replay.summaries()}
    assert set(BROKEN) | {tracker_db["good"], tracker_db["xss"]} <= set(summaries)
    reasons = {sender: summaries[sender].broken for sender in BROKEN}
    assert "不是合法的 JSON" in reasons["broken-json"]
    assert "不是 JSON 对象" in reasons["broken-not-object"] and "不是 JSON 对象" in reasons["broken-null"]
    assert "AttributeError" in reasons["broken-parse-data"]
    assert "5000 个字符" in reasons[LONG_ID]
    for sender in (tracker_db["good"], tracker_db["xss"]):  # odd id, unknown event type: fine
        assert summaries[sender].broken is None and summaries[sender].turns == 3
    found = apply(list(summaries.values()), parse_filters({}))
    assert {s.sender_id for s in found} == {tracker_db["good"], tracker_db["xss"], tracker_db["old"]}


def test_opening_a_broken_conversation_says_why(replay):
    with pytest.raises(BrokenConversation, match="JSON"):
        replay.conversation("broken-json")
    with pytest.raises(ConversationNotFound, match="255"):
        replay.conversation(LONG_ID)


def test_the_report_skips_and_counts_broken_conversations(replay, tracker_db):
    report = daily_report(replay.summaries(), date.today())
    assert report.broken == len(BROKEN) and report.conversations == 2 and report.complaints == 2
    assert report.by_category == {"delivery": 2}
    assert report.funnel_reached == {"listen": 2, "share": 2, "probe": 2, "check": 0, "action": 0, "satisfy": 0}
    assert report.funnel_stopped["probe"] == 2
    assert report.emotion_start == {"angry": 2} and report.emotion_end == {"neutral": 2}
    assert len(report.sqi_trend) == SQI_DAYS and report.sqi_trend[-1] == (date.today().isoformat(), report.sqi)
    assert report.sqi > 0 and report.sqi_counts["low_confidence"] == 2  # 0.2 is under the threshold (0.3)
    three_days_ago = report.sqi_trend[-4]
    assert three_days_ago[1] > 0  # the old conversation counts on its own day


# --- through the desk -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trainer_env(kefu_env, tracker_db, tmp_path_factory):
    """The stored conversations above, and a database of the module's own: the review
    queue starts empty whatever other tests approved."""
    review_dir = tmp_path_factory.mktemp("review")
    database = f"sqlite:///{review_dir / 'kefu.db'}"
    subprocess.run([sys.executable, "-m", "kefu.store", "seed"], env=dict(kefu_env, KEFU_DB_URL=database),
                   cwd=ROOT, check=True, capture_output=True)
    return dict(kefu_env, KEFU_DB_URL=database, KEFU_TRACKER_DIALECT="sqlite",
                KEFU_TRACKER_DB=str(tracker_db["path"]),
                KEFU_REPLAY_REVIEW_DIR=str(review_dir), KEFU_REPLAY_EXPORT_DIR=str(review_dir))


@pytest.fixture(scope="module")
def desk(trainer_env, tmp_path_factory):
    env = trainer_env
    process = DeskProcess(env, "http://127.0.0.1:9", tmp_path_factory.mktemp("trainer_desk") / "desk.log")
    process.start()
    process.add_agent("t_trainer", PASSWORD, role="trainer")
    process.add_agent("t_agent", PASSWORD)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def trainer(desk):
    return desk.login("t_trainer", PASSWORD)


def form_post(client, path, data, follow=True):
    return client.http.post(client.url + path, data={"csrf_token": client.csrf, **data},
                            allow_redirects=follow)


def test_list_and_report_pages_load_with_broken_conversations(trainer, tracker_db):
    page = trainer.get("/trainer/")
    assert page.status_code == 200
    assert f'data-sender="{tracker_db["good"]}"' in page.text and 'id="broken"' in page.text
    assert f"{len(BROKEN)} 个会话已损坏" in page.text and "不是合法的 JSON" in page.text
    assert "<script>window.__pwned" not in page.text and "&lt;script&gt;" in page.text
    assert LONG_ID not in page.text  # shown cut, not 5,000 characters
    report = trainer.get("/trainer/report")
    assert report.status_code == 200
    for chart in ("chart-category", "chart-funnel", "chart-reasons", "chart-csat", "chart-emotion",
                  "chart-sqi-trend"):
        assert f'id="{chart}"' in report.text
    assert report.text.count("<svg") >= 5 and 'class="chart chart-funnel"' in report.text
    assert 'class="chart chart-line"' in report.text and report.text.count('class="point"') == SQI_DAYS
    assert 'id="broken-count">5<' in report.text


def test_a_broken_or_odd_conversation_page_is_clear(trainer, tracker_db):
    from urllib.parse import quote

    broken = trainer.get("/trainer/conversation?id=broken-json")
    assert broken.status_code == 422 and "已损坏" in broken.text
    odd = trainer.get("/trainer/conversation?id=" + quote(XSS_ID))
    assert odd.status_code == 200 and "<script>window.__pwned" not in odd.text
    too_long = trainer.get("/trainer/conversation?id=" + LONG_ID)
    assert too_long.status_code == 404


def test_the_trainer_view_masks_phones_ids_and_addresses(trainer, tracker_db):
    page = trainer.get(f"/trainer/conversation?id={tracker_db['good']}")
    assert page.status_code == 200
    for secret in (PHONE, ID_NUMBER, STREET, "1234 5678"):
        assert secret not in page.text
    assert "139****5678" in page.text and "110101********1234" in page.text and "朝阳区＊＊＊" in page.text
    report = trainer.get("/trainer/report")
    assert PHONE not in report.text and ID_NUMBER not in report.text


def test_masking_patterns():
    text = "手机+86 139 1234 5678，座机010-12345678，身份证11010119900307123X，寄到上海市徐汇区漕溪北路595号2号楼"
    masked = masking.mask_text(text, [])
    for secret in ("1234 5678", "12345678", "19900307", "漕溪北路595号"):
        assert secret not in masked
    assert "139****5678" in masked and "010-" in masked and "上海市徐汇区＊＊＊" in masked
    assert masking.mask_text("订单KF20261101，2026-11-25 到的，1299 元", []) == "订单KF20261101，2026-11-25 到的，1299 元"


# --- the review queue ---------------------------------------------------------------------------

def test_a_trainer_corrects_a_turn_reviews_it_and_exports_rasa_yaml(trainer, tracker_db):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    sender = tracker_db["good"]
    added = form_post(trainer, "/trainer/review/add", {
        "id": sender, "turn": "1", "intent_1": "complain_delivery",
        "entities_1": "phone=139****5678，order_id=KF20261101"}, follow=False)
    assert added.status_code == 400 and "order_id" in added.text  # not in the text: refused
    added = form_post(trainer, "/trainer/review/add", {
        "id": sender, "turn": "1", "intent_1": "complain_delivery", "entities_1": "phone=139****5678"})
    assert added.status_code == 200 and 'id="review-added"' in added.text
    assert PHONE not in added.text and "139****5678" in added.text and STREET not in added.text
    example = int(added.url.split("added=")[1])

    assert trainer.get("/trainer/review/export").status_code == 400  # nothing approved yet
    approved = form_post(trainer, "/trainer/review/decide", {"example": str(example), "decision": "approved"})
    assert approved.status_code == 200 and f'data-example="{example}" class="status-approved' in approved.text

    page = trainer.get("/trainer/review/export")
    assert page.status_code == 200 and 'id="review-yaml"' in page.text
    download = trainer.get("/trainer/review/export.yml")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert PHONE not in download.text and ID_NUMBER not in download.text and STREET not in download.text
    data = RasaYAMLReader().reads(download.text)
    (message,) = [m for m in data.training_examples if "快递一直不到" in m.get("text")]
    assert message.get("intent") == "complain_delivery"
    (entity,) = message.get("entities")
    assert entity["entity"] == "phone" and message.get("text")[entity["start"]:entity["end"]] == "13900005678"


@pytest.mark.parametrize("fields, message", [
    ({"turn": "1", "intent_1": "no_such_intent"}, "不在 domain.yml 的意图里"),
    ({"turn": "1", "intent_1": "thank", "entities_1": "phone"}, "名称=值"),
    ({"turn": "1", "intent_1": "thank", "entities_1": "no_entity=快递"}, "不在 domain.yml 的实体里"),
    ({"turn": "3", "intent_3": "affirm"}, "按钮"),
    ({"turn": "9", "intent_9": "affirm"}, "没有顾客的话"),
])
def test_a_wrong_correction_is_refused_in_chinese(trainer, tracker_db, fields, message):
    response = form_post(trainer, "/trainer/review/add", {"id": tracker_db["good"], **fields})
    assert response.status_code == 400 and message in response.text


def test_a_broken_conversation_cannot_be_corrected(trainer):
    response = form_post(trainer, "/trainer/review/add", {"id": "broken-json", "turn": "1", "intent_1": "greet"})
    assert response.status_code == 422


# --- roles ----------------------------------------------------------------------------------------

TRAINER_GETS = ["/trainer/", "/trainer/conversation?id=x", "/trainer/report", "/trainer/review",
                "/trainer/review/export", "/trainer/review/export.yml"]
TRAINER_POSTS = ["/trainer/review/add", "/trainer/review/decide", "/trainer/export", "/trainer/rerun"]


def test_agents_cannot_use_trainer_tools(desk):
    agent = desk.login("t_agent", PASSWORD)
    for path in TRAINER_GETS:
        assert agent.get(path).status_code == 403, path
    for path in TRAINER_POSTS:
        assert form_post(agent, path, {"id": "x", "turn": "1", "example": "1", "decision": "approved"}).status_code == 403, path


def test_trainer_tools_need_a_login_and_a_csrf_token(desk, trainer):
    import requests

    for path in TRAINER_GETS:
        response = requests.get(desk.url + path, allow_redirects=False)
        assert response.status_code == 302 and response.headers["Location"] == "/login", path
    for path in TRAINER_POSTS:
        assert requests.post(desk.url + path, data={"id": "x"}).status_code == 401, path
        no_csrf = trainer.http.post(desk.url + path, data={"id": "x", "turn": "1"})
        assert no_csrf.status_code == 403, path


# --- the command --------------------------------------------------------------------------------

def run_replay(env, *args):
    return subprocess.run([sys.executable, "-m", "kefu.replay", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=300)


def test_the_command_skips_broken_conversations_and_exports_the_queue(trainer_env, trainer, tracker_db, tmp_path):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    listed = run_replay(trainer_env, "list")
    assert listed.returncode == 0 and tracker_db["good"] in listed.stdout
    assert listed.stderr.count("broken, skipped") == len(BROKEN) and PHONE not in listed.stdout
    shown = run_replay(trainer_env, "show", "broken-json")
    assert shown.returncode == 3 and "JSON" in shown.stderr and "Traceback" not in shown.stderr
    form_post(trainer, "/trainer/review/add", {"id": tracker_db["xss"], "turn": "2", "intent_2": "thank"})
    queue = run_replay(trainer_env, "review", "--status", "pending")
    assert queue.returncode == 0 and "\tthank\t好的谢谢" in queue.stdout
    approved = form_post(trainer, "/trainer/review/add", {"id": tracker_db["old"], "turn": "1",
                                                          "intent_1": "complain_delivery"})
    example = approved.url.split("added=")[1]
    form_post(trainer, "/trainer/review/decide", {"example": example, "decision": "approved"})
    out = tmp_path / "review.yml"
    exported = run_replay(trainer_env, "review", "--export", str(out))
    assert exported.returncode == 0, exported.stderr
    examples = RasaYAMLReader().reads(out.read_text(encoding="utf-8")).training_examples
    assert examples and "好的谢谢" not in {m.get("text") for m in examples}  # pending: not exported
