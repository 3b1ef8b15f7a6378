"""kefu's one Rasa client and its one settings module, against a small HTTP server on
loopback that answers like Rasa does (and like a broken Rasa would): the token goes
with every API call and never into a message; each failure is its own clear error;
the desk, the web chat history, `make chat` and the guard's CLI all go through it."""
import asyncio
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kefu.rasa_client import AsyncRasaClient, RasaBadAnswer, RasaClient, RasaNotFound, RasaRefused, RasaUnreachable
from kefu.settings import SettingError, settings
from kefu.wait import free_port

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "secret-token-123"
TRACKER = {"sender_id": "c1", "events": [
    {"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet"}}},
    {"event": "bot", "text": "这个肯定是快递的问题。"}]}


class FakeRasa(BaseHTTPRequestHandler):
    calls: list = []

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body, raw: bool = False):
        data = body.encode() if raw else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._route("GET", None)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._route("POST", json.loads(self.rfile.read(length) or b"null"))

    def _route(self, method, body):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        FakeRasa.calls.append((method, url.path, query, body))
        if url.path == "/webhooks/rest/webhook":
            return self._answer(200, [{"recipient_id": body["sender"], "text": f"收到：{body['message']}",
                                       "buttons": [{"title": "是", "payload": "/affirm"}]}])
        if query.get("token") != TOKEN:
            return self._answer(401, {"message": f"bad token {query.get('token')}"})
        if "/conversations/slow/" in url.path:
            import time

            time.sleep(2)
        if "/conversations/broken/" in url.path:
            return self._answer(500, "<html>oops</html>", raw=True)
        if "/conversations/notjson/" in url.path:
            return self._answer(200, "not json", raw=True)
        if url.path.endswith("/tracker") and "missing" not in url.path:
            return self._answer(200, TRACKER)
        if url.path.endswith("/execute"):
            return self._answer(200, {"tracker": TRACKER, "messages": []})
        return self._answer(404, {"message": "not found"})


@pytest.fixture(scope="module")
def rasa():
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_settings_come_from_the_environment_with_defaults(tmp_path):
    (tmp_path / "token").write_text("from-file\n")
    current = settings({"KEFU_HOME": str(tmp_path), "KEFU_RASA_URL": "http://rasa:5005/"})
    assert current.rasa_url == "http://rasa:5005" and current.token == "from-file"
    assert current.tracker_db == str(tmp_path / "tracker.db") and current.rasa_timeout == 30.0
    assert settings({"KEFU_HOME": str(tmp_path), "KEFU_TOKEN": "env"}).token == "env"
    assert settings({}).rasa_url == "http://localhost:5005" and settings({}).redis_url is None
    with pytest.raises(SettingError, match="KEFU_RASA_TIMEOUT"):
        settings({"KEFU_RASA_TIMEOUT": "soon"})


def test_calls_carry_the_token_and_answers_come_back(rasa):
    FakeRasa.calls.clear()
    client = RasaClient(rasa, TOKEN)
    assert client.say("c1", "你好")[0]["text"] == "收到：你好"
    assert client.events("odd id/?#") == TRACKER["events"]
    client.execute("c1", "action_handoff_relay", output_channel="latest")
    (say, tracker, execute) = FakeRasa.calls
    assert say[2] == {} and say[3] == {"sender": "c1", "message": "你好"}  # the webhook needs no token
    assert tracker[1] == "/conversations/odd%20id%2F%3F%23/tracker"  # the id is one path segment
    assert tracker[2] == {"token": TOKEN, "include_events": "ALL"}
    assert execute[2] == {"token": TOKEN, "output_channel": "latest"} and execute[3] == {"name": "action_handoff_relay"}


@pytest.mark.parametrize("sender, error, words", [
    ("missing", RasaNotFound, "404"),
    ("broken", RasaBadAnswer, "500"),
    ("notjson", RasaBadAnswer, "not answer with JSON"),
])
def test_each_failure_is_a_clear_error(rasa, sender, error, words):
    with pytest.raises(error, match=words):
        RasaClient(rasa, TOKEN).tracker(sender)


