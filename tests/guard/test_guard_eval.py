"""`python -m kefu.guard eval FILE` on a small fixture of our own (tests/guard/eval_fixture.jsonl).

The fixture is built so the table is known: two doubts the guard finds, a compliant
sentence mislabelled `joke` (a miss), and a doubt mislabelled compliant (a false positive).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.guard.evaluate import evaluate, format_report, load_labelled

PROJECT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).with_name("eval_fixture.jsonl")


def run_eval(*args):
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, "-m", "kefu.guard", "eval", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def test_eval_prints_per_behaviour_precision_recall_and_the_false_positive_rate():
    result = run_eval(str(FIXTURE))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert rows["behaviour"][1:3] == ["precision", "recall"]
    assert rows["doubt"][1:6] == ["0.67", "1.00", "2", "0", "1"]
    assert rows["joke"][1:6] == ["1.00", "0.00", "0", "1", "0"]
    assert "overall recall: 0.667" in result.stdout
    assert "false positives on compliant sentences: 1/3 = 33.3%" in result.stdout


def test_eval_json_and_details():
    numbers = json.loads(run_eval(str(FIXTURE), "--json").stdout)
    assert numbers["recall"] == 0.667 and numbers["false_positive_rate"] == 0.333
    assert numbers["behaviours"]["doubt"] == {"tp": 2, "fn": 0, "fp": 1, "precision": 0.667, "recall": 1.0}
    details = format_report(evaluate(load_labelled(FIXTURE)), details=True)
    assert "MISS joke (found []): 您好，请问有什么可以帮您？" in details
    assert "FP ['doubt']: 您是不是看错订单了？" in details


def test_eval_context_per_line_decides_a_promise(tmp_path):
    labelled = tmp_path / "promises.jsonl"
    labelled.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in [
        {"text": "24小时内给您回复。", "expect": None, "context": {"ticket_id": "T1", "ticket_tier": "normal"}},
        {"text": "24小时内给您回复。", "expect": "broken_promise"},
    ]), encoding="utf-8")
    result = evaluate(load_labelled(labelled))
    assert result.recall == 1.0 and result.false_positive_rate == 0.0


@pytest.mark.parametrize("content", ['{"text": "好的"}\n{oops', '{"text": "好的", "expect": "rude"}'])
def test_eval_bad_file_is_a_clear_error(tmp_path, content):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    result = run_eval(str(bad))
    assert result.returncode == 2 and "bad.jsonl:" in result.stderr and "Traceback" not in result.stderr
    missing = run_eval(str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
