"""The web chat's parts without a browser: what a reload shows (``kefu.webchat.history``),
the channel's session join and agent mark (``kefu.webchat.channel``), and the static
server's routes (``kefu.webchat.server``) against a fake Rasa tracker API."""
import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kefu.webchat import history
from kefu.webchat.server import Settings, make_server

SESSION = "0123456789abcdef0123456789abcdef"
TOKEN = "secret-token-1"
RATE = [{"title": f"{n}分", "payload": f'/rate{{"rating":"{n}"}}'} for n in range(1, 6)]
EVENTS = [
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "杯子漏水 <b>x</b>", "input_channel": "socketio",
     "parse_data": {"intent": {"name": "complain_quality"}, "emotion": {"label": "angry"}}},
    {"event": "slot", "name": "complaint_step", "value": "listen"},
    {"event": "bot", "text": "您慢慢说。\n\n还有别的吗？", "data": {}, "metadata": {}},
    {"event": "bot", "text": "跟您确认一下，对吗？",
     "data": {"buttons": [{"title": "对的", "payload": "/affirm"}]}, "metadata": {}},
    {"event": "user", "text": "/affirm", "input_channel": "socketio"},
    {"event": "pause"},
    {"event": "bot", "text": "您好，我是小张。", "data": {},
     "metadata": {"kefu_from": "agent", "agent": "zhang", "agent_message_id": 7, "kefu_push": True}},
    {"event": "bot", "text": "请打个分", "data": {"buttons": RATE}, "metadata": {"kefu_push": True}},
]


# --- history --------------------------------------------------------------------------------

def test_history_shows_what_the_customer_saw_and_nothing_else():
    view = history.customer_view({"events": EVENTS, "paused": True, "slots": {"phone": "13800000001"}})
    assert view["paused"] is True
    assert view["messages"] == [
        {"role": "customer", "text": "杯子漏水 <b>x</b>"},
        {"role": "bot", "text": "您慢慢说。"},
        {"role": "bot", "text": "还有别的吗？"},  # split at blank lines, as the channel sends it
        {"role": "bot", "text": "跟您确认一下，对吗？", "buttons": [{"title": "对的", "payload": "/affirm"}]},
        {"role": "customer", "text": "对的"},  # the pressed button's title, not its payload
        {"role": "agent", "agent": "zhang", "text": "您好，我是小张。"},
        {"role": "bot", "text": "请打个分", "buttons": RATE},
    ]


def test_history_answers_only_for_web_chat_conversations():
    rest = [dict(event, input_channel="rest") if event["event"] == "user" else event for event in EVENTS]
    assert history.customer_view({"events": rest, "paused": True}) == {"messages": [], "paused": False}


@pytest.mark.parametrize("value,ok", [(SESSION, True), ("0123", False), ("../etc/passwd", False),
                                      (SESSION.upper(), False), ("o" + SESSION[1:], False), (None, False)])
def test_session_ids_have_rasas_form(value, ok):
    assert history.valid_session_id(value) is ok


# --- channel --------------------------------------------------------------------------------

class FakeSio:
    def __init__(self):
        self.emitted, self.rooms = [], []

    async def emit(self, event, data=None, room=None, namespace=None):
        self.emitted.append((event, data, room))

    async def enter_room(self, sid, room, namespace=None):  # a coroutine, as in python-socketio 5.10+
        self.rooms.append((sid, room))


def test_agent_messages_carry_only_the_agent_mark():
    from kefu.webchat.channel import WebChatOutput
    sio = FakeSio()
    output = WebChatOutput(sio, "bot_uttered")
    asyncio.run(output.send_text_message(SESSION, "您好\n\n我是小张", kefu_from="agent", agent="zhang",
                                         agent_message_id=7, kefu_push=True))
    asyncio.run(output.send_text_message(SESSION, "机器人的话", kefu_push=True))
    mark = {"kefu_from": "agent", "agent": "zhang"}
    assert sio.emitted == [("bot_uttered", {"text": "您好", "metadata": mark}, SESSION),
                           ("bot_uttered", {"text": "我是小张", "metadata": mark}, SESSION),
                           ("bot_uttered", {"text": "机器人的话"}, SESSION)]


