"""The desk's daily work through its API, against the real desk process (Rasa is not
running: the case view falls back to the hand-off snapshot, replies stay pending):
every role rule, masking, transfer with a reason, labels, canned replies, search,
resolution codes, 处理记录, CSAT, push events with catch-up, customer typing."""
import json
import re
import time

import pytest
import requests
from e2e.desk_server import DeskProcess

from kefu.desk import greetings
from kefu.handoff import escalations
from kefu.handoff.record import build_record
from kefu.store import dispose_engines

PASSWORD = "roles-pass-123"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def db_url(kefu_env):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEFU_DB_URL", kefu_env["KEFU_DB_URL"])
        dispose_engines()
        yield kefu_env["KEFU_DB_URL"]
        dispose_engines()


@pytest.fixture(scope="module")
def desk(kefu_env, db_url, tmp_path_factory):
    process = DeskProcess(kefu_env, "http://127.0.0.1:9", tmp_path_factory.mktemp("roles") / "desk.log")
    process.start()
    for name, role in [("r_wang", "agent"), ("r_li", "agent"), ("r_boss", "supervisor"),
                       ("r_trainer", "trainer")]:
        process.add_agent(name, PASSWORD, role=role)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def people(desk):
    return {name: desk.login(name, PASSWORD) for name in ("r_wang", "r_li", "r_boss", "r_trainer")}


def make_case(sender, phone=None, order=None, text="杯子漏水了，太气人了"):
    tracker = {"sender_id": sender, "latest_input_channel": "rest", "events": [
        {"event": "user", "text": text, "timestamp": time.time(), "input_channel": "rest",
         "parse_data": {"intent": {"name": "complain_quality"}, "entities": []}}]}
    slots = {"problem": text, "complaint_category": "quality", "contact_phone": phone, "order_id": order}
    return escalations.create_escalation(build_record(tracker, slots, "customer_request"))


def chinese_error(response, status):
    assert response.status_code == status, response.text
    assert CHINESE.search(response.json()["detail"]), response.json()
    return response.json()


# --- roles ------------------------------------------------------------------------------------

ACTIONS = [("claim", {}), ("transfer", {"agent": "r_li", "reason": "顾客要求"}), ("notes", {"text": "备注"}),
           ("labels", {"labels": ["logistics"]}), ("reply", {"text": "您好"}),
           ("resolve", {"code": "solved"})]


@pytest.mark.parametrize("action, body", ACTIONS)
def test_a_trainer_can_do_nothing_to_a_case(people, db_url, action, body):
    case = make_case(f"roles-trainer-{action}")
    error = chinese_error(people["r_trainer"].post(f"/api/cases/{case['id']}/{action}", body), 403)
    assert error["error"] == "forbidden" and "训练师" in error["detail"]


def test_a_trainer_sees_no_action_buttons(people, db_url):
    case = make_case("roles-trainer-page")
    page = people["r_trainer"].get(f"/cases/{case['id']}").text
    for control in ('id="claim"', 'id="resolve"', 'id="transfer"', 'id="reply-form"', 'id="note-form"',
                    'id="alert-toggle"'):
        assert control not in page
    assert "只能查看" in page
    agent_page = people["r_wang"].get(f"/cases/{case['id']}").text
    assert 'id="claim"' in agent_page and 'id="reply-form"' in agent_page


