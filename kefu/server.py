"""Run Rasa with kefu's patches: `python -m kefu.server run --enable-api …` (same arguments as `rasa`).

The patches (kefu/patches/, one module per patch, each with its reasons) make Rasa 3.6
faster under load without changing what it decides, and answer a customer whose
message met a dead action server. `KEFU_RASA_PATCHES=off` (or a comma list of patch
names to leave out) runs Rasa as `rasa run` would.
"""
import sys

from kefu.patches import apply_enabled


def apply_fixes() -> list:
    """Applies the patches `KEFU_RASA_PATCHES` leaves on; returns their names."""
    return apply_enabled()


def main() -> None:
    applied = apply_fixes()
    # Before Rasa sets up logging: the operator sees in the log which patches run.
    print(f"kefu: Rasa patches applied: {', '.join(applied) or 'none'}", file=sys.stderr, flush=True)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
