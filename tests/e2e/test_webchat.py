"""The customer web chat in a real headless Chromium, against the real Rasa server
(its socket.io channel), action server and agent desk.

A complete complaint through the six steps, typed and clicked; a reload in the middle
of a conversation; text that looks like HTML, emoji and oversized input; a phone-sized
screenshot; and an agent's reply arriving live after a hand-off.  Screenshots go to
tests/e2e/artifacts/ (git-ignored).  Needs Debian's chromium (``make setup``).
"""
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from e2e.desk_server import DeskProcess, escalations_of, free_port, set_agents_offline, wait_for

from kefu.complaint import STEPS

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"width": 375, "height": 667}
EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>粗体</b>'
BOT_LINES = "#messages .line.bot, #messages .line.agent"
CHANNEL = "kefu.webchat.channel.WebChatInput"



# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def webchat(servers, tmp_path_factory):
    """``python -m kefu.webchat`` on a free port, reading transcripts from the test Rasa."""
    if CHANNEL not in (ROOT / "credentials.yml").read_text(encoding="utf-8"):
        pytest.fail(f"credentials.yml must configure {CHANNEL} instead of `socketio:` — Rasa's stock "
                    "channel never joins a persistent session's room (RasaHQ/rasa#13027), so no reply "
                    "reaches the page, and it drops the agent mark (see kefu/webchat/channel.py)")
    port = free_port()
    log = tmp_path_factory.mktemp("webchat") / "webchat.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "kefu.webchat", "--port", str(port), "--rasa-url", servers.rasa_url],
        cwd=ROOT, env=servers.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        up = wait_for(lambda: process.poll() is None and answers(url + "/healthz"), timeout=30, interval=0.2)
        assert up, log.read_text()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False



@pytest.fixture
def phone(browser, webchat):
    """A fresh phone-sized page (its own localStorage: a new conversation).  The page's
    CSP is bypassed so Playwright may evaluate its checks, and so the XSS test proves
    the escaping itself, not the CSP."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  bypass_csp=True)
    page = context.new_page()
    page.goto(webchat + "/")
    wait_connected(page)
    yield page
    context.close()


# --- driving the page -------------------------------------------------------------------------

def wait_connected(page) -> None:
    page.wait_for_function("document.getElementById('status').textContent.indexOf('连接') < 0", timeout=20000)
    page.wait_for_selector("#messages .line", timeout=20000)  # the welcome or the transcript


def session_id(page) -> str:
    return page.evaluate("localStorage.getItem('kefu.webchat.session')")


def bot_count(page) -> int:
    return page.locator(BOT_LINES).count()


def settle(page, before: int, quiet: float = 1.2, timeout: float = 40) -> None:
    """Wait for the bot's answer: a new message, then no more for ``quiet`` seconds."""
    page.wait_for_function(f"document.querySelectorAll({BOT_LINES!r}).length > {before}",
                           timeout=timeout * 1000)
    count, since = bot_count(page), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.2)
        if bot_count(page) != count:
            count, since = bot_count(page), time.monotonic()


def say(page, text: str) -> None:
    before = bot_count(page)
    page.fill("#input", text)
    page.press("#input", "Enter")
    settle(page, before)


def press(page, title: str) -> None:
    before = bot_count(page)
    page.locator(".quick-replies button", has_text=title).first.click()
    settle(page, before)


def last_bot_text(page) -> str:
    return page.locator(BOT_LINES).last.inner_text()


def customer_texts(page) -> list:
    return page.locator("#messages .line.customer .bubble").all_inner_texts()


def user_texts(servers, sender: str) -> list:
    return [e["text"] for e in servers.tracker(sender)["events"] if e.get("event") == "user"]


def step_values(tracker: dict) -> list:
    return [e["value"] for e in tracker["events"]
            if e.get("event") == "slot" and e.get("name") == "complaint_step" and e.get("value")]


def watch_typing(page) -> None:
    """Remember whether the typing dots were ever shown (the reply may come fast)."""
    page.evaluate("""() => {
        window.__typingSeen = false;
        new MutationObserver(() => { if (!document.getElementById('typing').hidden) window.__typingSeen = true; })
            .observe(document.getElementById('typing'), {attributes: true});
    }""")


# --- tests ------------------------------------------------------------------------------------

def test_a_complete_complaint_through_the_six_steps(phone, servers):
    watch_typing(phone)
    say(phone, "你们这什么破杯子")
    assert phone.evaluate("window.__typingSeen") is True
    assert phone.locator("#typing").is_hidden()
    for text in ["收到盖子就是裂的，一倒水全漏桌上了😡", "kf20261101", "13800000001", "前天到的", "换个新的吧"]:
        say(phone, text)
    assert "跟您确认一下" in phone.locator("#messages").inner_text()
    press(phone, "对的")
    press(phone, "换货")
    assert "T20" in phone.locator("#messages").inner_text()  # the ticket id
    ratings = phone.locator(".quick-replies.rating button")
    assert ratings.count() == 5
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "webchat_rating_phone.png"))
    press(phone, "5分")

    assert customer_texts(phone)[-3:] == ["对的", "换货", "5分 非常满意"]  # titles, not payloads
    assert phone.locator(".quick-replies").count() == 0
    tracker = servers.tracker(session_id(phone))
    assert [s for s in step_values(tracker) if s in STEPS][:6] == list(STEPS)
    users = [e for e in tracker["events"] if e.get("event") == "user"]
    assert {e["input_channel"] for e in users} == {"socketio"}
    assert users[-1]["text"] == '/rate{"rating":"5"}'
    no_horizontal_scroll(phone)
    phone.screenshot(path=str(ARTIFACTS / "webchat_complaint_phone.png"), full_page=True)