@pytest.mark.parametrize("asked", [SESSION, None, "wechat-openid-of-someone", 42])
def test_session_request_joins_the_room_of_a_valid_id(asked):
    from kefu.webchat.channel import WebChatInput
    channel = WebChatInput(session_persistence=True)
    channel.sio = FakeSio()
    asyncio.run(channel.session_request("sid-1", {"session_id": asked}))
    ((event, confirmed, room),) = channel.sio.emitted
    assert event == "session_confirm" and room == "sid-1"
    assert history.valid_session_id(confirmed)
    assert (confirmed == SESSION) is (asked == SESSION)
    assert channel.sio.rooms == [("sid-1", confirmed)]  # awaited: the room is really joined


# --- the static server --------------------------------------------------------------------

class FakeRasa(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        if parse_qs(url.query).get("token") != [TOKEN]:
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"sender_id": url.path.split("/")[2], "events": EVENTS, "paused": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def site():
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    rasa_url = serve(rasa)
    page = make_server("127.0.0.1", 0, Settings(rasa_url, TOKEN))
    yield serve(page)
    for server in (page, rasa):
        server.shutdown()
        server.server_close()


def test_the_page_and_its_files_are_served_with_a_strict_policy(site):
    page = requests.get(site + "/")
    assert page.status_code == 200 and "小客 客服" in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/static/chat.js", "/static/chat.css", "/vendor/socket.io.min.js"):
        assert requests.get(site + path).status_code == 200, path
    assert "Socket.IO v4" in requests.get(site + "/vendor/socket.io.min.js").text[:200]
    config = requests.get(site + "/config.js")
    assert config.headers["Content-Type"].startswith("application/javascript")
    assert TOKEN not in config.text and '"maxLength": 1000' in config.text


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/.hidden",
                                  "/static/", "/server.py", "/node_modules/socket.io-client/package.json"])
def test_nothing_else_is_served(site, path):
    assert requests.get(site + path).status_code == 404


def test_history_through_the_server(site):
    response = requests.get(site + "/api/history", params={"session": SESSION})
    assert response.status_code == 200
    assert response.json()["messages"][-2] == {"role": "agent", "agent": "zhang", "text": "您好，我是小张。"}
    assert TOKEN not in response.text and "complain_quality" not in response.text
    assert requests.get(site + "/api/history", params={"session": "../../status"}).status_code == 400


def test_history_when_rasa_is_down():
    page = make_server("127.0.0.1", 0, Settings("http://127.0.0.1:9", TOKEN))
    url = serve(page)
    try:
        assert requests.get(url + "/api/history", params={"session": SESSION}).status_code == 502
    finally:
        page.shutdown()
        page.server_close()


def test_history_tells_the_hand_off_state_and_typing_reaches_the_desk(site, db):
    from kefu.desk import events
    from kefu.handoff import escalations
    from kefu.handoff.record import build_record

    assert requests.get(site + "/api/history", params={"session": SESSION}).json()["handoff"] == {"state": "bot"}
    assert requests.post(site + "/api/typing", params={"session": SESSION}).json() == {"announced": False}
    record = build_record({"sender_id": SESSION, "latest_input_channel": "socketio", "events": []}, {},
                          "customer_request")
    case = escalations.create_escalation(record)
    handoff = requests.get(site + "/api/history", params={"session": SESSION}).json()["handoff"]
    assert handoff["state"] in ("waiting", "callback")
    events._typing_seen.clear()  # the first call above started the 2 s throttle
    before = events.latest_id()
    typed = requests.post(site + "/api/typing", params={"session": SESSION})
    assert typed.status_code == 200 and typed.json() == {"announced": True}
    assert [(e["kind"], e["case_id"]) for e in events.events_after(before)] == [("typing", case["id"])]
    assert requests.post(site + "/api/typing", params={"session": "nope"}).status_code == 400
    assert requests.post(site + "/api/other").status_code == 404
