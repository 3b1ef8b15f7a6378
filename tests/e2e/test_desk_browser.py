"""End to end in a real headless Chromium: a REST customer escalates, an agent logs in,
sees the case appear without reloading, replies, the customer gets the reply, the
agent resolves, and the bot resumes and asks for a rating.

Needs Debian's chromium (``make setup`` installs it); Playwright drives it through
``executable_path`` — no browser download.  The case view's screenshot is kept in
tests/e2e/artifacts/ (git-ignored).
"""
from pathlib import Path

import pytest
import requests
from e2e.desk_server import DeskProcess, escalations_of, set_agents_offline, wait_for

ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-pass-1"
EVIL = "<b>粗体</b><script>window.__pwned = 1</script>"



@pytest.fixture(scope="module")
def desk(servers, tmp_path_factory):
    set_agents_offline(servers.env["KEFU_DB_URL"])
    process = DeskProcess(servers.env, servers.rasa_url, tmp_path_factory.mktemp("e2e") / "desk.log")
    process.start()
    process.add_agent("e2e_agent", PASSWORD)
    yield process
    process.stop()
    set_agents_offline(servers.env["KEFU_DB_URL"])



def customer_poll(desk, sender, after=0.0):
    return requests.get(f"{desk.url}/customer/{sender}/messages", params={"after": after}).json()["messages"]


