"""The trainers' pages in a real headless Chromium (Debian's, through Playwright's
``executable_path``; no browser download): a trainer logs in, filters to a handed-off
conversation, opens it turn by turn, exports it as a test story; an agent cannot open
trainer pages; a 1,000-turn conversation pages smoothly.  Screenshots go to
tests/e2e/artifacts/ (git-ignored).
"""
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from e2e.desk_server import DeskProcess, set_agents_offline

ARTIFACTS = Path(__file__).parent / "artifacts"
TRAINER, AGENT, PASSWORD = "e2e_trainer", "e2e_replay_agent", "replay-pass-1"



@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("replay_export")


@pytest.fixture(scope="module")
def desk(servers, tmp_path_factory, export_dir):
    set_agents_offline(servers.env["KEFU_DB_URL"])  # a hand-off then books a callback
    env = dict(servers.env, KEFU_REPLAY_EXPORT_DIR=str(export_dir), KEFU_REPLAY_REVIEW_DIR=str(export_dir))
    process = DeskProcess(env, servers.rasa_url, tmp_path_factory.mktemp("replay_e2e") / "desk.log")
    process.start()
    process.add_agent(TRAINER, PASSWORD, role="trainer")
    process.add_agent(AGENT, PASSWORD)
    yield process
    process.stop()
    set_agents_offline(servers.env["KEFU_DB_URL"])



