"""Benchmark: what a notebook's first cell costs in imports.

Each statement runs in a fresh interpreter (so nothing is already imported), ``repeat``
times; the table shows the minimum and median wall time of the statement alone, and which
heavy libraries it pulled in. Prints figures; asserts nothing (``tests/test_lazy_imports.py``
checks which modules are loaded, without timing). The "before" column is the code before
issue 15 (commit 06f2a82) on the same machine; see benchmarks/RESULTS.md for how to re-run it.

    python benchmarks/bench_import.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

STATEMENTS = {
    "import pandas, matplotlib.figure (floor)": "import pandas, matplotlib.figure",
    "import crps_evidence": "import crps_evidence",
    "from crps_evidence import notebook": "from crps_evidence import notebook",
}
HEAVY = ("frictionless", "scipy", "statsmodels", "requests", "requests_cache",
         "crps_evidence.current.clients", "IPython")  # fmt: skip

#: Minimum seconds before issue 15 (frictionless, scipy and statsmodels imported eagerly).
BEFORE = {
    "import pandas, matplotlib.figure (floor)": 1.179,
    "import crps_evidence": 0.853,
    "from crps_evidence import notebook": 2.576,
}

PROBE = """
import json, sys, time
start = time.perf_counter()
exec({statement!r})
elapsed = time.perf_counter() - start
print(json.dumps([elapsed, [m for m in {heavy!r} if m in sys.modules]]))
"""


def measure(statement: str, repeat: int) -> tuple[float, float, list[str]]:
    """Minimum and median seconds of ``statement`` in fresh interpreters, and heavy modules."""
    times, loaded = [], []
    for _ in range(repeat):
        code = PROBE.format(statement=statement, heavy=HEAVY)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout
        elapsed, loaded = json.loads(out)
        times.append(elapsed)
    return min(times), statistics.median(times), loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'statement (fresh interpreter)':<44}{'min s':>8}{'median s':>10}{'before s':>10}"
          "  heavy modules")
    for label, statement in STATEMENTS.items():
        low, mid, loaded = measure(statement, args.repeat)
        print(f"{label:<44}{low:>8.3f}{mid:>10.3f}{BEFORE[label]:>10.3f}  "
              f"{', '.join(loaded) or '-'}")


if __name__ == "__main__":
    main()
