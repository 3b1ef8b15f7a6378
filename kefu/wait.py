"""Wait until HTTP services answer: `python -m kefu.wait URL… [--timeout S]`."""
import argparse
import sys
import time
import urllib.request


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
