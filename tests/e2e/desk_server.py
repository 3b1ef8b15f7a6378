"""Helpers for tests of the desk: run the real desk process, create agents, log in.

Imported by tests/test_desk*.py and tests/e2e/ (the session's Rasa servers come from
tests/conftest.py).  Nothing here is a stub: the desk is ``python -m kefu.desk serve``.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import requests
from sqlalchemy import create_engine, text

from kefu.wait import free_port  # noqa: F401 (tests import it from here too)

ROOT = Path(__file__).resolve().parents[2]


class DeskProcess:
    """One running desk; ``stop()`` and ``start()`` again to test a restart."""

    def __init__(self, env: dict, rasa_url: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env, KEFU_RASA_URL=rasa_url, PYTHONPATH=str(ROOT))
        self.log = log
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "DeskProcess":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kefu.desk", "serve", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the desk exited:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError(f"the desk did not come up:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def add_agent(self, name: str, password: str, role: str = "agent") -> None:
        done = subprocess.run([sys.executable, "-m", "kefu.desk", "add-agent", name, "--role", role,
                               "--password-stdin"], input=password + "\n", text=True, cwd=ROOT,
                              env=self.env, capture_output=True)
        assert done.returncode == 0 or "exists already" in done.stderr, done.stderr

    def login(self, name: str, password: str) -> "AgentClient":
        client = AgentClient(self.url)
        client.login(name, password)
        return client


class AgentClient:
    """An agent's browser, as HTTP: cookies, and the CSRF token of the page."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        self.csrf = ""

    def login(self, name: str, password: str) -> requests.Response:
        page = self.http.get(self.url + "/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
        response = self.http.post(self.url + "/login", data={"login_token": token, "name": name,
                                                              "password": password})
        match = re.search(r'name="csrf-token" content="([^"]+)"', response.text)
        assert match, f"login failed: {response.status_code}"
        self.csrf = match.group(1)
        return response

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.url + path)

    def post(self, path: str, body: Optional[dict] = None, csrf: bool = True) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.http.post(self.url + path, json=body or {}, headers=headers)


@contextmanager
def desk_running(env: dict, rasa_url: str, log: Path):
    desk = DeskProcess(env, rasa_url, log).start()
    try:
        yield desk
    finally:
        desk.stop()


def _engine(db_url: str):
    """An engine on the test database, with the hand-off's tables there."""
    from kefu.handoff.db import TABLES
    from kefu.store.models import Base
    engine = create_engine(db_url, future=True)
    Base.metadata.create_all(engine, tables=TABLES)
    return engine


def set_agents_offline(db_url: str) -> None:
    """Nobody online: action_handoff then books a callback."""
    engine = _engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE desk_agents SET last_seen_at = NULL"))
    engine.dispose()


def escalations_of(db_url: str, sender_id: str) -> list:
    engine = _engine(db_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT * FROM escalations WHERE sender_id = :s ORDER BY id"), {"s": sender_id}).mappings().all()
    engine.dispose()
    return [dict(row) for row in rows]


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