def test_escalate_reply_resolve_in_the_browser(servers, desk, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(desk.url + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", "e2e_agent")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue-rows")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    sender = "e2e-customer"
    servers.say(sender, "你们这什么破杯子，气死我了！！")
    servers.say(sender, "收到盖子就是裂的，一倒水全漏桌上了 " + EVIL)
    replies = servers.say(sender, "/request_human")
    assert "预计等待约" in replies[0]["text"]  # the agent is online: a wait, not a callback
    (case,) = escalations_of(servers.env["KEFU_DB_URL"], sender)

    row = page.wait_for_selector(f'tr[data-case-id="{case["id"]}"]', timeout=15000)
    assert page.evaluate("window.__sameDocument") is True
    assert "顾客反映" in row.inner_text()

    row.click()
    page.wait_for_url(f"**/cases/{case['id']}")
    page.wait_for_selector("#transcript .line.customer .emotion, #transcript .line.customer")
    customer_text = page.locator("#transcript .line.customer .text").nth(1).inner_text()
    assert EVIL in customer_text  # shown as text …
    assert page.evaluate("window.__pwned") is None  # … and never run
    assert page.locator("#transcript b").count() == 0
    assert "倾听" in page.inner_text("#steps")

    page.fill("#reply-text", "您好，我是客服小李，杯子漏水的情况我都看到了，这件事我来跟进到底。")
    page.click("#send")
    page.wait_for_function("() => !['', '发送中…'].includes(document.getElementById('reply-status').textContent)",
                           timeout=15000)
    assert page.inner_text("#reply-status") == "已送达", page.inner_text("#reply-form")
    page.wait_for_selector("#transcript .line.agent", timeout=15000)
    got = wait_for(lambda: customer_poll(desk, sender))
    assert got[0]["text"].startswith("您好，我是客服小李") and got[0]["from"] == "agent"

    page.fill("#reply-text", "您确定真的没收到吗？")
    page.click("#send")
    page.wait_for_selector("#guard-warning:not([hidden])")
    assert "您确定" in page.inner_text("#guard-reasons")  # the span, with the reason
    page.screenshot(path=str(ARTIFACTS / "case_view.png"), full_page=True)
    page.fill("#reply-text", "")

    page.click("#resolve")
    page.wait_for_selector("#resolve-panel:not([hidden])")  # asks to confirm, with a result
    page.click("#resolve-confirm")
    assert "请先选择处理结果" in page.inner_text("#action-status")
    page.select_option("#resolve-code", "solved")
    page.click("#resolve-confirm")
    page.wait_for_function("() => document.getElementById('case-status').textContent.includes('已处理完')",
                           timeout=15000)
    later = wait_for(lambda: customer_poll(desk, sender, after=got[0]["at"]))
    assert "打个分" in later[-1]["text"]
    assert servers.tracker(sender)["paused"] is False
    rated = servers.say(sender, '/rate{"rating":"4"}')
    assert "谢谢您的评价" in rated[0]["text"]
    page.close()


# --- the live desk without Rasa: push, alerts, transfer, canned replies -----------------------------
# Rasa is not running for these (the case view shows the hand-off snapshot): the desk's
# own push is what is tested.  Cases are written to the database by this process, as the
# action server does.

from kefu.handoff import escalations  # noqa: E402
from kefu.handoff.record import build_record  # noqa: E402
from kefu.store import dispose_engines  # noqa: E402

# Record what the page asks of the Notification API; the real one stays underneath.
NOTIFICATION_SPY = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  function Spy(title, options) { window.__notes.push({ title, body: (options || {}).body }); return new Real(title, options); }
  Object.defineProperty(Spy, "permission", { get: () => window.__permission || Real.permission });
  Spy.requestPermission = async () => { window.__asked = true; if (window.__answer) window.__permission = window.__answer; return Spy.permission; };
  window.Notification = Spy;
})();
"""


@pytest.fixture(scope="module")
def quiet_db(kefu_env):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEFU_DB_URL", kefu_env["KEFU_DB_URL"])
        dispose_engines()
        yield kefu_env["KEFU_DB_URL"]
        dispose_engines()


@pytest.fixture(scope="module")
def live_desk(kefu_env, quiet_db, tmp_path_factory):
    process = DeskProcess(kefu_env, "http://127.0.0.1:9", tmp_path_factory.mktemp("live") / "desk.log")
    process.start()
    for name, role in [("live_wang", "agent"), ("live_li", "agent"), ("live_boss", "supervisor")]:
        process.add_agent(name, PASSWORD, role=role)
    yield process
    process.stop()


def new_case(sender, order=None, priority=None, text="买的保温杯漏水，烦死了"):
    tracker = {"sender_id": sender, "latest_input_channel": "socketio", "events": [
        {"event": "user", "text": text, "timestamp": 1.0, "input_channel": "socketio",
         "parse_data": {"intent": {"name": "complain_quality"}, "entities": []}}]}
    record = build_record(tracker, {"problem": text, "complaint_category": "quality", "order_id": order},
                          "customer_request")
    if priority:
        record["priority"] = priority
    return escalations.create_escalation(record)


def logged_in_page(browser, desk, name, permission=None, answer=None):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    if permission == "granted":
        context.grant_permissions(["notifications"], origin=desk.url)
    script = NOTIFICATION_SPY
    if permission == "default":
        script = "window.__permission = 'default'; window.__answer = %r;" % answer + script
    context.add_init_script(script)
    page = context.new_page()
    page.goto(desk.url + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue-rows")
    page.wait_for_function("() => document.getElementById('live-state').textContent === '实时'", timeout=15000)
    return context, page


def test_new_cases_arrive_by_push_with_a_notification_and_sound(browser, live_desk):
    context, page = logged_in_page(browser, live_desk, "live_wang", permission="granted")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    requests_seen = []
    page.on("request", lambda request: requests_seen.append(request.url))
    assert "弹出通知" in page.inner_text("#alert-state")

    case = new_case("live-push-1", priority="urgent")
    row = page.wait_for_selector(f'tr[data-case-id="{case["id"]}"]', timeout=10000)
    assert page.evaluate("window.__sameDocument") is True
    assert "网页访客" in row.inner_text() and "live-push-1" not in row.inner_text()
    page.wait_for_function("() => window.__deskAlerts >= 1")
    notes = page.evaluate("window.__notes")
    assert notes[-1]["title"] == "新的转人工案例" and "紧急" in notes[-1]["body"]
    # No polling: in a quiet second the page asks nothing.
    requests_seen.clear()
    page.wait_for_timeout(2500)
    assert [url for url in requests_seen if "/api/" in url] == []

    page.click("#alert-toggle")  # the agent switches alerts off
    assert "提醒已关闭" in page.inner_text("#alert-state")
    quiet = new_case("live-push-2")
    page.wait_for_selector(f'tr[data-case-id="{quiet["id"]}"]', timeout=10000)
    assert page.evaluate("window.__deskAlerts") == 1 and len(page.evaluate("window.__notes")) == 1
    page.click("#alert-toggle")  # and back on for the next tests
    context.close()


def test_a_refused_notification_permission_is_handled(browser, live_desk):
    context, page = logged_in_page(browser, live_desk, "live_li", permission="default", answer="denied")
    assert page.is_visible("#alert-permission")
    page.click("#alert-permission")
    page.wait_for_function("() => document.getElementById('alert-state').textContent.includes('拒绝')")
    assert page.evaluate("window.__asked") is True
    assert not page.is_visible("#alert-permission")
    case = new_case("live-denied")
    page.wait_for_selector(f'tr[data-case-id="{case["id"]}"]', timeout=10000)
    page.wait_for_function("() => window.__deskAlerts >= 1")  # the sound still plays
    assert page.evaluate("window.__notes") == []  # and no notification is attempted
    context.close()


def test_transfer_between_two_agents_updates_both_pages(browser, live_desk):
    case = new_case("live-transfer")
    wang_context, wang = logged_in_page(browser, live_desk, "live_wang")
    li_context, li = logged_in_page(browser, live_desk, "live_li")
    for page in (wang, li):
        page.goto(f"{live_desk.url}/cases/{case['id']}")
        page.wait_for_function("() => document.getElementById('live-state').textContent === '实时'", timeout=15000)
    li.evaluate("window.__sameDocument = true")
    wang.click("#claim")
    li.wait_for_function("() => document.getElementById('case-status').textContent.includes('live_wang')", timeout=10000)
    options = wang.locator("#transfer-to option").all_inner_texts()
    assert any(o.startswith("live_li（客服，在线") for o in options)
    assert any(o.startswith("live_boss（主管") for o in options)
    wang.select_option("#transfer-to", "live_li")
    wang.click("#transfer")
    assert "请写明转交原因" in wang.inner_text("#action-status")
    wang.fill("#transfer-reason", "顾客要退款，李工熟悉退款流程")
    wang.click("#transfer")
    wang.wait_for_function("() => document.getElementById('action-status').textContent.includes('已转给')")
    # li's open page shows it is theirs now, without a reload.
    li.wait_for_function("() => document.getElementById('case-status').textContent.includes('live_li')", timeout=10000)
    assert li.evaluate("window.__sameDocument") is True
    assert li.is_enabled("#send") and li.is_enabled("#resolve")
    history = li.inner_text("#history")
    assert "转交：转给 live_li，原因：顾客要退款，李工熟悉退款流程" in history and "live_wang" in history
    assert wang.is_disabled("#send") and wang.is_disabled("#transfer")
    # The customer typing shows on the case.
    requests.post(f"{live_desk.url}/customer/live-transfer/typing")
    li.wait_for_selector("#typing:not([hidden])", timeout=10000)
    ARTIFACTS.mkdir(exist_ok=True)
    li.screenshot(path=str(ARTIFACTS / "case_transferred.png"), full_page=True)
    wang_context.close()
    li_context.close()


def test_a_canned_reply_is_inserted_with_the_case_filled_in(browser, live_desk):
    boss = live_desk.login("live_boss", PASSWORD)
    saved = boss.post("/api/canned", {"title": "催件回复", "text": "订单{order}我已经帮您催了，我是{agent}，有进展马上告诉您。"})
    assert saved.status_code in (201, 400), saved.text  # 400: saved by an earlier run of this module
    case = new_case("live-canned", order="KF20261102")
    context, page = logged_in_page(browser, live_desk, "live_wang")
    page.goto(f"{live_desk.url}/cases/{case['id']}")
    page.wait_for_selector("#canned-select option >> text=催件回复", state="attached")
    page.fill("#reply-text", "您好，")
    page.locator("#reply-text").evaluate("(area) => area.setSelectionRange(area.value.length, area.value.length)")
    page.select_option("#canned-select", label="催件回复")
    assert page.input_value("#reply-text") == "您好，订单KF20261102我已经帮您催了，我是live_wang，有进展马上告诉您。"
    context.close()


# --- the customer's side of a hand-off, in the web chat ------------------------------------------

from e2e.test_webchat import phone, say, session_id, webchat  # noqa: E402,F401 (fixtures)


def test_the_web_chat_header_tells_the_truth_and_the_customer_hears_who_took_over(servers, desk, phone):
    agent = desk.login("e2e_agent", PASSWORD)  # online: the customer waits rather than a callback
    say(phone, "买的耳机一边没声音，烦死了")
    say(phone, "我要人工")
    sender = session_id(phone)
    case = wait_for(lambda: escalations_of(servers.env["KEFU_DB_URL"], sender))
    assert case, "no escalation after the hand-off"
    phone.wait_for_function("document.getElementById('status').textContent.indexOf('转接人工') >= 0", timeout=15000)
    assert "服务中" not in phone.inner_text("#status")  # nobody has it yet: no false promise

    assert agent.post(f"/api/cases/{case[0]['id']}/claim").status_code == 200
    joined = phone.wait_for_selector("#messages .line.system.joined", timeout=15000)
    assert "e2e_agent" in joined.inner_text() and "已接入" in joined.inner_text()
    greeting = phone.wait_for_selector("#messages .line.agent", timeout=15000)
    assert "我是客服e2e_agent" in greeting.inner_text()
    assert phone.inner_text("#status") == "人工客服 e2e_agent 为您服务中"

    resolved = agent.post(f"/api/cases/{case[0]['id']}/resolve", {"code": "explained"})
    assert resolved.status_code == 200
    phone.wait_for_selector(".quick-replies.rating button", timeout=15000)
    phone.wait_for_function("document.getElementById('status').textContent === '在线'", timeout=15000)