def test_a_wrong_token_is_refused_and_never_shown(rasa):
    with pytest.raises(RasaRefused) as caught:
        RasaClient(rasa, "wrong-secret").tracker("c1")
    assert "KEFU_TOKEN" in str(caught.value) and "wrong-secret" not in str(caught.value)


def test_down_and_slow_servers_are_unreachable(rasa):
    with pytest.raises(RasaUnreachable, match="not reachable at http://127.0.0.1:1"):
        RasaClient("http://127.0.0.1:1", TOKEN).tracker("c1")
    with pytest.raises(RasaUnreachable, match="timed out"):
        RasaClient(rasa, TOKEN, timeout=0.5).tracker("slow")


def test_the_async_client_behaves_alike(rasa):
    async def run():
        client = AsyncRasaClient(rasa, TOKEN)
        try:
            events = await client.events("c1")
            with pytest.raises(RasaRefused):
                await AsyncRasaClient(rasa, "nope").tracker("c1")
            with pytest.raises(RasaNotFound):
                await client.tracker("missing")
            with pytest.raises(RasaUnreachable, match="timed out"):
                await AsyncRasaClient(rasa, TOKEN, timeout=0.5).tracker("slow")
            return events
        finally:
            await client.close()

    assert asyncio.run(run()) == TRACKER["events"]


def test_the_desk_keeps_its_names_and_sends_to_the_latest_channel(rasa, monkeypatch):
    from kefu.desk.rasa_api import RasaApi, RasaUnavailable

    monkeypatch.setenv("KEFU_RASA_URL", rasa)
    monkeypatch.setenv("KEFU_TOKEN", TOKEN)
    FakeRasa.calls.clear()

    async def run():
        api = RasaApi()
        try:
            await api.execute("c1", "action_handoff_relay")
            with pytest.raises(RasaUnavailable):
                await api.tracker("broken")
        finally:
            await api.close()

    asyncio.run(run())
    assert FakeRasa.calls[0][2] == {"token": TOKEN, "output_channel": "latest"}


def test_the_web_chat_history_reads_through_the_client(rasa):
    from kefu.webchat import history

    assert history.fetch_tracker(rasa, TOKEN, "c1") == TRACKER
    with pytest.raises(history.HistoryUnavailable, match="not reachable"):
        history.fetch_tracker("http://127.0.0.1:1", TOKEN, "c1")


def run_module(module, *args, env=None, stdin=""):
    import os

    full = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", module, *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env=full, timeout=120)


def test_make_chat_talks_through_the_client(rasa):
    done = run_module("kefu.chat", "--sender", "shell-test", env={"KEFU_RASA_URL": rasa}, stdin="你好\n1\n/quit\n")
    assert done.returncode == 0, done.stderr
    assert "小客: 收到：你好" in done.stdout and "[1] 是" in done.stdout and "小客: 收到：/affirm" in done.stdout
    down = run_module("kefu.chat", env={"KEFU_RASA_URL": "http://127.0.0.1:1"}, stdin="你好\n")
    assert down.returncode == 1 and "连接不到机器人" in down.stderr


def test_the_guard_cli_reads_a_conversation_through_the_client(rasa):
    done = run_module("kefu.guard", "--conversation", "c1", env={"KEFU_RASA_URL": rasa, "KEFU_TOKEN": TOKEN})
    assert done.returncode == 1 and "rush_conclusion" in done.stdout, done.stderr
    refused = run_module("kefu.guard", "--conversation", "c1", env={"KEFU_RASA_URL": rasa, "KEFU_TOKEN": "bad"})
    assert refused.returncode == 2 and "refused the API token" in refused.stderr and "Traceback" not in refused.stderr



def test_kefu_settings_are_read_in_one_place():
    import re

    reads = re.compile(r"""environ(?:\.get)?\s*[\[(]\s*["']KEFU_|getenv\(\s*["']KEFU_|_ENV\s*=\s*["']KEFU_""")
    readers = {str(path.relative_to(ROOT)) for path in (ROOT / "kefu").rglob("*.py")
               if reads.search(path.read_text(encoding="utf-8"))}
    assert readers == set()  # every module asks kefu.settings