def test_only_supervisors_edit_canned_replies(people, db_url):
    body = {"title": "物流催促", "text": "您的订单{order}我已经帮您催了快递，有新进展我第一时间告诉您。"}
    chinese_error(people["r_wang"].post("/api/canned", body), 403)
    chinese_error(people["r_trainer"].post("/api/canned", body), 403)
    saved = people["r_boss"].post("/api/canned", body)
    assert saved.status_code == 201, saved.text
    reply_id = saved.json()["id"]
    changed = people["r_boss"].http.put(people["r_boss"].url + f"/api/canned/{reply_id}",
                                        json=dict(body, title="物流催促（新）"),
                                        headers={"X-CSRF-Token": people["r_boss"].csrf})
    assert changed.status_code == 200 and changed.json()["title"] == "物流催促（新）"
    wang_delete = people["r_wang"].http.delete(people["r_wang"].url + f"/api/canned/{reply_id}",
                                               headers={"X-CSRF-Token": people["r_wang"].csrf})
    assert wang_delete.status_code == 403
    assert "物流催促（新）" in [r["title"] for r in people["r_wang"].get("/api/canned").json()["replies"]]
    assert 'id="canned-form"' not in people["r_wang"].get("/canned").text
    assert 'id="canned-form"' in people["r_boss"].get("/canned").text


def test_canned_replies_are_guard_checked_and_filled_per_case(people, db_url):
    boss = people["r_boss"]
    rejected = boss.post("/api/canned", {"title": "反问", "text": "您确定真的没收到吗？"})
    assert rejected.status_code == 409 and rejected.json()["error"] == "guard"
    assert rejected.json()["violations"] and "您确定" in json.dumps(rejected.json(), ensure_ascii=False)
    assert "反问" not in [r["title"] for r in boss.get("/api/canned").json()["replies"]]
    chinese_error(boss.post("/api/canned", {"title": "坏变量", "text": "您的{phone}我记下了"}), 400)
    chinese_error(boss.post("/api/canned", {"title": "", "text": "好的"}), 400)
    boss.post("/api/canned", {"title": "订单跟进", "text": "订单{order}的情况我来跟进，我是{agent}。"})
    case = make_case("roles-canned", phone="13800000002", order="KF20261102")
    replies = people["r_wang"].get(f"/api/canned?case={case['id']}").json()["replies"]
    filled = next(r["filled"] for r in replies if r["title"] == "订单跟进")
    assert filled == "订单KF20261102的情况我来跟进，我是r_wang。"
    bare = make_case("roles-canned-bare")
    replies = people["r_wang"].get(f"/api/canned?case={bare['id']}").json()["replies"]
    assert next(r["filled"] for r in replies if r["title"] == "订单跟进").startswith("订单{order}")


# --- masking ------------------------------------------------------------------------------------

def test_lists_mask_the_phone_name_the_customer_and_hide_the_conversation_id(people, db_url):
    known = make_case("roles-mask-known", phone="13800000001")  # 张伟 in the seeded store
    unknown = make_case("roles-mask-unknown", phone="13912345678")
    anonymous = make_case("roles-mask-anon-8f3a2c")
    for who in ("r_wang", "r_trainer", "r_boss"):
        listed = {c["id"]: c for c in people[who].get("/api/queue").json()["cases"]}
        assert listed[known["id"]]["customer"] == "张伟 138****0001"
        assert listed[unknown["id"]]["customer"] == "139****5678"
        assert listed[anonymous["id"]]["customer"] == "接口访客（未留手机号）"
        raw = json.dumps(listed, ensure_ascii=False)
        assert "13800000001" not in raw and "13912345678" not in raw and "roles-mask-anon" not in raw
        assert "sender_id" not in listed[known["id"]]


def test_the_full_phone_only_for_the_agent_on_the_case(people, db_url):
    case = make_case("roles-mask-owner", phone="13912340000", text="我电话13912340000，赶紧回我")
    path = f"/api/cases/{case['id']}"
    assert people["r_wang"].post(path + "/claim").status_code == 200
    mine = people["r_wang"].get(path).json()
    assert mine["record"]["facts"]["contact_phone"] == "13912340000" and mine["phone_visible"]
    for other in ("r_li", "r_trainer", "r_boss"):
        seen = people[other].get(path).json()
        assert seen["record"]["facts"]["contact_phone"] == "139****0000"
        assert "13912340000" not in json.dumps(seen, ensure_ascii=False)
        assert "139****0000" in seen["transcript"][0]["text"]


# --- transfer, supervisors ------------------------------------------------------------------------

