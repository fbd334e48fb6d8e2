#!/usr/bin/env python3
"""Fill the mechanical GRADE columns of our own rows in ``data/certainty.csv``.

For every row rated by ``this collection``, the judgement columns (publication bias,
indirectness beyond the rule's floor, and a risk of bias whose reason says it "departs from the
rule") are kept as written; risk of bias (the participant-weighted rule on
``risk_of_bias.csv``), inconsistency and imprecision, with their reasons naming the studies and
their numbers, and the resulting ``certainty`` are recomputed by
:mod:`crps_evidence.stats.grade` from the studies the row names. ``crps-evidence check`` (and the
tests) fail when the table disagrees with the rules, so run this after changing a judgement or
a study row. Running it twice changes nothing. ``--check`` writes nothing and exits 1 if the
file would change.

Usage::

    python scripts/fill_certainty.py [--check]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from crps_evidence import load_all
from crps_evidence._files import atomic_write_text, data_lock
from crps_evidence.evidence.paths import data_dir
from crps_evidence.stats.certainty import fill_rows


def filled_text() -> tuple[Path, str, str]:
    """The certainty table's path, its current text and the text with mechanical columns."""
    path = data_dir() / "certainty.csv"
    text = path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = next(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(fill_rows(load_all(), rows))
    return path, text, out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    path, old, new = filled_text()
    if old == new:
        print(f"{path.name} is up to date")
        return 0
    if args.check:
        print(f"{path.name} is out of date: run python scripts/fill_certainty.py")
        return 1
    with data_lock(path):  # one writer of the data at a time: read again under the lock
        path, old, new = filled_text()
        if old != new:
            atomic_write_text(path, new)
    print(f"updated {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
