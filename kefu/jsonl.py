"""Reading `{"text": …}` JSON lines for the command-line tools (emotion, guard)."""
import json
from typing import Iterable, Iterator, Optional, Tuple

Record = Tuple[int, Optional[dict], Optional[str]]


def text_records(lines: Iterable[str]) -> Iterator[Record]:
    """(line number, record, None) for each good line, (line number, None, error) for a bad one.

    Blank lines are skipped; a bad line never stops the lines after it.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            yield number, None, f"malformed line: {error}"
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield number, None, 'expected an object with a "text" string'
            continue
        yield number, record, None
