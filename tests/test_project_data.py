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

    `utter_question_<slot>` is what the form's validation asks for each form slot.
    """
    if name.startswith("utter_question_") and name[len("utter_question_"):] in FORM_SLOT_NAMES:
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


def test_the_slots_that_choose_a_wording_are_passed_with_the_form_questions():
    """Responses sent by the validation are rendered before its slot events apply, so it
    passes the slots the domain's conditions read (actions.reply.WORDING_SLOTS)."""
    import yaml

    from actions.reply import WORDING_SLOTS

    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    read = {condition["name"] for variations in responses.values() for variation in variations
            for condition in variation.get("condition") or []}
    assert read and read <= set(WORDING_SLOTS)


def test_the_form_asks_through_its_validation_only():
    """No ask action or `utter_ask_<slot>`: Rasa's form would otherwise ask a second time."""
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    names = [a if isinstance(a, str) else next(iter(a)) for a in domain["actions"]] + list(domain["responses"])
    asks = [n for n in names if n.startswith(("action_ask_", "utter_ask_")) and n.split("_ask_")[1] in FORM_SLOT_NAMES]
    assert asks == []
    assert {f"utter_question_{slot}" for slot in FORM_SLOT_NAMES} - set(names) == {
        "utter_question_facts_confirmed", "utter_question_chosen_remedy"}  # built in actions/complaint.py
