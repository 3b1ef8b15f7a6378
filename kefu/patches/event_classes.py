"""Stored events were turned back into classes by walking every `Event` subclass, for
every event on every turn; the class of a name is now remembered."""
from kefu.patches.base import Patch, Replacement


def _remembering_resolve_by_type(original):
    known = {}

    def resolve_by_type(type_name, default=None):
        found = known.get(type_name)
        if found is None:
            found = original(type_name, default)  # unknown names: Rasa's own default or error
            if found is not None and found is not default:
                known[type_name] = found
        return found

    resolve_by_type.kefu_fix = True
    return staticmethod(resolve_by_type)


PATCH = Patch(Replacement("rasa.shared.core.events:Event", "resolve_by_type", _remembering_resolve_by_type))
apply, revert = PATCH.apply, PATCH.revert
