"""Wait until HTTP services answer: `python -m kefu.wait URL… [--timeout S]`.

Also what the tests and benchmarks use to start servers on free loopback ports.
"""
import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except Exception:
        return False


def wait_for(urls, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        pending = [url for url in pending if not answers(url)]
        if pending:
            time.sleep(0.5)
    return not pending


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Returns once ``url`` answers; raises RuntimeError with the log's tail when the
    process exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        if answers(url):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up in {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    if wait_for(args.urls, args.timeout):
        return 0
    print(f"not answering after {args.timeout:.0f}s: {' '.join(args.urls)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
