"""CPU time that a stretch of a benchmark costs, per part of the deployment (Linux /proc).

A part is a process tree: its living processes' own time plus what their reaped children
used (PostgreSQL's backends, HAProxy's worker), so nothing that ran and exited is lost.
"machine" is every core's busy time, "other" what no named part accounts for.

    meter = CpuMeter({"rasa": [pid1, pid2], "postgres": [postmaster]})
    meter.start(); ...; seconds = meter.stop()  # {"rasa": 12.3, ..., "machine": 40.1, "other": 2.0}
"""
import os
from pathlib import Path
from typing import Dict, Iterable, List

TICKS = os.sysconf("SC_CLK_TCK")


def _fields(pid: int) -> List[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def _process_table() -> Dict[int, List[str]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = _fields(int(entry.name))
            except (OSError, ValueError):
                continue  # exited while we looked
    return table


def children_of(table: Dict[int, List[str]]) -> Dict[int, List[int]]:
    children: Dict[int, List[int]] = {}
    for pid, fields in table.items():
        children.setdefault(int(fields[1]), []).append(pid)
    return children


def tree_seconds(roots: Iterable[int], table: Dict[int, List[str]], children: Dict[int, List[int]]) -> float:
    """CPU seconds of the trees under ``roots``: utime, stime, cutime and cstime."""
    seen, todo, ticks = set(), [pid for pid in roots if pid in table], 0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        ticks += sum(int(value) for value in table[pid][11:15])
        todo.extend(children.get(pid, ()))
    return ticks / TICKS


def machine_busy_seconds() -> float:
    """Busy time of all cores together (not idle, not waiting for the disk)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS


class CpuMeter:
    def __init__(self, parts: Dict[str, List[int]]) -> None:
        self.parts = {name: [pid for pid in pids if pid] for name, pids in parts.items()}
        self.before: Dict[str, float] = {}

    def read(self) -> Dict[str, float]:
        table = _process_table()
        children = children_of(table)
        seconds = {name: tree_seconds(pids, table, children) for name, pids in self.parts.items()}
        seconds["machine"] = machine_busy_seconds()
        return seconds

    def start(self) -> None:
        self.before = self.read()

    def stop(self) -> Dict[str, float]:
        after = self.read()
        used = {name: max(0.0, after[name] - self.before.get(name, 0.0)) for name in after}
        used["other"] = max(0.0, used["machine"] - sum(v for k, v in used.items() if k != "machine"))
        return used
