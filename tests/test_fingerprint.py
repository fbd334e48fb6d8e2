"""Stored notebook outputs carry the fingerprint of the data they were made from."""

from __future__ import annotations

import json
from pathlib import Path

from crps_evidence.book import overview
from crps_evidence.evidence.fingerprint import (
    data_fingerprint,
    recorded_fingerprint,
    stale_notebooks,
)


def notebook(path: Path, fingerprint: str | None) -> Path:
    # as IPython stores a display object's metadata: under its MIME type
    metadata = {"text/markdown": {"crps_evidence": {"data": fingerprint}}} if fingerprint else {}
    cell = {"cell_type": "code", "source": "nb.notice()", "metadata": {}, "execution_count": 1,
            "outputs": [{"output_type": "display_data", "metadata": metadata,
                         "data": {"text/markdown": "> notice"}}]}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_any_change_to_a_table_or_the_bibliography_changes_the_fingerprint(tmp_path):
    root = overview.copy_data(tmp_path)
    data, bib = root / "data", root / "references.bib"
    before = data_fingerprint(data, bib)
    assert before == data_fingerprint(data, bib)
    studies = data / "studies.csv"
    studies.write_bytes(studies.read_bytes() + b"\n")
    after_table = data_fingerprint(data, bib)
    bib.write_text(bib.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after_bib = data_fingerprint(data, bib)
    assert len({before, after_table, after_bib}) == 3
    (root / "unrelated.txt").write_text("not data", encoding="utf-8")
    (data / "notes.md").write_text("not a table", encoding="utf-8")
    assert data_fingerprint(data, bib) == after_bib


def test_stale_notebooks_are_named(tmp_path):
    current = "a" * 64
    fresh = notebook(tmp_path / "03-fresh.ipynb", current)
    old = notebook(tmp_path / "04-old.ipynb", "b" * 64)
    never = notebook(tmp_path / "05-never.ipynb", None)
    assert recorded_fingerprint(fresh) == current and recorded_fingerprint(never) is None
    assert stale_notebooks([fresh, old, never], current) == ["04-old.ipynb", "05-never.ipynb"]


def test_the_notice_records_the_fingerprint_of_the_data_it_ran_with():
    from crps_evidence.book import notebook as nb

    _, metadata = nb.notice()._repr_markdown_()
    assert metadata == {"crps_evidence": {"data": data_fingerprint()}}