def test_a_reload_keeps_the_conversation_and_it_goes_on(phone, servers):
    say(phone, "我买的耳机收到就坏了")
    say(phone, "左边耳朵完全没声音")
    sender, before = session_id(phone), phone.locator("#messages .line").all_inner_texts()

    phone.reload()
    wait_connected(phone)
    phone.wait_for_function(f"document.querySelectorAll('#messages .line').length >= {len(before)}")
    assert session_id(phone) == sender
    assert phone.locator("#messages .line").all_inner_texts() == before

    say(phone, "KF20261102")
    assert user_texts(servers, sender) == ["我买的耳机收到就坏了", "左边耳朵完全没声音", "KF20261102"]
    assert servers.tracker(sender)["slots"]["order_id"] == "KF20261102"


def test_html_emoji_and_oversized_input(phone, servers):
    say(phone, EVIL)
    assert customer_texts(phone)[-1] == EVIL  # shown as text …
    assert phone.evaluate("window.__pwned") is None  # … never run
    assert phone.locator("#messages b, #messages img, #messages script").count() == 0

    say(phone, "😡😡😡")
    assert customer_texts(phone)[-1] == "😡😡😡"

    shown = len(customer_texts(phone))
    phone.fill("#input", "   ")
    assert phone.locator("#send").is_disabled()
    phone.press("#input", "Enter")
    phone.fill("#input", "快" * 1001)
    assert phone.locator("#send").is_disabled()
    assert phone.inner_text("#counter") == "1001/1000"
    assert "最多1000字" in phone.inner_text("#notice")
    phone.press("#input", "Enter")
    assert len(customer_texts(phone)) == shown  # nothing sent …
    assert phone.input_value("#input") == "快" * 1001  # … and nothing lost

    # Exactly 1,000 characters.  Two messages it did not understand handed the customer
    # over; while paused the bot only acknowledges: the message must reach the tracker whole.
    phone.fill("#input", "快递没到" * 250)
    phone.press("#input", "Enter")
    assert customer_texts(phone)[-1] == "快递没到" * 250
    assert phone.input_value("#input") == ""
    sender = session_id(phone)
    assert wait_for(lambda: user_texts(servers, sender)[-1:] == ["快递没到" * 250], timeout=30)
    assert user_texts(servers, sender) == [EVIL, "😡😡😡", "快递没到" * 250]
    no_horizontal_scroll(phone)

    phone.reload()  # the transcript from the server is text, too
    wait_connected(phone)
    phone.wait_for_function("document.querySelectorAll('#messages .line.customer').length >= 3")
    assert EVIL in customer_texts(phone)
    assert phone.evaluate("window.__pwned") is None
    assert phone.locator("#messages b, #messages img, #messages script").count() == 0


def no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.fixture
def desk(servers, tmp_path_factory):
    process = DeskProcess(servers.env, servers.rasa_url, tmp_path_factory.mktemp("webdesk") / "desk.log")
    process.start()
    process.add_agent("webchat_zhang", "webchat-pass-1")
    yield process
    process.stop()
    set_agents_offline(servers.env["KEFU_DB_URL"])


def test_an_agent_reply_arrives_live_after_a_hand_off(phone, servers, desk):
    agent = desk.login("webchat_zhang", "webchat-pass-1")
    say(phone, "外卖送来全洒了，骑手态度还很差")
    say(phone, "我要人工")
    sender = session_id(phone)
    case = wait_for(lambda: escalations_of(servers.env["KEFU_DB_URL"], sender))
    assert case, "no escalation after the hand-off"
    phone.evaluate("window.__sameDocument = true")  # gone if the page reloads

    sent = agent.post(f"/api/cases/{case[0]['id']}/reply", {"text": "您好，我是客服小张，您的情况我看到了，这就帮您处理。"})
    assert sent.status_code == 201 and sent.json()["delivered"] is True
    line = phone.wait_for_selector("#messages .line.agent", timeout=15000)
    assert "您好，我是客服小张" in line.inner_text()
    assert phone.inner_text("#messages .line.agent .badge") == "人工客服"
    assert "webchat_zhang" in phone.inner_text("#messages .line.agent .who")
    assert phone.evaluate("window.__sameDocument") is True
    phone.wait_for_function("document.getElementById('status').textContent.indexOf('人工') >= 0")
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "webchat_agent_phone.png"))

    assert agent.post(f"/api/cases/{case[0]['id']}/resolve", {"code": "solved"}).status_code == 200
    phone.wait_for_selector(".quick-replies.rating button", timeout=15000)  # the bot is back, live
    press(phone, "4分")
    assert "谢谢" in last_bot_text(phone)
    assert servers.tracker(sender)["paused"] is False

    phone.reload()  # the agent's mark survives a reload
    wait_connected(phone)
    phone.wait_for_selector("#messages .line.agent .badge")
