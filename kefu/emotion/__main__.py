"""Command line for the emotion model.

    python -m kefu.emotion "文本" …            one JSON object per text: {"text", "emotion"}
    python -m kefu.emotion --jsonl < in.jsonl  adds "emotion" to each {"text": …} line
    python -m kefu.emotion eval FILE [--png out.png]
    python -m kefu.emotion train [--data FILE]
    python -m kefu.emotion evaluate --real DIR [--png DIR]   figures on real text (issue 15)

``--model DIR`` uses a trained model directory instead of the cached default
(``.kefu/emotion_model/``, trained from data/emotion/train.jsonl when missing).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional, TextIO

from kefu.emotion.classifier import DEFAULT_MODEL_DIR, EmotionModel, load_default, save_atomically
from kefu.jsonl import text_records


def _print_json(obj: object, stream: TextIO = sys.stdout) -> None:
    stream.write(json.dumps(obj, ensure_ascii=False) + "\n")


def classify_texts(model: EmotionModel, texts: List[str]) -> int:
    for text in texts:
        _print_json({"text": text, "emotion": model.predict(text)})
    return 0


def classify_jsonl(model: EmotionModel, lines: TextIO) -> int:
    """Processes every good line; a bad one is reported on stderr and fails the run at the end."""
    failed = False
    for number, record, error in text_records(lines):
        if error:
            failed = True
            _print_json({"error": error, "line": number}, sys.stderr)
            continue
        record["emotion"] = model.predict(record["text"])
        _print_json(record)
    return 1 if failed else 0


def run_eval(model: EmotionModel, path: str, png: Optional[str]) -> int:
    from kefu.emotion.dataset import load_jsonl
    from kefu.emotion.evaluate import evaluate, format_report, save_confusion_png

    result = evaluate(model, load_jsonl(path))
    print(format_report(result))
    if png:
        save_confusion_png(result["confusion"], png, title=f"emotion: {path}")
        print(f"confusion matrix written to {png}")
    return 0


def run_real(model: EmotionModel, folder: str, png_dir: Optional[str]) -> int:
    from kefu.emotion.evaluate import format_real_figures, real_figures

    print(format_real_figures(real_figures(folder, model, png_dir)))
    if png_dir:
        print(f"confusion matrices written to {png_dir}")
    return 0


def run_train(data: Optional[str], out: Optional[str]) -> int:
    model = EmotionModel.train_from_file(data)
    save_atomically(model, out or DEFAULT_MODEL_DIR)
    print(f"emotion model trained from {data or 'data/emotion/train.jsonl'} into {out or DEFAULT_MODEL_DIR}")
    return 0


def _parser(command: Optional[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kefu.emotion", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="trained model directory (default: the cached default model)")
    if command == "eval":
        parser.add_argument("command")
        parser.add_argument("file", help="JSON lines with text and label")
        parser.add_argument("--png", help="write the confusion matrix as a PNG")
    elif command == "evaluate":
        parser.add_argument("command")
        parser.add_argument("--real", required=True, help="folder of real text (e.g. ../shared/realdev)")
        parser.add_argument("--png", help="folder for the confusion matrices (PNG)")
    elif command == "train":
        parser.add_argument("command")
        parser.add_argument("--data", help="training JSON lines (default data/emotion/train.jsonl)")
        parser.add_argument("--out", help=f"model directory (default {DEFAULT_MODEL_DIR})")
    else:
        parser.add_argument("texts", nargs="*", help="messages to classify")
        parser.add_argument("--jsonl", action="store_true", help='read {"text": …} lines from stdin')
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in ("eval", "evaluate", "train") else None
    args = _parser(command).parse_args(argv)
    if command == "train":
        return run_train(args.data, args.out)
    model = load_default(args.model)
    if command == "evaluate":
        return run_real(model, args.real, args.png)
    if command == "eval":
        return run_eval(model, args.file, args.png)
    if args.jsonl:
        return classify_jsonl(model, sys.stdin)
    if not args.texts:
        _parser(None).print_usage(sys.stderr)
        return 2
    return classify_texts(model, args.texts)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        sys.stderr.close()
        sys.exit(1)
