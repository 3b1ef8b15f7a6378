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
    page.wait_for_function("() => document.getElementById('case-status').textContent.includes('已处理完')",
                           timeout=15000)
    later = wait_for(lambda: customer_poll(desk, sender, after=got[0]["at"]))
    assert "打个分" in later[-1]["text"]
    assert servers.tracker(sender)["paused"] is False
    rated = servers.say(sender, '/rate{"rating":"4"}')
    assert "谢谢您的评价" in rated[0]["text"]
    page.close()
