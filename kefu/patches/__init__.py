"""kefu's patches of Rasa 3.6, one module each, every one with ``apply()`` and ``revert()``.

They change how fast Rasa does things, never what it decides (tests/test_server_fixes.py,
bench/README.md), except ``action_failure``, which answers a customer whose message met
a dead action server (kefu.action_failure), and ``repeat_messages``, which answers a
message resent with the same client id instead of handling it twice. ``python -m kefu.server`` applies them;
plain ``rasa run`` runs without any (tests/test_plain_rasa.py).

* Every patch checks the Rasa version (``kefu.patches.base.SUPPORTED_RASA``); on another
  version it is skipped with a warning, and Rasa runs plain.
* ``KEFU_RASA_PATCHES`` switches them: unset, ``on`` or ``all`` → all; ``off`` → none;
  a comma list of names (``tracker_copy,gc_freeze``) → all but those.
"""
from __future__ import annotations

import importlib
import logging
from typing import List, Mapping, Optional

from kefu.settings import settings

logger = logging.getLogger(__name__)
SWITCH = "KEFU_RASA_PATCHES"

# In the order they are applied.
NAMES = (
    "response_check",       # action replies checked against their own event schema
    "keep_alive",           # one kept-alive HTTP session to the action server
    "event_classes",        # event class by name, remembered
    "sqlite_pool",          # pooled SQLite connections with the write-ahead log
    "event_data_only",      # the tracker store reads only the events' data column
    "gc_freeze",            # the loaded model frozen out of the cycle collector's sight
    "emotion_in_process",   # emotion tracking inside Rasa, not over HTTP
    "validation_while_paused",  # slot validation called only while waiting for a person
    "recent_turns",         # the form's validation gets its last turns only
    "tracker_copy",         # tracker copies without replaying every event
    "applied_events",       # applied events extended, not recomputed
    "init_copy",            # empty tracker copies without the copy module
    "payloads",             # button payloads without the NLU pipeline
    "form_tracker",         # the form's temporary trackers from a fast copy
    "debug_copies",         # deep copies for debug lines only when they are written
    "action_failure",       # an apology when the action server is down
    "repeat_messages",      # a message sent again with the same client id is answered, not handled twice
)


class UnknownPatch(ValueError):
    pass


def module(name: str):
    if name not in NAMES:
        raise UnknownPatch(f"no kefu patch named {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(f"kefu.patches.{name}")


def enabled(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The patches ``KEFU_RASA_PATCHES`` leaves on, in order."""
    value = settings(environ).rasa_patches
    if value in ("", "on", "all"):
        return list(NAMES)
    if value in ("off", "none"):
        return []
    left_out = {name.strip().lstrip("-") for name in value.split(",") if name.strip()}
    unknown = left_out - set(NAMES)
    if unknown:
        raise UnknownPatch(f"{SWITCH} names unknown patches {sorted(unknown)}; known: {', '.join(NAMES)}")
    return [name for name in NAMES if name not in left_out]


def apply_enabled(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Applies the enabled patches; returns the names of those applied."""
    applied = [name for name in enabled(environ) if module(name).apply()]
    logger.info("kefu patches of Rasa applied: %s", ", ".join(applied) or "none")
    return applied


def revert_all() -> None:
    for name in reversed(NAMES):
        module(name).revert()
