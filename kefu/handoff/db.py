"""Sessions on the store's engine, with the hand-off's tables created on first use.

``kefu.store`` creates its tables when it opens an engine; a process that opened the
engine before importing these models (the action server) would miss ours, so every
hand-off session checks once per engine.
"""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kefu.handoff import models
from kefu.store.db import get_engine, session_scope

TABLES = [models.DeskAgent.__table__, models.DeskSession.__table__,
          models.Escalation.__table__, models.Assignment.__table__,
          models.CaseNote.__table__, models.AgentMessage.__table__,
          models.CaseAction.__table__, models.CaseLabel.__table__,
          models.CannedReply.__table__, models.DeskEvent.__table__]

_ready: "weakref.WeakSet[Engine]" = weakref.WeakSet()
_lock = threading.Lock()


def handoff_engine() -> Engine:
    engine = get_engine()
    with _lock:
        if engine not in _ready:
            models.Base.metadata.create_all(engine, tables=TABLES)
            _ready.add(engine)
    return engine


@contextmanager
def handoff_session() -> Iterator[Session]:
    with session_scope(handoff_engine()) as session:
        yield session