def log_in(browser, desk, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(desk.url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(desk.url + "/")
    return page


def test_trainer_filters_opens_and_exports_a_handed_off_conversation(servers, desk, browser, export_dir):
    ARTIFACTS.mkdir(exist_ok=True)
    sender = f"replay-e2e-{uuid.uuid4().hex[:6]}"
    servers.say(sender, "我的羽绒服八天了物流一动不动！！！电话13800000003")
    servers.say(sender, "转人工")
    calm = f"replay-e2e-calm-{uuid.uuid4().hex[:6]}"
    servers.say(calm, "你好")

    page = log_in(browser, desk, TRAINER)
    page.click("text=会话回放")  # the desk's navigation shows trainers the way in
    page.wait_for_url("**/trainer/")
    page.select_option("select[name=handed_off]", "yes")
    page.click("#apply-filters")
    page.wait_for_url("**handed_off=yes**")
    row = page.locator(f'tr[data-sender="{sender}"]')
    assert row.count() == 1 and "是" in row.inner_text()
    assert page.locator(f'tr[data-sender="{calm}"]').count() == 0

    row.locator("a.open").click()
    page.wait_for_selector("#turns")
    view = page.inner_text("#turns")
    assert "转人工" in view and "request_human" in view and "complain_delivery" in view
    assert "13800000003" not in page.content() and "138****0003" in view  # masked for trainers
    assert page.locator("#glance .strip .cell.handoff").count() == 1
    page.screenshot(path=str(ARTIFACTS / "replay_conversation.png"), full_page=True)

    page.click("#export")
    page.wait_for_selector("#export-result")
    assert f"replay {sender}" in page.inner_text("#export-yaml")
    written = (export_dir / "test_replay_stories.yml").read_text(encoding="utf-8")
    assert f"story: replay {sender}" in written and "action: action_handoff" in written

    page.click("text=日报")
    page.wait_for_selector("#kpis")
    assert page.locator("svg.chart").count() >= 2 and int(page.inner_text("#sqi")) >= 0
    page.screenshot(path=str(ARTIFACTS / "replay_report.png"), full_page=True)
    page.close()


def test_trainer_corrects_a_turn_approves_it_and_exports_nlu_yaml(servers, desk, browser):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    ARTIFACTS.mkdir(exist_ok=True)
    sender = f"replay-e2e-fix-{uuid.uuid4().hex[:6]}"
    servers.say(sender, "东西一直没送到，我手机13812345607，订单KF20261101")
    page = log_in(browser, desk, TRAINER)
    page.goto(f"{desk.url}/trainer/conversation?id={sender}")
    page.wait_for_selector("#turns")
    assert "13812345607" not in page.content()
    entities = page.input_value("input[name=entities_1]")  # what the model found, masked
    assert "138****5607" in entities or "phone" not in entities
    page.fill("input[name=intent_1]", "complain_delivery")
    page.fill("input[name=entities_1]", "phone=138****5607，order_id=KF20261101")
    page.click("#queue-1")
    page.wait_for_selector("#review-added")
    row = page.locator("tr.added")
    assert "complain_delivery" in row.inner_text() and "138****5607" in row.inner_text()
    assert "13812345607" not in page.content()
    row.locator("button.approve").click()
    page.wait_for_load_state("load")
    example = page.locator("tr.status-approved").filter(has_text="KF20261101")
    assert example.count() >= 1
    page.click("#review-export")
    page.wait_for_selector("#review-yaml")
    page.screenshot(path=str(ARTIFACTS / "replay_review_export.png"), full_page=True)
    shown = page.inner_text("#review-yaml")
    assert "[KF20261101](order_id)" in shown and "- intent: complain_delivery" in shown
    with page.expect_download() as download:
        page.click("#review-download")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "13812345607" not in text and "13800005607" in text  # same shape, middle digits zeroed
    data = RasaYAMLReader().reads(text)  # Rasa's own reader takes it as training data
    texts = {m.get("text"): m for m in data.training_examples}
    (message,) = [m for t, m in texts.items() if "KF20261101" in t and "东西一直没送到" in t]
    assert message.get("intent") == "complain_delivery"
    assert {e["entity"] for e in message.get("entities")} == {"phone", "order_id"}
    page.close()


def test_the_report_draws_every_chart(servers, desk, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    servers.say(f"replay-e2e-chart-{uuid.uuid4().hex[:6]}", "你们什么破服务！！！快递八天没到")
    page = log_in(browser, desk, TRAINER)
    page.goto(desk.url + "/trainer/report")
    page.wait_for_selector("#kpis")
    for section in ("chart-category", "chart-funnel", "chart-emotion", "chart-sqi-trend"):
        box = page.locator(f"#{section} svg").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20, section
    assert page.locator("#chart-funnel rect.funnel-step").count() == 6
    assert page.locator("#chart-sqi-trend circle.point").count() == 30
    for section in ("chart-reasons", "chart-csat"):  # a chart, or the words "没有数据"
        assert page.locator(f"#{section} svg").count() == 1 or "没有数据" in page.inner_text(f"#{section}")
    page.screenshot(path=str(ARTIFACTS / "replay_report_charts.png"), full_page=True)
    page.close()


def test_a_broken_stored_conversation_does_not_break_the_pages(servers, desk, browser):
    import sqlalchemy as sa

    from kefu.replay.source import events_table

    engine = sa.create_engine(f"sqlite:///{servers.env['KEFU_TRACKER_DB']}")
    broken = f"replay-e2e-broken-{uuid.uuid4().hex[:6]}"
    with engine.begin() as connection:
        for sender, data in ((broken, "{not json"), ("y" * 5000, '{"event": "user", "text": "hi"}')):
            connection.execute(events_table().insert().values(sender_id=sender, type_name="user",
                                                              timestamp=time.time(), data=data))
    engine.dispose()
    page = log_in(browser, desk, TRAINER)
    response = page.goto(desk.url + "/trainer/")
    assert response.status == 200 and page.locator("tr[data-sender]").count() >= 1
    page.click("#broken summary")
    assert broken in page.inner_text("#broken") and "不是合法的 JSON" in page.inner_text("#broken")
    assert page.goto(desk.url + "/trainer/report").status == 200
    assert page.goto(f"{desk.url}/trainer/conversation?id={broken}").status == 422
    assert "已损坏" in page.inner_text("#problem")
    page.close()


def test_an_agent_cannot_open_trainer_pages(servers, desk, browser):
    page = log_in(browser, desk, AGENT)
    assert page.locator("text=会话回放").count() == 0
    for path in ("/trainer/", "/trainer/conversation?id=x", "/trainer/report"):
        response = page.goto(desk.url + path)
        assert response.status == 403, path
        assert "会话回放" not in page.content()
    page.close()


def test_malformed_filters_and_unknown_ids_get_a_clear_page(desk, browser):
    page = log_in(browser, desk, TRAINER)
    response = page.goto(desk.url + "/trainer/?max_confidence=lots&from=someday")
    assert response.status == 400 and "filter-error" in page.content()
    response = page.goto(desk.url + "/trainer/conversation?id=no-such-conversation")
    assert response.status == 404 and "找不到这个会话" in page.inner_text("#problem")
    page.close()


def test_a_thousand_turn_conversation_pages_smoothly(servers, desk, browser):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_replay import long_conversation, store_tracker

    sender = f"replay-e2e-long-{uuid.uuid4().hex[:6]}"
    # Playwright's sync API runs an event loop here; Rasa's store wants its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(store_tracker, servers.env["KEFU_TRACKER_DB"], sender, long_conversation(1000)).result()
    page = log_in(browser, desk, TRAINER)
    started = time.perf_counter()
    page.goto(f"{desk.url}/trainer/conversation?id={sender}")
    first = time.perf_counter() - started
    assert page.locator("#turns > li").count() == 50
    assert page.locator("#glance .strip .cell").count() == 1000
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        page.click("#next-page")
        page.wait_for_load_state("load")
        timings.append(time.perf_counter() - started)
    assert page.locator("#t200").count() == 1 and "第 4 / 20 页" in page.inner_text(".toolbar")
    print(f"1,000 turns in the browser: first page {first:.2f}s, next pages "
          + ", ".join(f"{t * 1000:.0f}ms" for t in timings))
    assert max(timings) < 3.0
    page.close()