def test_transfer_needs_a_reason_and_reaches_agents_and_supervisors(people, db_url):
    wang, li, boss = people["r_wang"], people["r_li"], people["r_boss"]
    case = make_case("roles-transfer")
    path = f"/api/cases/{case['id']}"
    team = wang.get("/api/agents").json()["agents"]
    assert {"r_li", "r_boss"} <= {a["name"] for a in team}
    assert all(a["role"] in ("agent", "supervisor") for a in team)
    assert next(a for a in team if a["name"] == "r_li")["online"] is True
    wang.post(path + "/claim")
    assert "请写明转交原因" in chinese_error(wang.post(path + "/transfer", {"agent": "r_li"}), 400)["detail"]
    chinese_error(wang.post(path + "/transfer", {"reason": "x"}), 400)
    chinese_error(wang.post(path + "/transfer", {"agent": "nobody", "reason": "试试"}), 409)
    chinese_error(wang.post(path + "/transfer", {"agent": "r_trainer", "reason": "试试"}), 409)
    assert wang.post(path + "/transfer", {"agent": "r_boss", "reason": "顾客要求找主管"}).status_code == 200
    chinese_error(li.post(path + "/transfer", {"agent": "r_li", "reason": "我来"}), 409)  # not li's
    # The supervisor reassigns it on to li.
    assert boss.post(path + "/transfer", {"agent": "r_li", "reason": "李工熟悉这个品类"}).status_code == 200
    view = li.get(path).json()
    assert view["agent"] == "r_li"
    assert [(a["kind"], a["by"], a["agent"], a["reason"]) for a in view["assignments"]] == [
        ("claim", "r_wang", "r_wang", None), ("transfer", "r_wang", "r_boss", "顾客要求找主管"),
        ("transfer", "r_boss", "r_li", "李工熟悉这个品类")]
    other = make_case("roles-reassign")
    wang.post(f"/api/cases/{other['id']}/claim")
    assert boss.post(f"/api/cases/{other['id']}/transfer", {"agent": "r_li", "reason": "平衡工作量"}).status_code == 200
    kinds = [a["kind"] for a in li.get(f"/api/cases/{other['id']}").json()["assignments"]]
    assert kinds == ["claim", "reassign"]


def test_taking_a_case_tells_the_customer_who_has_it(people, db_url):
    case = make_case("roles-greeting")
    path = f"/api/cases/{case['id']}"
    people["r_wang"].post(path + "/claim")
    people["r_wang"].post(path + "/transfer", {"agent": "r_li", "reason": "下班交接"})
    messages = people["r_li"].get(path).json()["messages"]
    assert [m["automatic"] for m in messages] == [True, True]
    assert "r_wang" in messages[0]["text"] and "r_li" in messages[1]["text"]
    assert messages[0]["status"] == "pending"  # Rasa is down here: kept and retried
    assert escalations.customer_status("roles-greeting") == {"state": "served", "agent": "r_li"}


def test_every_greeting_passes_the_guard():
    from kefu.guard import check
    for text in greetings.all_texts():
        assert check(text, {}) == [], text


def test_the_customer_status_tells_waiting_callback_and_served(desk, people, db_url):
    case = make_case("roles-status")
    status = requests.get(desk.url + "/customer/roles-status/status").json()
    assert status["state"] == "waiting" and status["online"] >= 1 and "ahead" in status
    escalations.attach_callback(case["id"], "T2026120500009")
    assert requests.get(desk.url + "/customer/roles-status/status").json()["state"] == "waiting"  # someone is online
    people["r_li"].post(f"/api/cases/{case['id']}/claim")
    assert requests.get(desk.url + "/customer/roles-status/status").json() == {"state": "served", "agent": "r_li"}
    assert requests.get(desk.url + "/customer/never-escalated/status").json() == {"state": "bot"}


# --- labels, resolve, history, ratings ---------------------------------------------------------------

