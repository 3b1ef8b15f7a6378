"""The project's Rasa data is valid, and every response the domain defines is used."""
import re
import subprocess
import sys
from pathlib import Path

from kefu.complaint.steps import FORM_SLOTS

ROOT = Path(__file__).resolve().parents[1]
FORM_SLOT_NAMES = {name for name, _ in FORM_SLOTS}
RASA = Path(sys.executable).parent / "rasa"
UNUSED_UTTERANCE = re.compile(r"The utterance '(\w+)' is not used in any story or rule")


def code_mentions(name: str) -> bool:
    """Responses sent by custom actions are used in code, not in rules.

    `utter_ask_<slot>` is what the form's ask actions send for each form slot.
    """
    if name.startswith("utter_ask_") and name[len("utter_ask_"):] in FORM_SLOT_NAMES:
        return True
    sources = list((ROOT / "actions").rglob("*.py")) + list((ROOT / "kefu").rglob("*.py"))
    return any(name in path.read_text(encoding="utf-8") for path in sources)


def test_rasa_data_validate_is_clean():
    result = subprocess.run([str(RASA), "data", "validate"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    unexplained = []
    for line in warnings:
        unused = UNUSED_UTTERANCE.search(line)
        if not (unused and code_mentions(unused.group(1))):
            unexplained.append(line)
    assert not unexplained, "\n".join(unexplained)


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:400]
    assert "make run" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
