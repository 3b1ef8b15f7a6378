"""Shared fixtures: one real Rasa server and one action server for the whole test session.

Rasa's import is slow (TensorFlow), so the servers start once, on free loopback ports,
with their own database, tracker store and token in a temp folder, using the model
`make train` built (models/kefu.tar.gz).
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kefu.wait import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "kefu.tar.gz"
VENV_BIN = Path(sys.executable).parent


class Servers:
    """URLs, token and helpers for the running Rasa and action servers."""

    def __init__(self, rasa_url: str, action_url: str, token: str, env: dict):
        self.rasa_url, self.action_url, self.token, self.env = rasa_url, action_url, token, env

    def post(self, path: str, body, raw: bool = False):
        data = body if raw else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.rasa_url + path, data=data,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def say(self, sender: str, text: str) -> list:
        status, replies = self.post("/webhooks/rest/webhook", {"sender": sender, "message": text})
        assert status == 200, replies
        return replies

    def tracker(self, sender: str) -> dict:
        url = f"{self.rasa_url}/conversations/{sender}/tracker?token={self.token}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture(scope="session")
def kefu_env(tmp_path_factory):
    """A private KEFU_HOME: seeded database, token, tracker store."""
    home = tmp_path_factory.mktemp("kefu_home")
    env = dict(os.environ)
    env.update(KEFU_HOME=str(home), KEFU_DB_URL=f"sqlite:///{home}/kefu.db",
               KEFU_TRACKER_DIALECT="sqlite", KEFU_TRACKER_DB=str(home / "tracker.db"),
               KEFU_TOKEN="test-token-" + os.urandom(6).hex(), SQLALCHEMY_SILENCE_UBER_WARNING="1",
               TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT),
               WECHAT_TOKEN="wechat-test-" + os.urandom(6).hex(),
               # WeChat's API is faked on this port by tests/test_wechat_e2e.py; the 43-char
               # AES key (hex digits are base64 ones) enables safe mode.
               WECHAT_API_BASE_URL=f"http://127.0.0.1:{free_port()}",
               WECHAT_APP_ID="wx" + os.urandom(8).hex(), WECHAT_APP_SECRET=os.urandom(16).hex(),
               WECHAT_AES_KEY=os.urandom(32).hex()[:43],
               # The suite sends hundreds of messages from 127.0.0.1: limits far above
               # that (tests/test_public_input.py checks the limits themselves).
               KEFU_RATE_ADDRESS="1000000/60", KEFU_RATE_SENDER="100000/60")
    subprocess.run([sys.executable, "-m", "kefu.store", "seed"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    return env


@pytest.fixture(scope="session")
def servers(kefu_env, tmp_path_factory):
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test does it)")
    logs = tmp_path_factory.mktemp("logs")
    action_port, rasa_port = free_port(), free_port()
    env = dict(kefu_env, KEFU_ACTION_URL=f"http://127.0.0.1:{action_port}/webhook")
    action_log, rasa_log = logs / "actions.log", logs / "rasa.log"
    actions = subprocess.Popen(
        [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(action_port), "--actions", "actions"],
        cwd=ROOT, env=env, stdout=action_log.open("w"), stderr=subprocess.STDOUT)
    rasa = subprocess.Popen(
        [sys.executable, "-m", "kefu.server", "run", "--enable-api", "--auth-token", env["KEFU_TOKEN"],
         "--port", str(rasa_port), "--model", str(MODEL), "--endpoints", "endpoints.yml",
         "--credentials", "credentials.yml"],
        cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{action_port}/health", actions, action_log, timeout=240)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", rasa, rasa_log, timeout=240)
        yield Servers(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}",
                      env["KEFU_TOKEN"], env)
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def db(tmp_path, monkeypatch):
    """kefu's database on a private SQLite file for one test (KEFU_DB_URL)."""
    from kefu.store import dispose_engines
    monkeypatch.setenv("KEFU_DB_URL", f"sqlite:///{tmp_path}/kefu.db")
    dispose_engines()
    yield
    dispose_engines()