def test_labels_resolution_codes_history_and_csat(people, db_url):
    wang = people["r_wang"]
    case = make_case("roles-resolve", phone="13800000003")
    path = f"/api/cases/{case['id']}"
    wang.post(path + "/claim")
    chinese_error(wang.post(path + "/labels", {"labels": ["made_up"]}), 400)
    assert wang.post(path + "/labels", {"labels": ["logistics", "policy"]}).status_code == 200
    assert wang.post(path + "/notes", {"text": "顾客下午三点后方便接电话"}).status_code == 201
    assert "请选择处理结果" in chinese_error(wang.post(path + "/resolve", {}), 400)["detail"]
    chinese_error(people["r_li"].post(path + "/resolve", {"code": "solved"}), 409)  # wang's case
    escalations.resolve(case["id"], escalations_agent("r_wang"), "refunded", "已退款 89 元")
    assert escalations.record_satisfaction("roles-resolve", 2) == case["id"]
    view = wang.get(path).json()
    assert view["resolution_code"] == "refunded" and view["resolution_name"] == "已退款"
    assert [label["name"] for label in view["labels"]] == ["物流延误", "规则不清楚"]
    lines = [(h["who"], h["text"]) for h in view["history"]]
    assert lines[0][1].startswith("转入人工")
    assert ("r_wang", "接手：r_wang") in lines
    assert ("r_wang", "标记根因：物流延误、规则不清楚") in lines
    assert ("r_wang", "添加备注：顾客下午三点后方便接电话") in lines
    assert ("r_wang", "处理完毕：已退款：已退款 89 元") in lines
    assert ("顾客", "顾客评分：2 分（满分 5 分）") in lines
    assert all(h["at"] for h in view["history"])
    assert view["satisfaction"] == 2
    report = wang.get("/api/csat").json()
    mine = next(row for row in report["agents"] if row["agent"] == "r_wang")
    assert mine["rated"] >= 1 and mine["average"] is not None
    assert "r_wang" in people["r_boss"].get("/csat").text


def escalations_agent(name):
    from kefu.handoff import agents
    return next(a for a in agents.list_agents() if a.name == name)


def test_the_rating_payload_shows_as_a_score(people, db_url):
    from kefu.desk.view import transcript_lines
    lines = transcript_lines([{"role": "customer", "text": '/rate{"rating":"2"}', "at": 1.0}], False)
    assert lines[0]["text"] == "顾客评分：2 分（满分 5 分）" and lines[0]["rating"] == 2


# --- search ---------------------------------------------------------------------------------------

def test_search_by_customer_order_ticket_text_and_filters(people, db_url):
    wang = people["r_wang"]
    a = make_case("roles-search-a", phone="13800000004", order="KF20261104", text="收到的连衣裙颜色不对")
    b = make_case("roles-search-b", phone="13800000005", text="骑手态度特别差")
    escalations.attach_callback(b["id"], "T2026120512345")

    def found(**params):
        response = wang.http.get(wang.url + "/api/cases", params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["cases"]]

    assert a["id"] in found(q="刘洋") and b["id"] not in found(q="刘洋")  # the customer's name
    assert a["id"] in found(q="13800000004")
    assert a["id"] in found(q="KF20261104")
    assert b["id"] in found(q="T2026120512345")
    assert b["id"] in found(q="骑手态度") and a["id"] not in found(q="骑手态度")
    assert a["id"] in found(q="连衣裙", priority=a["priority"], channel="rest", agent="none")
    assert found(q="连衣裙", priority="urgent" if a["priority"] != "urgent" else "normal") == []
    wang.post(f"/api/cases/{a['id']}/claim")
    assert a["id"] in found(agent="r_wang") and a["id"] not in found(agent="none")
    escalations.resolve(a["id"], escalations_agent("r_wang"), "replaced")
    assert a["id"] not in found()  # open cases by default
    assert a["id"] in found(status="resolved")
    history = wang.http.get(wang.url + "/api/cases", params={"status": "resolved"}).json()["cases"]
    assert next(c for c in history if c["id"] == a["id"])["resolution_name"] == "已换货或补发"
    chinese_error(wang.http.get(wang.url + "/api/cases", params={"status": "weird"}), 400)


