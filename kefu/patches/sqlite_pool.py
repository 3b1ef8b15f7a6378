"""The SQLite tracker store opened a connection for every read and write (SQLAlchemy 1.4
gives file SQLite no pool), checkpointed on close and synced every commit: it now keeps
pooled connections with kefu's write-ahead log (`kefu.store.db.use_write_ahead_log`)."""
from kefu.patches.base import Patch, Replacement


def _write_ahead_log_for_sqlite(dbapi_connection, _record) -> None:
    import sqlite3

    from kefu.store.db import use_write_ahead_log

    if isinstance(dbapi_connection, sqlite3.Connection):
        use_write_ahead_log(dbapi_connection)

def _pooled_sqlite_engine_kwargs(original):
    def create_engine_kwargs(url):
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import QueuePool

        from kefu.store.db import is_sqlite_file

        parsed = make_url(url) if isinstance(url, str) else url
        if parsed.get_backend_name() != "sqlite" or not is_sqlite_file(parsed.database):
            return original(url)
        # Rasa's server uses its connections from one event loop thread; the pool only
        # hands a connection to one session at a time.
        return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False, "timeout": 15}}

    create_engine_kwargs.kefu_fix = True
    return create_engine_kwargs


class _WriteAheadLogListener:
    """Every new SQLite connection (of any engine) uses the write-ahead log."""

    applied = False

    def apply(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        if not event.contains(Engine, "connect", _write_ahead_log_for_sqlite):
            event.listen(Engine, "connect", _write_ahead_log_for_sqlite)
        self.applied = True

    def revert(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        if event.contains(Engine, "connect", _write_ahead_log_for_sqlite):
            event.remove(Engine, "connect", _write_ahead_log_for_sqlite)
        self.applied = False


PATCH = Patch(Replacement("rasa.core.tracker_store", "create_engine_kwargs", _pooled_sqlite_engine_kwargs),
              _WriteAheadLogListener())
apply, revert = PATCH.apply, PATCH.revert
