"""Desk accounts, hashed passwords, logins that expire, and who is online.

Passwords: scrypt with a random salt per account (``scrypt$n$r$p$salt$hash``).
Sessions: a random token in an HttpOnly cookie; the database keeps only its SHA-256,
a CSRF token, and the times that make it expire (idle and absolute).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import delete, select

from kefu.handoff.db import handoff_session as session_scope
from kefu.handoff.models import ACTING_ROLES, ROLES, DeskAgent, DeskSession
from kefu.settings import settings
from kefu.store.db import local_now

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MIN_PASSWORD_LENGTH = 8
MAX_SESSION_HOURS = 12
ONLINE_WINDOW = timedelta(minutes=2)  # the desk's pages poll every few seconds


class AccountError(ValueError):
    """A name, role or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class AgentInfo:
    id: int
    name: str
    role: str

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "role": self.role}


@dataclass(frozen=True)
class LoginSession:
    agent: AgentInfo
    csrf_token: str
    expires_at: datetime


# --- passwords --------------------------------------------------------------------

def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, bytes.fromhex(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=64 * 1024 * 1024, dklen=32)


# --- accounts -----------------------------------------------------------------------

def create_agent(name: str, password: str, role: str = "agent") -> AgentInfo:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(ch.isspace() or ord(ch) < 32 for ch in name):
        raise AccountError("the name must be 1–64 characters without spaces")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    with session_scope() as session:
        if session.execute(select(DeskAgent.id).where(DeskAgent.name == name)).first():
            raise AccountError(f"an account named {name!r} exists already")
        agent = DeskAgent(name=name, role=role, password_hash=hash_password(password),
                          created_at=local_now())
        session.add(agent)
        session.flush()
        return _info(agent)


def authenticate(name: str, password: str) -> Optional[AgentInfo]:
    with session_scope() as session:
        agent = session.execute(select(DeskAgent).where(DeskAgent.name == (name or "").strip())).scalar()
        if agent is None:
            verify_password(password or "", _DUMMY_HASH)  # same time whether or not the name exists
            return None
        return _info(agent) if verify_password(password or "", agent.password_hash) else None


def list_agents(role: Optional[str] = None) -> List[AgentInfo]:
    query = select(DeskAgent).order_by(DeskAgent.name)
    if role:
        query = query.where(DeskAgent.role == role)
    with session_scope() as session:
        return [_info(agent) for agent in session.execute(query).scalars()]


def get_agent(agent_id: int) -> Optional[AgentInfo]:
    with session_scope() as session:
        agent = session.get(DeskAgent, agent_id)
        return _info(agent) if agent else None


def online_agent_count(now: Optional[datetime] = None) -> int:
    """People online who take cases: agents and supervisors."""
    since = (now or local_now()) - ONLINE_WINDOW
    with session_scope() as session:
        rows = session.execute(select(DeskAgent.id).where(
            DeskAgent.role.in_(ACTING_ROLES), DeskAgent.last_seen_at >= since)).all()
        return len(rows)


def team(now: Optional[datetime] = None) -> List[dict]:
    """Everyone who takes cases, with role and whether they are online: whom a case
    can be transferred to.  Online first, then by name."""
    since = (now or local_now()) - ONLINE_WINDOW
    with session_scope() as session:
        rows = session.execute(select(DeskAgent).where(DeskAgent.role.in_(ACTING_ROLES))).scalars()
        found = [dict(_info(row).to_dict(), online=bool(row.last_seen_at and row.last_seen_at >= since))
                 for row in rows]
    return sorted(found, key=lambda agent: (not agent["online"], agent["name"]))


def _info(agent: DeskAgent) -> AgentInfo:
    return AgentInfo(id=agent.id, name=agent.name, role=agent.role)


_DUMMY_HASH = hash_password(secrets.token_hex(8))


# --- login sessions ------------------------------------------------------------------

def start_session(agent: AgentInfo, now: Optional[datetime] = None) -> tuple[str, LoginSession]:
    """A new login: the cookie token (shown once) and the session."""
    now = now or local_now()
    token = secrets.token_urlsafe(32)
    row = DeskSession(token_hash=_token_hash(token), agent_id=agent.id,
                      csrf_token=secrets.token_urlsafe(32), created_at=now,
                      last_used_at=now, expires_at=_expiry(now, now))
    with session_scope() as session:
        session.add(row)
        session.get(DeskAgent, agent.id).last_seen_at = now
    return token, LoginSession(agent, row.csrf_token, row.expires_at)


def session_for(token: Optional[str], now: Optional[datetime] = None) -> Optional[LoginSession]:
    """The live session of a cookie token, its expiry pushed on; None when unknown
    or expired (an expired one is deleted)."""
    if not token:
        return None
    now = now or local_now()
    with session_scope() as session:
        row = session.get(DeskSession, _token_hash(token))
        if row is None:
            return None
        if row.expires_at <= now:
            session.delete(row)
            return None
        row.last_used_at = now
        row.expires_at = _expiry(row.created_at, now)
        row.agent.last_seen_at = now
        return LoginSession(_info(row.agent), row.csrf_token, row.expires_at)


def end_session(token: Optional[str]) -> None:
    if token:
        with session_scope() as session:
            session.execute(delete(DeskSession).where(DeskSession.token_hash == _token_hash(token)))


def _expiry(created_at: datetime, now: datetime) -> datetime:
    return min(now + timedelta(minutes=settings().desk_idle_minutes), created_at + timedelta(hours=MAX_SESSION_HOURS))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
