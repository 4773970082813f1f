"""Run every benchmark (or the ones named) and print their figures.

    python -m bench                 # all, with their default (short) durations
    python -m bench ledger --seconds 60 --json
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def benchmarks() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(benchmarks()))
        return 0
    if argv and not argv[0].startswith("-"):
        names, rest = [argv[0]], argv[1:]
    else:
        names, rest = benchmarks(), argv
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        # On stderr, so that `--json` leaves one JSON object per benchmark on stdout.
        print(f"\n=== bench {name} ===", file=sys.stderr, flush=True)
        module.main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
