"""Fail when a notebook's stored outputs were made from other data than data/ holds now.

Each notebook records the fingerprint of the data it ran with (``nb.notice()``, first cell).
``make book`` and ``make test`` run this first, so a page can never show counts from an older
copy of the tables. Re-run the notebooks it names with ``make execute``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    from crps_evidence.evidence.fingerprint import stale_notebooks

    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    stale = stale_notebooks(notebooks)
    if stale:
        print(f"stored outputs of {len(stale)} notebook(s) were not made from the current "
              f"data/ and references.bib: {', '.join(stale)}\n"
              "re-run them with `make execute` (then commit the notebooks)", file=sys.stderr)
        return 1
    print(f"stored outputs of all {len(notebooks)} notebooks match the current data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
