"""``python -m kefu.replay list|show|rerun|export|report`` (see kefu.replay)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from datetime import date
from pathlib import Path
from typing import Dict, List

PAGE_TURNS = 50


def main(argv=None) -> int:
    # Rasa's and TensorFlow's import-time deprecation noise is not for this command's reader.
    warnings.filterwarnings("ignore")
    warnings.showwarning = lambda *args, **kwargs: None
    logging.disable(logging.WARNING)
    args = parser().parse_args(argv)
    from kefu.replay.export import ExportError
    from kefu.replay.filters import FilterError
    from kefu.replay.rerun import RerunError
    from kefu.replay.review import ReviewError
    from kefu.replay.source import BrokenConversation, ConversationNotFound, TrackerStoreUnavailable

    try:
        return COMMANDS[args.command](args)
    except (FilterError, ExportError, ReviewError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ConversationNotFound, BrokenConversation) as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (TrackerStoreUnavailable, RerunError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 4


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kefu.replay", description=__doc__)
    p.add_argument("--endpoints", help="endpoints.yml with the tracker_store (default: the project's)")
    commands = p.add_subparsers(dest="command", required=True)
    ls = commands.add_parser("list", help="conversations, newest first, filtered")
    for name in ("from", "to", "channel", "category", "handed-off", "max-confidence", "emotion",
                 "min-intensity", "guard", "rating", "q"):
        ls.add_argument(f"--{name}", dest=name.replace("-", "_"))
    ls.add_argument("--reruns", action="store_true", help="include re-run conversations")
    ls.add_argument("--json", action="store_true")
    show = commands.add_parser("show", help="one conversation, turn by turn")
    show.add_argument("conversation_id")
    show.add_argument("--page", type=int, default=1, help=f"{PAGE_TURNS} turns a page")
    show.add_argument("--unmasked", action="store_true", help="show personal data (not for trainers)")
    show.add_argument("--json", action="store_true")
    rerun = commands.add_parser("rerun", help="feed the customer's messages to the current model")
    rerun.add_argument("conversation_id")
    rerun.add_argument("--rasa-url", help="default KEFU_RASA_URL or http://localhost:5005")
    rerun.add_argument("--json", action="store_true")
    export = commands.add_parser("export", help="conversations to Rasa test stories (and NLU examples)")
    export.add_argument("conversation_ids", nargs="+")
    export.add_argument("--out", help="test story file (default tests/test_replay_stories.yml)")
    export.add_argument("--nlu", nargs="?", const="", help="also write NLU examples (default review/replay_nlu.yml)")
    export.add_argument("--intent", action="append", default=[], metavar="ID:TURN=INTENT",
                        help="correct the intent of a turn")
    export.add_argument("--action", action="append", default=[], metavar="ID:TURN=OLD>NEW",
                        help="replace an action of a turn")
    review = commands.add_parser("review", help="the review queue: list it, or export approved examples")
    review.add_argument("--status", choices=("pending", "approved", "rejected"))
    review.add_argument("--export", metavar="FILE", help="write approved examples as Rasa NLU YAML")
    report = commands.add_parser("report", help="the daily summary")
    report.add_argument("--day", help="YYYY-MM-DD, default today")
    report.add_argument("--json", action="store_true")
    return p


def _replay(args, audit: bool = True):
    from kefu.replay.conversations import Replay
    from kefu.replay.source import ConversationSource

    return Replay(ConversationSource(endpoints=args.endpoints), audit=audit)


def cmd_list(args) -> int:
    from kefu.replay.filters import apply, broken, parse_filters

    params = {k: getattr(args, k.replace("-", "_")) for k in
              ("from", "to", "channel", "category", "handed_off", "max_confidence", "emotion",
               "min_intensity", "guard", "rating", "q")}
    filters = parse_filters({k: v for k, v in params.items() if v})
    summaries = _replay(args).summaries(include_reruns=args.reruns)
    found = apply(summaries, filters)
    for s in broken(summaries):
        print(f"broken, skipped: {s.sender_id[:80]!r}: {s.broken}", file=sys.stderr)
    if args.json:
        print(json.dumps([s.to_dict() for s in found], ensure_ascii=False, indent=1))
        return 0
    for s in found:
        marks = " ".join(f"{k}×{v}" for k, v in s.marks.items())
        print(f"{s.sender_id}\t{_clock(s.started)}\t{s.channel or '-'}\t{s.category or '-'}\t"
              f"{'转人工' if s.handed_off else ''}\tconf≥{s.min_confidence}\t{s.emotion or '-'}"
              f"{s.emotion_intensity or ''}\t{len(s.findings)} findings\t{marks}\t{s.first_text}")
    print(f"{len(found)} conversations", file=sys.stderr)
    return 0


def cmd_show(args) -> int:
    from kefu.replay.conversations import masked_turns
    from kefu.replay.filters import FilterError

    conversation = _replay(args).conversation(args.conversation_id)
    turns = ([t.to_dict() for t in conversation.turns] if args.unmasked else masked_turns(conversation.turns))
    if args.page < 1:
        raise FilterError("--page counts from 1")
    first = (args.page - 1) * PAGE_TURNS + 1  # turns[0] is before the first message
    page = ([turns[0]] if args.page == 1 else []) + turns[first:first + PAGE_TURNS]
    if args.json:
        print(json.dumps({"summary": conversation.summary.to_dict(), "turns": page}, ensure_ascii=False, indent=1))
        return 0
    for turn in page:
        if turn["index"] or turn["messages"]:
            print(format_turn(turn))
    return 0


def format_turn(turn: Dict) -> str:
    lines = []
    if turn["index"]:
        emotion = f" {turn['emotion']} {turn['intensity']}" if turn["emotion"] else ""
        lines.append(f"#{turn['index']} {_clock(turn['at'])} 顾客: {turn['text']}  "
                     f"[{turn['intent']} {turn['confidence']}{emotion}] step={turn['step']}")
        if turn["entities"]:
            lines.append("   entities: " + ", ".join(f"{e['entity']}={e['value']}" for e in turn["entities"]))
    lines += [f"   {'客服 ' + (m['agent'] or '') if m['role'] == 'agent' else '小客'}: {m['text']}"
              for m in turn["messages"]]
    if turn["actions"]:
        lines.append("   actions: " + ", ".join(turn["actions"]))
    lines += [f"   ! {f['id']}: {f['why']} ({f['source']})" for f in turn["findings"]]
    if turn["handoff"]:
        lines.append(f"   → 转人工: {turn['handoff']}")
    if turn["notes"]:
        lines.append("   notes: " + ", ".join(turn["notes"]))
    return "\n".join(lines)


def cmd_rerun(args) -> int:
    from kefu.replay.rerun import RasaClient, rerun

    conversation = _replay(args, audit=False).conversation(args.conversation_id)
    result = rerun(conversation, RasaClient(args.rasa_url))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return 0
    print(f"re-run as {result.rerun_id}: {len(result.changed)} of {len(result.turns)} turns differ")
    for turn in result.turns:
        mark = "≠ " + ",".join(turn.differences) if turn.differences else "="
        print(f"#{turn.index} {turn.text}  {mark}")
        for key in turn.differences:
            print(f"    {key}: {turn.then[key]!r} → {turn.now[key]!r}")
    return 0


def parse_corrections(intents: List[str], actions: List[str]):
    from kefu.replay.export import Corrections, ExportError

    fixes: Dict[str, Corrections] = {}
    for spec, is_action in [(s, False) for s in intents] + [(s, True) for s in actions]:
        try:
            where, value = spec.rsplit("=", 1)
            sender, turn = where.rsplit(":", 1)
            fix = fixes.setdefault(sender, Corrections())
            if is_action:
                old, new = value.split(">", 1)
                fix.actions.setdefault(int(turn), {})[old.strip()] = new.strip()
            else:
                fix.intents[int(turn)] = value.strip()
        except ValueError:
            raise ExportError(f"cannot read the correction {spec!r}") from None
    return fixes


def cmd_export(args) -> int:
    from kefu.replay.export import write_nlu, write_stories

    replay = _replay(args, audit=False)
    conversations = [replay.conversation(i) for i in args.conversation_ids]
    fixes = parse_corrections(args.intent, args.action)
    path, skipped = write_stories(conversations, args.out, fixes)
    print(f"wrote {len(conversations) - len(skipped)} test stories to {path}")
    for sender_id in skipped:
        print(f"skipped {sender_id}: it stops before the bot answered a customer message", file=sys.stderr)
    if args.nlu is not None:
        print(f"wrote NLU examples for review to {write_nlu(conversations, args.nlu or None, fixes)}")
    return 0


def cmd_review(args) -> int:
    from kefu.replay import review
    from kefu.replay.mask import mask_text

    if args.export:
        text = review.export_yaml()
        Path(args.export).write_text(text, encoding="utf-8")
        print(f"wrote {len(review.examples('approved'))} approved examples to {args.export}")
        return 0
    for e in review.examples(args.status):
        entities = " ".join(f"{x['entity']}={mask_text(x['value'])}" for x in e["entities"])
        print(f"#{e['id']}\t{e['status']}\t{e['intent']}\t{mask_text(e['text'])}\t{entities}")
    return 0


def cmd_report(args) -> int:
    from kefu.replay.filters import FilterError
    from kefu.replay.report import daily_report, format_text

    try:
        day = date.fromisoformat(args.day) if args.day else date.today()
    except ValueError:
        raise FilterError(f"--day must be a date like 2026-11-25, not {args.day!r}") from None
    report = daily_report(_replay(args).summaries(), day)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) if args.json else format_text(report))
    return 0


def _clock(timestamp) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(timestamp).strftime("%m-%d %H:%M:%S") if timestamp else ""


COMMANDS = {"list": cmd_list, "show": cmd_show, "rerun": cmd_rerun, "export": cmd_export,
            "review": cmd_review, "report": cmd_report}

if __name__ == "__main__":
    sys.exit(main())
