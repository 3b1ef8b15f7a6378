"""Command line of the guard (contract in shared/DESIGN.md).

    python -m kefu.guard TEXT…                 one JSON object per text; exit 1 if any violates
    python -m kefu.guard --jsonl               {"text":…} lines on stdin -> same objects + violations
    python -m kefu.guard --domain domain.yml   lint every response text and button title
    python -m kefu.guard --conversation FILE_OR_ID   audit a stored conversation by turn
    --context '{"complaint_step": "action", "ticket_tier": "urgent"}'  base context for all texts
    python -m kefu.guard eval FILE [--details] [--json]   precision/recall on {"text","expect"} lines
    python -m kefu.guard train                 (re)train the classifier now instead of on first use

Exit codes: 0 clean, 1 violations found, 2 input could not be read.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from kefu.guard.conversation import audit_events
from kefu.guard.engine import check
from kefu.jsonl import text_records

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class GuardInputError(Exception):
    """Input the guard cannot read: reported in one line, never as a traceback."""


def emit(obj: Dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def checked(text: Any, context: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return {"text": text, "violations": [v.to_dict() for v in check(text, context)]}


# ------------------------------------------------------------------ TEXT… / --jsonl


def run_texts(texts: List[str], context: Optional[Dict[str, Any]]) -> int:
    any_violation = False
    for text in texts:
        result = checked(text, context)
        any_violation |= bool(result["violations"])
        emit(result)
    return EXIT_VIOLATIONS if any_violation else EXIT_CLEAN


def run_jsonl(lines: Iterable[str], base_context: Optional[Dict[str, Any]]) -> int:
    """Each line {"text":…, "context"?: {…}}; a bad line is reported and skipped."""
    any_violation = any_error = False
    for number, record, error in text_records(lines):
        if error:
            emit({"line": number, "error": error})
            any_error = True
            continue
        context = {**(base_context or {}), **(record.get("context") or {})}
        record["violations"] = [v.to_dict() for v in check(record["text"], context)]
        any_violation |= bool(record["violations"])
        emit(record)
    if any_violation:
        return EXIT_VIOLATIONS
    return EXIT_ERROR if any_error else EXIT_CLEAN


# ------------------------------------------------------------------ --domain


def _domain_files(path: Path) -> List[Path]:
    if path.is_dir():  # a split domain: domain/*.yml
        return sorted(list(path.rglob("*.yml")) + list(path.rglob("*.yaml")))
    if not path.exists():
        raise GuardInputError(f"domain file not found: {path}")
    return [path]


def load_responses(path: Path) -> Dict[str, List[Dict[str, Any]]]:
    responses: Dict[str, List[Dict[str, Any]]] = {}
    for file in _domain_files(path):
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise GuardInputError(f"{file}: not valid YAML: {error}") from error
        for name, variations in (data.get("responses") or {}).items():
            responses.setdefault(name, []).extend(v for v in variations or [] if isinstance(v, dict))
    return responses


def condition_context(variation: Dict[str, Any]) -> Dict[str, Any]:
    """A conditional variation is said only when its slot conditions hold."""
    return {
        c["name"]: c.get("value")
        for c in variation.get("condition") or []
        if isinstance(c, dict) and c.get("type", "slot") == "slot" and "name" in c
    }


def response_texts(variation: Dict[str, Any]) -> Iterable[Tuple[str, str]]:
    if isinstance(variation.get("text"), str):
        yield "text", variation["text"]
    for button in variation.get("buttons") or []:
        if isinstance(button, dict) and isinstance(button.get("title"), str):
            yield "button", button["title"]


def run_domain(path: Path, base_context: Optional[Dict[str, Any]]) -> int:
    responses = load_responses(path)
    checked_count = violating = 0
    for name, variations in responses.items():
        for index, variation in enumerate(variations):
            context = {**(base_context or {}), **condition_context(variation)}
            for field, text in response_texts(variation):
                checked_count += 1
                violations = check(text, context)
                if violations:
                    violating += 1
                    emit({"response": name, "variation": index, "field": field, "text": text,
                          "violations": [v.to_dict() for v in violations]})
    print(f"{violating} of {checked_count} response texts violate", file=sys.stderr)
    return EXIT_VIOLATIONS if violating else EXIT_CLEAN


# ------------------------------------------------------------------ --conversation


def fetch_tracker(conversation_id: str) -> Dict[str, Any]:
    from kefu.rasa_client import RasaClient, RasaError, RasaUnreachable

    client = RasaClient(timeout=10)
    try:
        return client.tracker(conversation_id)
    except RasaUnreachable as error:
        raise GuardInputError(f"cannot reach the Rasa server: {error}") from error
    except RasaError as error:
        raise GuardInputError(f"conversation '{conversation_id}': {error}") from error


def load_tracker(source: str) -> Dict[str, Any]:
    path = Path(source)
    if path.is_file():
        try:
            tracker = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise GuardInputError(f"{path}: not a tracker JSON file ({error})") from error
    else:
        tracker = fetch_tracker(source)
    if not isinstance(tracker, dict) or not isinstance(tracker.get("events"), list):
        raise GuardInputError(f"{source}: no 'events' list; expected a Rasa tracker")
    if not any(isinstance(e, dict) and e.get("event") in ("user", "bot") for e in tracker["events"]):
        raise GuardInputError(f"conversation '{source}' has no messages (unknown conversation id?)")
    return tracker


def run_conversation(source: str) -> int:
    tracker = load_tracker(source)
    report = audit_events(tracker["events"])
    print(f"conversation {tracker.get('sender_id') or source}: {len(report)} bot messages")
    findings = 0
    for entry in report:
        mark = "!!" if entry["violations"] else "ok"
        print(f"turn {entry['turn']:>3} {mark} bot: {entry['text']}")
        for v in entry["violations"]:
            findings += 1
            print(f"          - {v['id']}: 「{v['span']}」 {v['why']}")
    print(f"{findings} findings")
    return EXIT_VIOLATIONS if findings else EXIT_CLEAN


# ------------------------------------------------------------------ main


def parse_context(raw: Optional[str]) -> Optional[Dict[str, Any]]:
    if raw is None:
        return None
    try:
        context = json.loads(raw)
    except ValueError as error:
        raise GuardInputError(f"--context is not JSON: {error}") from error
    if not isinstance(context, dict):
        raise GuardInputError("--context must be a JSON object")
    return context


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kefu.guard",
        description="Find the ten forbidden behaviours (十大戒律) in bot/agent messages.")
    parser.add_argument("texts", nargs="*", help="messages to check")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--jsonl", action="store_true", help='read {"text":…} lines from stdin')
    mode.add_argument("--domain", metavar="DOMAIN_YML", help="lint every response of a Rasa domain")
    mode.add_argument("--conversation", metavar="FILE_OR_ID", help="audit a tracker file or conversation id")
    parser.add_argument("--context", metavar="JSON", help="conversation context for the texts")
    return parser


def run_eval(argv: List[str]) -> int:
    from kefu.guard.evaluate import evaluate, format_report, load_labelled

    parser = argparse.ArgumentParser(prog="python -m kefu.guard eval",
                                     description='Precision and recall on {"text", "expect"} JSON lines.')
    parser.add_argument("file", help='JSON lines {"text": …, "expect": behaviour id or null}')
    parser.add_argument("--details", action="store_true", help="also list every miss and false positive")
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    args = parser.parse_args(argv)
    path = Path(args.file)
    if not path.is_file():
        raise GuardInputError(f"no such file: {path}")
    try:
        result = evaluate(load_labelled(path))
    except ValueError as error:
        raise GuardInputError(str(error)) from error
    if args.json:
        emit(result.to_dict())
    else:
        print(format_report(result, details=args.details))
    return EXIT_CLEAN


def run_train() -> int:
    from kefu.guard.classifier import DEFAULT_MODEL_DIR, train_default

    model = train_default()
    print(f"guard classifier trained on {model.examples} sentences, saved in {DEFAULT_MODEL_DIR}")
    return EXIT_CLEAN


SUBCOMMANDS = {"eval": run_eval, "train": lambda argv: run_train()}


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sys.stdout.reconfigure(encoding="utf-8")
    if argv and argv[0] in SUBCOMMANDS:
        try:
            return SUBCOMMANDS[argv[0]](argv[1:])
        except GuardInputError as error:
            print(f"kefu.guard: {error}", file=sys.stderr)
            return EXIT_ERROR
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        context = parse_context(args.context)
        if args.jsonl:
            return run_jsonl(sys.stdin, context)
        if args.domain:
            return run_domain(Path(args.domain), context)
        if args.conversation:
            return run_conversation(args.conversation)
        if not args.texts:
            parser.error("give TEXT…, --jsonl, --domain or --conversation")
        return run_texts(args.texts, context)
    except GuardInputError as error:
        print(f"kefu.guard: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
