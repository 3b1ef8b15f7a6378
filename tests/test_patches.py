"""kefu's patches of Rasa: each applies and reverts cleanly, refuses an unknown Rasa, and
`KEFU_RASA_PATCHES` switches them (a server without them: tests/test_plain_rasa.py)."""
import logging

import pytest

import kefu.patches as patches
from kefu.patches import base


def raw_state(name):
    """What each target of the patch holds in its own namespace right now."""
    patch = patches.module(name).PATCH
    return [vars(r.target()).get(r.attribute) if isinstance(r, base.Replacement) else r.applied
            for r in patch.replacements]


@pytest.fixture
def restore():
    """Puts every patch back as the test found it."""
    was = {name: patches.module(name).PATCH.applied for name in patches.NAMES}
    yield
    for name in reversed(patches.NAMES):
        if not was[name]:
            patches.module(name).revert()
    for name in patches.NAMES:
        if was[name]:
            patches.module(name).apply()


@pytest.mark.parametrize("name", patches.NAMES)
def test_each_patch_applies_and_reverts(name, restore):
    module = patches.module(name)
    module.revert()
    rasas = raw_state(name)
    assert module.apply() is True
    patched = raw_state(name)
    assert all(a is not b for a, b in zip(patched, rasas)), name
    module.apply()  # twice changes nothing: no patch on a patch
    assert all(a is b for a, b in zip(raw_state(name), patched))
    module.revert()
    assert all(a is b for a, b in zip(raw_state(name), rasas)), name


def test_all_patches_revert_to_rasas_own_functions(restore):
    from rasa.shared.core.trackers import DialogueStateTracker

    patches.revert_all()
    own = DialogueStateTracker.copy
    patches.apply_enabled({})
    assert DialogueStateTracker.copy is not own
    patches.revert_all()
    assert DialogueStateTracker.copy is own


def test_an_unknown_rasa_version_is_refused_with_a_warning(monkeypatch, caplog, restore):
    patches.revert_all()
    monkeypatch.setattr(base, "rasa_version", lambda: "3.7.0")
    with caplog.at_level(logging.WARNING):
        assert patches.apply_enabled({}) == []
    assert "Rasa 3.7.0" in caplog.text
    assert not any(patches.module(name).PATCH.applied for name in patches.NAMES)


@pytest.mark.parametrize("value, expected", [
    ("", list(patches.NAMES)), ("on", list(patches.NAMES)), ("ALL", list(patches.NAMES)),
    ("off", []), ("none", []),
    ("gc_freeze, tracker_copy", [n for n in patches.NAMES if n not in ("gc_freeze", "tracker_copy")]),
    ("-action_failure", [n for n in patches.NAMES if n != "action_failure"]),
])
def test_the_switch(value, expected):
    assert patches.enabled({"KEFU_RASA_PATCHES": value}) == expected


def test_a_misspelt_patch_name_is_an_error():
    with pytest.raises(patches.UnknownPatch, match="tracker_cpy"):
        patches.enabled({"KEFU_RASA_PATCHES": "tracker_cpy"})


def test_switched_off_nothing_is_patched(restore):
    patches.revert_all()
    assert patches.apply_enabled({"KEFU_RASA_PATCHES": "off"}) == []
    assert not any(patches.module(name).PATCH.applied for name in patches.NAMES)


def test_version_check():
    assert base.supported("3.6.21") and not base.supported("3.7.0") and not base.supported("4.0")
