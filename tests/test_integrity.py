"""Cross-file checks on the synthetic fixture: each rule catches its own defect."""

from __future__ import annotations

import json
from pathlib import Path

from crps_evidence import check_integrity, load_all
from crps_evidence.evidence.integrity import cited_keys

from .conftest import edit


def _notebook(folder: Path, name: str, markdown: str) -> None:
    cell = {"cell_type": "markdown", "metadata": {}, "source": [markdown]}
    (folder / name).write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                           "nbformat_minor": 5}))


def _problems(root: Path) -> list[str]:
    return check_integrity(load_all(root / "data", root / "references.bib"), root / "notebooks")


def test_the_fixture_is_consistent(minidata: Path) -> None:
    assert _problems(minidata) == []


def test_unknown_citation_in_a_notebook(minidata: Path) -> None:
    _notebook(minidata / "notebooks", "01-x.ipynb", "Claim {cite:p}`nobody1999x`.")
    problems = _problems(minidata)
    assert problems == ["notebooks/01-x.ipynb: value 'nobody1999x': no such key in "
                        "references.bib"]


def test_uncited_reference(minidata: Path) -> None:
    bib = minidata / "references.bib"
    bib.write_text(bib.read_text() + "\n@article{orphan2022x,\n  title = {SYNTHETIC},\n"
                   "  year = {2022},\n  doi = {10.5555/synthetic.9},\n}\n")
    problems = _problems(minidata)
    assert len(problems) == 1
    assert "'orphan2022x' is cited by no table or notebook" in problems[0]


def test_a_notebook_citation_counts_as_use(minidata: Path) -> None:
    bib = minidata / "references.bib"
    bib.write_text(bib.read_text() + "\n@book{cited2022x,\n  title = {SYNTHETIC},\n}\n")
    _notebook(minidata / "notebooks", "01-x.ipynb", "See {cite:t}`cited2022x`.")
    assert _problems(minidata) == []


def test_study_bibkey_must_resolve(minidata: Path) -> None:
    edit(minidata / "data" / "studies.csv", "lee2010beta,beta,lee2010beta,",
         "lee2010beta,beta,lee2011beta,")
    problems = _problems(minidata)
    assert "studies.csv, line 4, field 'bibkey': value 'lee2011beta': no such key in " \
           "references.bib" in problems
    assert any("'lee2010beta' is cited by no table" in p for p in problems)


def test_doi_must_be_normalised(minidata: Path) -> None:
    edit(minidata / "references.bib", "10.5555/synthetic.2", "https://doi.org/10.5555/SYNTHETIC.2")
    [problem] = _problems(minidata)
    assert "entry 'jones2005alpha': field 'doi'" in problem
    assert "'10.5555/synthetic.2'" in problem


def test_pmid_must_be_digits(minidata: Path) -> None:
    edit(minidata / "references.bib", "pmid = {22222222}", "pmid = {PMC22222222}")
    [problem] = _problems(minidata)
    assert "field 'pmid': value 'PMC22222222'" in problem


def test_uncontrolled_design_cannot_favour_treatment(minidata: Path) -> None:
    edit(minidata / "data" / "studies.csv", "pain,uncontrolled,", "pain,favours_treatment,")
    [problem] = _problems(minidata)
    assert "studies.csv, line 4" in problem and "needs a control group" in problem


def test_unverified_row_must_say_why(minidata: Path) -> None:
    edit(minidata / "data" / "studies.csv", "abstract,false,SD not reported", "abstract,false,")
    [problem] = _problems(minidata)
    assert "field 'unverified'" in problem


def test_reported_effect_inside_its_interval(minidata: Path) -> None:
    edit(minidata / "data" / "outcomes.csv", "MD,-5.0,-12.0,2.0", "MD,-15.0,-12.0,2.0")
    [problem] = _problems(minidata)
    assert "outcomes.csv, line 4" in problem and "outside its CI" in problem


def test_mean_without_spread_must_say_why(minidata: Path) -> None:
    edit(minidata / "data" / "outcomes.csv", "continuous,20,5.0,2.0,", "continuous,20,5.0,,")
    [problem] = _problems(minidata)
    assert "outcomes.csv, line 3" in problem and "field 'note'" in problem
    edit(minidata / "data" / "outcomes.csv", "abstract,\njones", "abstract,SD not reported\njones")
    assert _problems(minidata) == []


def test_dichotomous_events_cannot_exceed_n(minidata: Path) -> None:
    path = minidata / "data" / "outcomes.csv"
    path.write_text(path.read_text() + "smith2001alpha,responders,>=50% relief,week 12,12,alpha,"
                    "treatment,dichotomous,20,,,,,,,,,25,,,,,,false,https://example.org/s,"
                    "abstract,\n")
    [problem] = _problems(minidata)
    assert "line 5" in problem and "events <= n" in problem


def test_cite_roles_are_found() -> None:
    text = "A {cite}`a1` B {cite:p}`b2,c3` C {cite:t}`d4` D `{not a role}` {cite:ps}`e5`"
    assert cited_keys(text) == {"a1", "b2", "c3", "d4", "e5"}


def _sources(rows: list[dict]):
    import pandas as pd

    columns = ["bibkey", "source_url", "source_kind", "fields_checked", "mismatches", "note"]
    return pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)


def test_reference_sources_cover_every_entry_and_nothing_else(minidata: Path) -> None:
    from crps_evidence import load_references
    from crps_evidence.evidence.integrity import check_reference_sources

    bib = load_references(minidata / "references.bib")
    keys = list(bib)
    rows = [{"bibkey": k, "source_url": "https://example.org/x", "fields_checked": "title"}
            for k in keys]
    assert check_reference_sources(bib, _sources(rows)) == []

    missing = check_reference_sources(bib, _sources(rows[1:]))
    assert missing == [f"reference_sources.csv: no row for references.bib entry {keys[0]!r}: "
                       "record the page where its fields were checked"]

    stray = [*rows, {"bibkey": "ghost2000x", "source_url": "https://example.org/y"}]
    assert check_reference_sources(bib, _sources(stray)) == [
        f"reference_sources.csv, line {len(keys) + 2}: field 'bibkey': 'ghost2000x' is not "
        "in references.bib"]

    silent = [dict(rows[0], source_url=None), *rows[1:]]
    assert check_reference_sources(bib, _sources(silent)) == [
        "reference_sources.csv, line 2: field 'note': a row without source_url must say why"]

    invented = [dict(rows[0], fields_checked="title isbn"), *rows[1:]]
    assert check_reference_sources(bib, _sources(invented)) == [
        f"reference_sources.csv, line 2: field 'fields_checked': isbn not in the entry "
        f"{keys[0]!r}"]


def test_the_repository_records_a_source_for_every_reference() -> None:
    """The default check includes data/reference_sources.csv against references.bib."""
    from crps_evidence import load_reference_sources, load_references

    assert set(load_reference_sources()["bibkey"]) == set(load_references())
