"""The desk with the real Rasa and action servers: an agent answers a handed-over
customer, the REST customer polls the reply, the guard warns, the agent resolves and
the bot asks for a rating; and nothing is lost when the desk restarts."""

import pytest
import requests
from e2e.desk_server import DeskProcess, escalations_of, set_agents_offline, wait_for

from kefu.complaint.wording import WAITING_NOTED

PASSWORD = "flow-desk-pass"


@pytest.fixture(scope="module")
def desk(servers, tmp_path_factory):
    process = DeskProcess(servers.env, servers.rasa_url, tmp_path_factory.mktemp("deskflow") / "desk.log")
    process.start()
    process.add_agent("flow_wang", PASSWORD)
    process.add_agent("flow_li", PASSWORD)
    yield process
    process.stop()
    set_agents_offline(servers.env["KEFU_DB_URL"])


def poll(desk, sender, after=0.0):
    response = requests.get(f"{desk.url}/customer/{sender}/messages", params={"after": after})
    assert response.status_code == 200
    return response.json()["messages"]


def case_of(servers, sender):
    (case,) = escalations_of(servers.env["KEFU_DB_URL"], sender)
    return case


def test_reply_reaches_the_rest_customer_and_resolve_resumes_the_bot(servers, desk):
    wang = desk.login("flow_wang", PASSWORD)  # online now: the customer is told the wait
    sender = "deskflow-1"
    assert "预计等待约" in " ".join(r.get("text", "") for r in servers.say(sender, "/request_human"))
    case = case_of(servers, sender)
    queue = wang.get("/api/queue").json()["cases"]
    assert case["id"] in [item["id"] for item in queue]
    # Paused: the bot predicts nothing, but the customer is told the message is kept.
    (ack,) = servers.say(sender, "我的订单是KF20261102，麻烦快点")
    assert "约" in ack["text"] and "分钟" in ack["text"]
    (receipt,) = servers.say(sender, "快点啊")  # one acknowledgement per 2 minutes, a receipt between
    assert receipt["text"] in WAITING_NOTED and "分钟" not in receipt["text"]

    view = wang.get(f"/api/cases/{case['id']}").json()
    assert view["live"] is True
    said = [line for line in view["transcript"] if line["text"] == "我的订单是KF20261102，麻烦快点"]
    assert len(said) == 1 and said[0]["while_paused"] is True

    sent = wang.post(f"/api/cases/{case['id']}/reply", {"text": "您好，我是客服小王，这就帮您查订单KF20261102。"})
    assert sent.status_code == 201 and sent.json()["delivered"] is True
    (message,) = poll(desk, sender)
    assert message == {"text": "您好，我是客服小王，这就帮您查订单KF20261102。", "from": "agent",
                       "at": message["at"], "buttons": []}
    agent_event = [e for e in servers.tracker(sender)["events"] if e.get("event") == "bot"][-1]
    assert agent_event["metadata"]["kefu_from"] == "agent" and agent_event["metadata"]["agent"] == "flow_wang"
    assert servers.tracker(sender)["paused"] is True

    li = desk.login("flow_li", PASSWORD)
    assert li.post(f"/api/cases/{case['id']}/resolve", {"code": "solved"}).status_code == 409  # wang's case
    resolved = wang.post(f"/api/cases/{case['id']}/resolve", {"code": "solved"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    tracker = servers.tracker(sender)
    assert tracker["paused"] is False
    later = poll(desk, sender, after=message["at"])
    assert [m["from"] for m in later] == ["bot", "bot"]
    assert "打个分" in later[1]["text"] and len(later[1]["buttons"]) == 5

    rated = servers.say(sender, '/rate{"rating":"5"}')
    assert "谢谢您的评价" in rated[0]["text"]
    assert case_of(servers, sender)["satisfaction"] == 5
    assert case["id"] not in [item["id"] for item in wang.get("/api/queue").json()["cases"]]


def test_the_guard_warns_before_a_forbidden_reply(servers, desk):
    wang = desk.login("flow_wang", PASSWORD)
    sender = "deskflow-guard"
    servers.say(sender, "/request_human")
    case = case_of(servers, sender)
    draft = "您确定真的没收到吗？"
    checked = wang.post(f"/api/cases/{case['id']}/check", {"text": draft}).json()
    assert [v["id"] for v in checked["violations"]] == ["doubt"]
    refused = wang.post(f"/api/cases/{case['id']}/reply", {"text": draft})
    assert refused.status_code == 409 and refused.json()["violations"][0]["why"]
    assert poll(desk, sender) == []  # nothing reached the customer
    sent = wang.post(f"/api/cases/{case['id']}/reply", {"text": draft, "confirm": True})
    assert sent.status_code == 201 and sent.json()["warnings"][0]["id"] == "doubt"
    assert [m["text"] for m in poll(desk, sender)] == [draft]


def test_claim_transfer_and_notes(servers, desk):
    wang, li = desk.login("flow_wang", PASSWORD), desk.login("flow_li", PASSWORD)
    sender = "deskflow-transfer"
    servers.say(sender, "/request_human")
    case_id = case_of(servers, sender)["id"]
    assert wang.post(f"/api/cases/{case_id}/claim").json()["agent"] == "flow_wang"
    assert li.post(f"/api/cases/{case_id}/claim").status_code == 409
    assert wang.post(f"/api/cases/{case_id}/notes", {"text": "老顾客，语气要缓和"}).status_code == 201
    moved = wang.post(f"/api/cases/{case_id}/transfer", {"agent": "flow_li", "reason": "李工熟悉外卖"})
    assert moved.json()["agent"] == "flow_li"
    view = li.get(f"/api/cases/{case_id}").json()
    assert [a["kind"] for a in view["assignments"]] == ["claim", "transfer"]
    assert view["assignments"][1]["reason"] == "李工熟悉外卖"
    assert view["notes"][0]["text"] == "老顾客，语气要缓和"
    # The customer is told who has the case, each time; notes stay internal.
    told = poll(desk, sender)
    assert [m["from"] for m in told] == ["agent", "agent"]
    assert "flow_wang" in told[0]["text"] and "flow_li" in told[1]["text"]
    assert not any("老顾客" in m["text"] for m in told)


def test_everything_survives_a_desk_restart(servers, desk, tmp_path):
    """Reply written while Rasa is unreachable stays pending and is delivered later;
    a customer message sent while the desk is down shows when it is back."""
    wang = desk.login("flow_wang", PASSWORD)
    sender = "deskflow-restart"
    servers.say(sender, "/request_human")
    case_id = case_of(servers, sender)["id"]
    wang.post(f"/api/cases/{case_id}/notes", {"text": "重启前的备注"})

    cut_off = DeskProcess(servers.env, "http://127.0.0.1:9", tmp_path / "cut.log").start()
    agent = cut_off.login("flow_wang", PASSWORD)
    sent = agent.post(f"/api/cases/{case_id}/reply", {"text": "您好，我在查，请稍等。"})
    assert sent.status_code == 201 and sent.json()["delivered"] is False
    cut_off.stop()
    desk.stop()
    # While no desk runs, the action server still tells the customer who has the case.
    (ack,) = servers.say(sender, "还在吗？")
    assert "flow_wang" in ack["text"]
    desk.start()
    assert wait_for(lambda: poll(desk, sender), timeout=20)[0]["text"] == "您好，我在查，请稍等。"
    wang = desk.login("flow_wang", PASSWORD)
    view = wang.get(f"/api/cases/{case_id}").json()
    assert "还在吗？" in [line["text"] for line in view["transcript"]]
    assert view["notes"][0]["text"] == "重启前的备注"
    assert view["messages"][0]["status"] == "delivered"
