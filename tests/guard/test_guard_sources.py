"""Every place a text is sent is checked by the same guard, classifier included: the
domain's responses, texts built in code (guard_reply), agents' drafts on the desk and
the trainer's conversation audit."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

# the desk without Rasa (replies stay pending) on the test database
from test_desk_security import db_url, desk  # noqa: F401  (pytest fixtures)

from kefu.guard import guard_reply
from kefu.guard.runtime import SAFE_REPLIES
from kefu.handoff import escalations
from kefu.handoff.record import build_record

PROJECT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
PASSWORD = "guard-desk-123"
# No rule says this; the classifier reads it as stonewalling (play_dumb).
STONEWALL = "这个问题我这边也搞不定，您看着办吧。"


def test_domain_lint_uses_the_classifier_and_the_conditions():
    result = subprocess.run([sys.executable, "-m", "kefu.guard", "--domain", str(HERE / "domain_sources.yml")],
                            cwd=PROJECT, env={**os.environ, "PYTHONPATH": str(PROJECT)},
                            capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert result.returncode == 1, result.stderr
    found = {r["response"]: r["violations"] for r in map(json.loads, result.stdout.splitlines())}
    assert set(found) == {"utter_stonewall", "utter_vague"}
    (stonewall,) = found["utter_stonewall"]
    assert stonewall["id"] == "play_dumb" and stonewall["source"] == "classifier" and stonewall["score"] > 0
    assert [v["id"] for v in found["utter_vague"]] == ["broken_promise"]
    assert "2 of 4 response texts violate" in result.stderr


def test_texts_built_in_code_are_replaced_on_a_classifier_finding():
    guarded = guard_reply(STONEWALL, {"complaint_step": "probe"})
    assert guarded.replaced and guarded.text == SAFE_REPLIES["probe"]
    assert [(v.id, v.source) for v in guarded.violations] == [("play_dumb", "classifier")]


def test_the_trainers_audit_shows_classifier_findings():
    from kefu.replay.turns import annotate, build_turns

    events = [
        {"event": "user", "text": "我的耳机一直连不上", "timestamp": 1.0,
         "parse_data": {"intent": {"name": "complain_quality", "confidence": 0.9}, "entities": []}},
        {"event": "bot", "text": STONEWALL, "timestamp": 2.0},
        {"event": "user", "text": "？？？", "timestamp": 3.0,
         "parse_data": {"intent": {"name": "out_of_scope", "confidence": 0.9}, "entities": []}},
        {"event": "bot", "text": "我帮您查一下这单的物流记录。", "timestamp": 4.0},
    ]
    turns = annotate(build_turns(events), events)
    findings = [(f["id"], f["text"]) for turn in turns for f in turn.findings]
    assert findings == [("play_dumb", STONEWALL)]


# ------------------------------------------------------------------ the desk


@pytest.fixture(scope="module")
def agent(desk):
    desk.add_agent("guard_agent", PASSWORD)
    return desk.login("guard_agent", PASSWORD)


@pytest.fixture(scope="module")
def case_with_ticket(db_url):
    """A case handed over after the bot created a normal (24 h) ticket."""
    slot = lambda name, value: {"event": "slot", "name": name, "value": value, "timestamp": 2.0}  # noqa: E731
    tracker = {"sender_id": "guard-desk-customer", "latest_input_channel": "rest", "events": [
        {"event": "user", "text": "耳机坏了", "timestamp": 1.0,
         "parse_data": {"intent": {"name": "complain_quality"}, "entities": []}},
        slot("complaint_step", "action"), slot("chosen_remedy", "replace"),
        slot("ticket_id", "T2026120500001"), slot("ticket_tier", "normal")]}
    record = build_record(tracker, {"complaint_category": "quality", "complaint_step": "action"},
                          "customer_request")
    return escalations.create_escalation(record)


def check_draft(agent, case, text):
    response = agent.post(f"/api/cases/{case['id']}/check", {"text": text})
    assert response.status_code == 200, response.text
    return response.json()["violations"]


def test_a_flagged_draft_names_the_behaviour_the_span_and_a_rewording(agent, case_with_ticket):
    (finding,) = check_draft(agent, case_with_ticket, "您确定真的没收到吗？")
    assert finding["id"] == "doubt" and finding["name"] == "怀疑口气质问"
    assert finding["span"] in "您确定真的没收到吗？" and finding["why"] and finding["suggest"]
    (by_model,) = check_draft(agent, case_with_ticket, STONEWALL)
    assert by_model["source"] == "classifier" and 0 < by_model["score"] <= 1 and by_model["suggest"]


def test_a_draft_promise_is_judged_against_the_cases_ticket(agent, case_with_ticket):
    assert check_draft(agent, case_with_ticket, "我们会在24小时内给您回复处理结果。") == []
    assert [v["id"] for v in check_draft(agent, case_with_ticket, "我们会在2小时内给您回复处理结果。")] \
        == ["broken_promise"]
    assert [v["id"] for v in check_draft(agent, case_with_ticket, "我们会尽快给您回复处理结果。")] \
        == ["broken_promise"]


def test_sending_anyway_is_recorded_in_the_case(desk, agent, case_with_ticket):
    refused = agent.post(f"/api/cases/{case_with_ticket['id']}/reply", {"text": STONEWALL})
    assert refused.status_code == 409 and refused.json()["violations"][0]["suggest"]
    sent = agent.post(f"/api/cases/{case_with_ticket['id']}/reply", {"text": STONEWALL, "confirm": True})
    assert sent.status_code == 201, sent.text
    history = agent.get(f"/api/cases/{case_with_ticket['id']}").json()["messages"]
    (message,) = [m for m in history if m["text"] == STONEWALL]
    assert [(w["id"], w["source"]) for w in message["warnings"]] == [("play_dumb", "classifier")]
    assert requests.get(desk.url + "/healthz").ok
