"""What every patch of Rasa shares: replacing one attribute, undoing it, and the check
that the Rasa underneath is the one the patch was written against."""
from __future__ import annotations

import importlib
import logging
from typing import Any, Callable, Optional, Tuple

logger = logging.getLogger(__name__)

# Major.minor versions of Rasa the patches were read against (and tested on: 3.6.21).
SUPPORTED_RASA = ("3.6",)
_MISSING = object()


def rasa_version() -> str:
    import rasa

    return rasa.__version__


def supported(version: Optional[str] = None, versions: Tuple[str, ...] = SUPPORTED_RASA) -> bool:
    parts = (version or rasa_version()).split(".")
    return ".".join(parts[:2]) in versions


class Replacement:
    """``owner.attribute = make(original)``, with the original kept for :meth:`revert`.

    ``owner`` is written ``"module:Class"`` or ``"module"`` and imported only when the
    patch is applied. ``make`` receives what ``getattr`` gives (a function, even for a
    staticmethod); revert puts back exactly what the class or module itself held.
    """

    def __init__(self, owner: str, attribute: str, make: Callable[[Any], Any]) -> None:
        self.owner, self.attribute, self.make = owner, attribute, make
        self._original: Any = _MISSING
        self._had_own = False

    def target(self) -> Any:
        module_name, _, class_name = self.owner.partition(":")
        target = importlib.import_module(module_name)
        return getattr(target, class_name) if class_name else target

    @property
    def applied(self) -> bool:
        return self._original is not _MISSING

    def apply(self) -> None:
        if self.applied:
            return
        target = self.target()
        own = vars(target)
        self._had_own = self.attribute in own
        self._original = own[self.attribute] if self._had_own else getattr(target, self.attribute)
        setattr(target, self.attribute, self.make(getattr(target, self.attribute)))

    def revert(self) -> None:
        if not self.applied:
            return
        target = self.target()
        if self._had_own:
            setattr(target, self.attribute, self._original)
        else:
            delattr(target, self.attribute)
        self._original = _MISSING

    def current(self) -> Any:
        return getattr(self.target(), self.attribute)


class Patch:
    """One patch: several replacements applied and reverted together."""

    def __init__(self, *replacements: Replacement, versions: Tuple[str, ...] = SUPPORTED_RASA) -> None:
        self.replacements = replacements
        self.versions = versions

    @property
    def applied(self) -> bool:
        return any(replacement.applied for replacement in self.replacements)

    def apply(self) -> bool:
        """Applies the patch; False (and a warning) on a Rasa it was not written for."""
        if not supported(versions=self.versions):
            logger.warning("kefu patch skipped: Rasa %s is not one of %s", rasa_version(), self.versions)
            return False
        for replacement in self.replacements:
            replacement.apply()
        return True

    def revert(self) -> None:
        for replacement in reversed(self.replacements):
            replacement.revert()
