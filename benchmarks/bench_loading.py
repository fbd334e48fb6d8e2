"""Benchmark: the loaders at 5,000 generated studies and references.

Prints figures; asserts nothing. Goals (issue 2): `load_references()` adds at most 25% over
raw `bibtexparser.parse_file` on the same file, and all tables + references + validation load
in under 1 s at 5,000 studies. The "before" column is the same benchmark on the code before
issue 15 (commit 06f2a82, frictionless validating row by row), measured on the same machine
in the same session (see benchmarks/RESULTS.md).

    python benchmarks/bench_loading.py [N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bibtexparser

from crps_evidence import (
    check_integrity,
    load_all,
    load_outcomes,
    load_references,
    load_studies,
    load_treatments,
)
from crps_evidence.evidence.paths import data_dir
from crps_evidence.evidence.tables import schema_fields

STUDY = ("s{i},t{t},s{i},parallel RCT,40,,placebo,adults,I,12 weeks,pain,no_difference,"
         "Generated.,,,,,https://example.org/generated/{i},abstract,true,\n")
OUTCOME = ("s{i},pain,NRS 0-10,week 12,12,{arm},{role},continuous,20,4.5,2.1,,,,,,,true,"
           "https://example.org/generated/{i},abstract,\n")
TREATMENT = "t{t},Generated {t},,infusion,target,prescription,2,,,low,,,\n"
ENTRY = ("@article{{s{i},\n  author = {{Author, A. and Other, B.}},\n  title = {{Generated "
         "study {i}}},\n  journal = {{Journal}},\n  year = {{2001}},\n  volume = {{1}},\n"
         "  pages = {{1--10}},\n  doi = {{10.5555/gen.{i}}},\n  pmid = {{{pmid}}},\n}}\n\n")


def generate(folder: Path, n: int) -> None:
    """Write n studies, 2n outcome rows, n/50 treatments and n references into folder."""
    shutil.copy(data_dir() / "datapackage.json", folder / "datapackage.json")
    header = {name: ",".join(f["name"] for f in schema_fields(name)) + "\n"
              for name in ("treatments", "studies", "outcomes")}
    k = max(1, n // 50)
    (folder / "treatments.csv").write_text(
        header["treatments"] + "".join(TREATMENT.format(t=t) for t in range(k)))
    (folder / "studies.csv").write_text(
        header["studies"] + "".join(STUDY.format(i=i, t=i % k) for i in range(n)))
    (folder / "outcomes.csv").write_text(header["outcomes"] + "".join(
        OUTCOME.format(i=i, arm=arm, role=role) for i in range(n)
        for arm, role in (("a", "treatment"), ("b", "control"))))
    (folder / "references.bib").write_text(
        "".join(ENTRY.format(i=i, pmid=10_000_000 + i) for i in range(n)))


#: Minimum seconds at N=5000 before issue 15 (see the module docstring and RESULTS.md).
BEFORE = {
    "bibtexparser.parse_file (raw)": 0.508,
    "load_references()": 0.525,
    "tables only (3 loaders, no cache)": 1.888,
    "load_all(), tables validated (no cache)": 2.579,
    "load_all(), validation cached (unchanged)": 0.612,
    "check_integrity() on loaded data": 0.135,
}


def best_of(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """Minimum and median wall time over `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main(n: int = 5000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, n)
        bib = folder / "references.bib"
        raw = best_of(lambda: bibtexparser.parse_file(str(bib)), repeat=10)
        ours = best_of(lambda: load_references(bib), repeat=10)
        os.environ["CRPS_EVIDENCE_CACHE_DIR"] = str(folder / "cache")
        os.environ["CRPS_EVIDENCE_NO_CACHE"] = "1"
        tables = best_of(lambda: (load_treatments(folder / "treatments.csv"),
                                  load_studies(folder / "studies.csv"),
                                  load_outcomes(folder / "outcomes.csv")), repeat=3)
        cold = best_of(lambda: load_all(folder, bib), repeat=3)
        del os.environ["CRPS_EVIDENCE_NO_CACHE"]
        load_all(folder, bib)  # validates once and remembers it
        warm = best_of(lambda: load_all(folder, bib), repeat=3)
        evidence = load_all(folder, bib)
        checks = best_of(lambda: check_integrity(evidence, folder / "none"), repeat=3)
    print(f"{n} generated studies, {2 * n} outcome rows, {n} references")
    print(f"{'step':<44}{'min s':>8}{'median s':>10}{'before s':>10}")
    rows = [("bibtexparser.parse_file (raw)", raw), ("load_references()", ours),
            ("tables only (3 loaders, no cache)", tables),
            ("load_all(), tables validated (no cache)", cold),
            ("load_all(), validation cached (unchanged)", warm),
            ("check_integrity() on loaded data", checks)]
    for label, (low, mid) in rows:
        before = f"{BEFORE[label]:>10.3f}" if n == 5000 and label in BEFORE else f"{'-':>10}"
        print(f"{label:<44}{low:>8.3f}{mid:>10.3f}{before}")
    print(f"loader overhead over raw parsing: {100 * (ours[0] / raw[0] - 1):+.1f}% (goal <= 25%)")
    print(f"load + validate + check, first time: {cold[0] + checks[0]:.3f} s; files unchanged "
          f"since validated: {warm[0] + checks[0]:.3f} s (goal < 1 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