# --- push ------------------------------------------------------------------------------------------

def read_events(response, want, timeout=15.0):
    """SSE events (kind, id, data) until ``want`` returns True on the list."""
    got, block = [], {}
    deadline = time.monotonic() + timeout
    for line in response.iter_lines(decode_unicode=True):
        if line == "":
            if "event" in block:
                got.append((block["event"], block.get("id"), json.loads(block.get("data", "{}"))))
                if want(got):
                    return got
            block = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            block[key] = value
        if time.monotonic() > deadline:
            break
    return got


def test_push_events_arrive_and_a_reconnect_catches_up(desk, people, db_url):
    wang = people["r_wang"]
    start = wang.get("/api/queue").json()["event_id"]
    stream = wang.http.get(desk.url + f"/api/events?after={start}", stream=True, timeout=30)
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    case = make_case("roles-push-1")  # written by another process, like the action server
    got = read_events(stream, lambda got: any(k == "case_new" and d["case_id"] == case["id"] for k, _, d in got))
    new = next((i, d) for k, i, d in got if k == "case_new" and d["case_id"] == case["id"])
    stream.close()
    # While the page is away (lid closed), two more things happen …
    missed = make_case("roles-push-2")
    wang.post(f"/api/cases/{case['id']}/notes", {"text": "断线期间的备注"})
    # … and the browser reconnects with the last id it saw.
    again = wang.http.get(desk.url + "/api/events", headers={"Last-Event-ID": new[0]}, stream=True, timeout=30)
    got = read_events(again, lambda got: any(d.get("case_id") == case["id"] and k == "case_changed" for k, _, d in got))
    again.close()
    kinds = [(k, d["case_id"]) for k, _, d in got]
    assert ("case_new", missed["id"]) in kinds and ("case_changed", case["id"]) in kinds
    assert ("case_new", case["id"]) not in kinds  # nothing twice
    ids = [int(i) for _, i, _ in got]
    assert ids == sorted(ids) and ids[0] > int(new[0])


def test_customer_typing_reaches_the_case(desk, people, db_url):
    case = make_case("roles-typing")
    start = people["r_wang"].get("/api/queue").json()["event_id"]
    stream = people["r_wang"].http.get(desk.url + f"/api/events?after={start}", stream=True, timeout=30)
    assert requests.post(desk.url + "/customer/roles-typing/typing").json() == {"announced": True}
    assert requests.post(desk.url + "/customer/roles-typing/typing").json() == {"announced": False}  # throttled
    assert requests.post(desk.url + "/customer/nobody-here/typing").json() == {"announced": False}
    got = read_events(stream, lambda got: any(k == "typing" for k, _, _ in got))
    stream.close()
    assert ("typing", case["id"]) in [(k, d["case_id"]) for k, _, d in got]


def test_events_need_a_login(desk):
    assert requests.get(desk.url + "/api/events", timeout=10).status_code == 401


def test_a_stop_ends_open_event_streams_at_once(kefu_env, db_url, tmp_path):
    """Without ending its streams, a stopped desk waits out aiohttp's minute of grace
    for pages that never hang up (supervisord would kill it first)."""
    import subprocess

    own = DeskProcess(kefu_env, "http://127.0.0.1:9", tmp_path / "desk.log").start()
    try:
        own.add_agent("r_stop", PASSWORD)
        stream = own.login("r_stop", PASSWORD).http.get(own.url + "/api/events", stream=True, timeout=30)
        assert stream.status_code == 200 and next(stream.iter_lines(decode_unicode=True)) == "retry: 2000"
        own.process.terminate()
        try:
            own.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("the desk still runs 10 s after SIGTERM with one event stream open")
    finally:
        own.stop()
