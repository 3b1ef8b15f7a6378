"""Rasa deep-copies values for its debug log lines before it knows whether they will be
written (every slot, every action's events, the rules' states): the copy is now made
only when the debug line is written."""
import copy
import logging

from kefu.patches.base import Patch, Replacement

# Modules whose every `copy.deepcopy` is an argument of a `structlogger.debug(...)` call
# (tests/test_server_fixes.py holds this list to their source).
DEEPCOPY_FOR_DEBUG_ONLY = ("rasa.core.processor", "rasa.core.actions.forms", "rasa.core.policies.rule_policy")

class _CopyForDebugLines:
    """Stands in for the `copy` module in those modules: the deep copy is made only when
    the debug line it feeds will be written."""

    kefu_fix = True

    def __init__(self, module_name: str) -> None:
        self._logger = logging.getLogger(module_name)  # structlog filters by this logger's level

    def deepcopy(self, value, memo=None):
        return copy.deepcopy(value, memo) if self._logger.isEnabledFor(logging.DEBUG) else value

    def __getattr__(self, name: str):
        return getattr(copy, name)


PATCH = Patch(*(Replacement(name, "copy", lambda _copy, name=name: _CopyForDebugLines(name))
                for name in DEEPCOPY_FOR_DEBUG_ONLY))
apply, revert = PATCH.apply, PATCH.revert
