"""Engines, sessions and the database URL.

Timestamps: every datetime the store writes or returns is **naive local time**
(``datetime.now()`` without tzinfo), matching the ISO 8601 local-time slots of the
conversation (``ticket_deadline``) and what an agent in China reads on a screen.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from kefu.settings import settings
from kefu.store.models import Base

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DB_URL_VARIABLE = "KEFU_DB_URL"  # named in error messages; read by kefu.settings

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message says which and why."""


def local_now() -> datetime:
    """The current naive local time, to the second (the store's time convention)."""
    return datetime.now().replace(microsecond=0)


def default_db_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / '.kefu' / 'kefu.db'}"


def db_url() -> str:
    """``KEFU_DB_URL`` if set, else the project's SQLite file; read at every call."""
    return settings().db_url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def get_engine(url: Optional[str] = None) -> Engine:
    """The engine for ``url`` (default :func:`db_url`), created once per URL.

    The first call also creates missing tables, so the action server and the CLI
    work on a fresh checkout.  Raises :class:`StoreError` when the database cannot
    be opened.
    """
    url = url or db_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _open_engine(url)
            _engines[url] = engine
        return engine


def _open_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r} (set {DB_URL_VARIABLE})") from exc
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        _ensure_sqlite_dir(parsed.database, url)
    # Sanic serves requests from several threads; SQLite must allow that, and wait
    # (timeout) rather than fail while the CLI or another process writes.
    connect_args = {"check_same_thread": False, "timeout": 15} if is_sqlite else {}
    # SQLAlchemy 1.4 gives a SQLite file no pool: a new connection (and its pragmas) for
    # every lookup. Keep them, as it does for other databases.
    pooling = {"poolclass": QueuePool} if is_sqlite and is_sqlite_file(parsed.database) else {}
    try:
        engine = create_engine(url, future=True, pool_pre_ping=not is_sqlite,
                               connect_args=connect_args, **pooling)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StoreError(f"cannot open database {safe_url(url)}: {exc}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        Base.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip()
        raise StoreError(f"cannot open database {safe_url(url)}: {reason}") from exc
    return engine


def is_sqlite_file(database: Optional[str]) -> bool:
    """A SQLite database path (not in memory, not a `file:` URI)."""
    return bool(database) and database != ":memory:" and not database.startswith("file:")


def _ensure_sqlite_dir(database: Optional[str], url: str) -> None:
    if not is_sqlite_file(database):
        return
    folder = Path(database).expanduser().resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "a file is in the way" if isinstance(exc, (FileExistsError,
                                                            NotADirectoryError)) \
            else exc.strerror or str(exc)
        raise StoreError(f"cannot open database {url}: cannot create folder "
                         f"{folder} ({reason}); set {DB_URL_VARIABLE} to a writable "
                         f"location") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite leaves foreign keys off unless asked, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    use_write_ahead_log(dbapi_connection)


def use_write_ahead_log(dbapi_connection) -> None:
    """WAL journal, synced at checkpoints: readers never wait for the writer, and a commit
    costs no fsync. A crashed process loses nothing; only a power cut can lose the last
    commits (SQLite's documented trade-off for `synchronous=NORMAL` in WAL mode)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def dispose_engines() -> None:
    """Close and forget every cached engine (tests, or after deleting the file)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def init_db(engine: Optional[Engine] = None) -> Engine:
    """Create missing tables; returns the engine used."""
    engine = engine or get_engine()
    _create_all(engine)
    return engine


def reset_db(engine: Optional[Engine] = None) -> Engine:
    """Drop and recreate every table of the store (all data is lost)."""
    engine = engine or get_engine()
    try:
        Base.metadata.drop_all(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot reset database {engine.url!r}: {exc}") from exc
    _create_all(engine)
    return engine


def _create_all(engine: Engine) -> None:
    try:
        Base.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot create tables in {engine.url!r}: {exc}") from exc


@contextmanager
def session_scope(engine: Optional[Engine] = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception.

    Objects stay readable after the commit (``expire_on_commit=False``) so callers
    can turn them into plain dataclasses.
    """
    session = Session(bind=engine or get_engine(), future=True, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# ------------------------------------------------------------------ migrations

MIGRATIONS_INI = PROJECT_ROOT / "alembic.ini"
FIRST_REVISION = "0001"  # the tables create_all made before kefu had migrations


def migrate(url: Optional[str] = None) -> str:
    """Bring the database at ``url`` (default :func:`db_url`) to the newest schema.

    Creates a missing PostgreSQL database first (connecting to ``postgres``), and
    marks a database whose tables an older kefu made with ``create_all`` as being at
    the first revision, so Alembic goes on from there. Returns the safe URL.
    """
    from alembic.config import Config
    from sqlalchemy import inspect

    from alembic import command

    url = url or db_url()
    create_database_if_missing(url)
    engine = create_engine(url, future=True)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    config = Config(str(MIGRATIONS_INI))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["url"] = url  # alembic/env.py migrates this database
    if "customers" in tables and "alembic_version" not in tables:
        # made by create_all: by a kefu of today (every table there) or an older one
        command.stamp(config, "head" if _all_model_tables() <= tables else FIRST_REVISION)
    command.upgrade(config, "head")
    return safe_url(url)


def _all_model_tables() -> set:
    import kefu.handoff.models  # noqa: F401 (the desk's tables)
    import kefu.replay.review  # noqa: F401 (the trainers' review queue)
    from kefu.store.models import Base

    return set(Base.metadata.tables)


def create_database_if_missing(url: str) -> None:
    """PostgreSQL only: ``CREATE DATABASE`` the URL's database when it does not exist."""
    from sqlalchemy import text

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    admin = create_engine(parsed.set(database="postgres"), future=True,
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": parsed.database}).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot create database {safe_url(url)}: {exc}") from exc
    finally:
        admin.dispose()

