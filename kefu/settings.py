"""Every ``KEFU_*`` setting in one place: its environment variable, its default, its type.

Values are read from the environment at each call (tests and the CLI change it), so
``settings()`` is cheap and never cached.  ``scripts/env.sh`` exports the same
defaults for shells; a module that needs a setting asks here instead of reading
``os.environ`` itself.

    from kefu.settings import settings
    settings().rasa_url
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping, Optional

ROOT = Path(__file__).resolve().parents[1]


class SettingError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    home: Path  # KEFU_HOME: tokens, the SQLite databases
    rasa_url: str  # KEFU_RASA_URL: Rasa's HTTP server as kefu's own processes reach it
    rasa_timeout: float  # KEFU_RASA_TIMEOUT: seconds for one call to Rasa
    token: str  # KEFU_TOKEN, else KEFU_HOME/token: Rasa's API token
    action_url: str  # KEFU_ACTION_URL: the action server's webhook (endpoints.yml)
    db_url: str  # KEFU_DB_URL: kefu's own database (orders, tickets, desk, review queue)
    tracker_dialect: str  # KEFU_TRACKER_DIALECT (endpoints.yml)
    tracker_db: str  # KEFU_TRACKER_DB (endpoints.yml)
    endpoints: Path  # KEFU_ENDPOINTS: the endpoints.yml that replay reads
    redis_url: Optional[str]  # KEFU_REDIS_URL: the lock store and desk pub/sub, when set
    desk_idle_minutes: int  # KEFU_DESK_IDLE_MINUTES: a desk login expires after this
    desk_secure_cookie: bool  # KEFU_DESK_SECURE_COOKIE: behind HTTPS
    replay_export_dir: Path  # KEFU_REPLAY_EXPORT_DIR: where test stories are written
    replay_review_dir: Path  # KEFU_REPLAY_REVIEW_DIR: where NLU examples are written
    rasa_patches: str  # KEFU_RASA_PATCHES: which of kefu's Rasa patches are on (kefu.patches)
    desk_event_look_seconds: Optional[float]  # KEFU_DESK_EVENT_LOOK_SECONDS: desk event polling
    handoff_refund_limit: float  # KEFU_HANDOFF_REFUND_LIMIT: yuan the bot may pay out alone


DEFAULT_RASA_URL = "http://localhost:5005"


def settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    env = os.environ if environ is None else environ
    get = lambda name: (env.get(name) or "").strip()  # noqa: E731
    home = Path(get("KEFU_HOME") or ROOT / ".kefu")
    return Settings(
        home=home,
        rasa_url=(get("KEFU_RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
        rasa_timeout=_number(get("KEFU_RASA_TIMEOUT"), "KEFU_RASA_TIMEOUT", 30.0),
        token=get("KEFU_TOKEN") or _read(home / "token"),
        action_url=get("KEFU_ACTION_URL") or "http://localhost:5055/webhook",
        db_url=get("KEFU_DB_URL") or f"sqlite:///{home / 'kefu.db'}",
        tracker_dialect=get("KEFU_TRACKER_DIALECT") or "sqlite",
        tracker_db=get("KEFU_TRACKER_DB") or str(home / "tracker.db"),
        endpoints=Path(get("KEFU_ENDPOINTS") or ROOT / "endpoints.yml"),
        redis_url=get("KEFU_REDIS_URL") or None,
        desk_idle_minutes=int(_number(get("KEFU_DESK_IDLE_MINUTES"), "KEFU_DESK_IDLE_MINUTES", 30)),
        desk_secure_cookie=get("KEFU_DESK_SECURE_COOKIE").lower() not in ("", "0", "false", "no"),
        replay_export_dir=Path(get("KEFU_REPLAY_EXPORT_DIR") or ROOT / "tests"),
        replay_review_dir=Path(get("KEFU_REPLAY_REVIEW_DIR") or ROOT / "review"),
        rasa_patches=get("KEFU_RASA_PATCHES").lower(),
        desk_event_look_seconds=(_number(get("KEFU_DESK_EVENT_LOOK_SECONDS"), "KEFU_DESK_EVENT_LOOK_SECONDS", 1.0)
                                 if get("KEFU_DESK_EVENT_LOOK_SECONDS") else None),
        handoff_refund_limit=_number(get("KEFU_HANDOFF_REFUND_LIMIT"), "KEFU_HANDOFF_REFUND_LIMIT", 500.0),
    )


def export_endpoint_defaults() -> None:
    """endpoints.yml says ``${KEFU_TRACKER_DB}`` etc.; Rasa's reader expands them from the
    environment, so a process started from a plain shell gets the defaults set here."""
    current = settings()
    for name, value in (("KEFU_TRACKER_DIALECT", current.tracker_dialect),
                        ("KEFU_TRACKER_DB", current.tracker_db),
                        ("KEFU_ACTION_URL", current.action_url),
                        # the cluster's settings; empty means the single-process default
                        ("KEFU_TRACKER_URL", ""), ("KEFU_REDIS_URL", ""),
                        ("KEFU_LOCK_STORE", "in_memory")):
        os.environ.setdefault(name, value)


def names() -> list:
    """The settings' names, for documentation and tests."""
    return [f.name for f in fields(Settings)]


def _number(raw: str, name: str, default: float) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SettingError(f"{name} must be a positive number, not {raw[:30]!r}")
    return value


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
