"""Start and stop a private Rasa server and action server for one test module (the
session's pair in tests/conftest.py is shared and must not be stopped)."""
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from kefu.wait import free_port, wait_until_up
from tests.conftest import MODEL, ROOT, VENV_BIN, Servers

PLAIN_RASA = [str(VENV_BIN / "rasa"), "run"]
KEFU_SERVER = [sys.executable, "-m", "kefu.server", "run"]


class Pair:
    """An action server and a Rasa server (``rasa_command``) on free ports."""

    def __init__(self, env: dict, logs: Path, rasa_command: List[str], extra_env: Optional[dict] = None):
        self.logs = logs
        self.action_port, self.rasa_port = free_port(), free_port()
        self.env = dict(env, KEFU_ACTION_URL=f"http://127.0.0.1:{self.action_port}/webhook",
                        KEFU_TRACKER_DB=str(logs / "tracker.db"), **(extra_env or {}))
        self.rasa_command = rasa_command
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None
        self.servers = Servers(f"http://127.0.0.1:{self.rasa_port}", f"http://127.0.0.1:{self.action_port}",
                               self.env["KEFU_TOKEN"], self.env)

    def start_actions(self) -> None:
        log = self.logs / "actions.log"
        self.actions = subprocess.Popen(
            [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(self.action_port), "--actions", "actions"],
            cwd=ROOT, env=self.env, stdout=log.open("a"), stderr=subprocess.STDOUT)
        wait_until_up(f"{self.servers.action_url}/health", self.actions, log, timeout=240)

    def stop_actions(self) -> None:
        stop(self.actions)
        self.actions = None

    def start(self) -> "Pair":
        self.start_actions()
        log = self.logs / "rasa.log"
        self.rasa = subprocess.Popen(
            [*self.rasa_command, "--enable-api", "--auth-token", self.env["KEFU_TOKEN"],
             "--port", str(self.rasa_port), "--model", str(MODEL), "--endpoints", "endpoints.yml",
             "--credentials", "credentials.yml"],
            cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        wait_until_up(f"{self.servers.rasa_url}/", self.rasa, log, timeout=300)
        return self

    def stop(self) -> None:
        stop(self.rasa, self.actions)

    def rasa_log(self) -> str:
        return (self.logs / "rasa.log").read_text(errors="replace")


def stop(*processes: Optional[subprocess.Popen]) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    for process in processes:
        if process is None:
            continue
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
