"""The fast table check against frictionless, and tables validated outside ``data/``.

``crps_evidence.evidence.tableschema`` may only call a table valid when frictionless does:
each broken table below is judged by both (frictionless run exactly as the loader used to run
it), and the
loader must raise a DataError naming file, line, field and value for every one frictionless
refuses, wherever the file lives.
"""

from __future__ import annotations

import codecs
import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from crps_evidence import DataError, load_outcomes, load_studies, load_treatments
from crps_evidence.errors import ForeignKeyNotCheckedWarning
from crps_evidence.evidence.paths import data_dir
from crps_evidence.evidence.tables import TABLES, _read, validate_table
from crps_evidence.evidence.tableschema import Unsupported, check_table, lookup, read_csv, supported
from crps_evidence.evidence.validation import make_plan, validate

from .conftest import ROOT, edit

ROW = ("lee2010beta,beta,lee2010beta,case series,,25,none,adults,not stated,6 months,pain,"
       "uncontrolled,Synthetic finding.,,,,,https://example.org/synthetic/3,abstract,true,")

# (old text, new text, frictionless error type) edits of the minidata studies.csv
BROKEN = {
    "integer as words": (",40,", ",forty,", "type-error"),
    "integer below minimum": (",40,", ",0,", "constraint-error"),
    "negative integer": (",40,", ",-3,", "constraint-error"),
    "decimal integer": (",40,", ",40.5,", "type-error"),
    "not in enum": ("no_difference", "probably_works", "constraint-error"),
    "enum with a trailing space": ("no_difference", "no_difference ", "constraint-error"),
    "required left empty": ("Synthetic finding.,,,,,https://example.org/synthetic/2",
                            ",,,,,https://example.org/synthetic/2", "constraint-error"),
    "pattern (upper case id)": ("\nlee2010beta,", "\nLee2010beta,", "constraint-error"),
    "duplicate id": ("jones2005alpha,alpha,jones2005alpha", "smith2001alpha,alpha,jones2005alpha",
                     "unique-error"),
    "unknown treatment": ("lee2010beta,beta,", "lee2010beta,gamma,", "foreign-key"),
    "boolean as yes": ("abstract,true,\n", "abstract,yes,\n", "type-error"),
    "uri without scheme": ("https://example.org/synthetic/3", "example.org/synthetic/3",
                           "type-error"),
    "renamed column": ("source_part,verified", "source_part,checked", "incorrect-label"),
    "missing column": (",verified,unverified\n", ",verified\n", "missing-label"),
    "extra cell": ("abstract,true,\n", "abstract,true,,extra\n", "extra-cell"),
    "missing cell": ("abstract,false,SD not reported\n", "abstract,false\n", "missing-cell"),
    "blank row": ("abstract,false,SD not reported\n",
                  "abstract,false,SD not reported\n" + "," * 20 + "\n", "blank-row"),
}

#: What the loader says where it words the problem itself (frictionless names a missing
#: column as the label of the column after it): the missing column, by name.
LOADER_SAYS = {
    "renamed column": "field 'verified': column 'verified' is missing from the header",
    "missing column": "field 'unverified': column 'unverified' is missing from the header",
}

# Edits frictionless accepts: the loader must accept them too (fast path or not).
ACCEPTED = {
    "integer with a plus sign": (",40,", ",+40,"),
    "integer with spaces": (",40,", ", 40 ,"),
    "boolean as True": ("abstract,true,\n", "abstract,True,\n"),
    "boolean as 1": ("abstract,true,\n", "abstract,1,\n"),
    "uri with user but no password": ("https://example.org/synthetic/3",
                                      "https://user@example.org/synthetic/3"),
    "uri with a password": ("https://example.org/synthetic/3",
                            "https://user:secret@example.org/synthetic/3"),
    "uri of another scheme": ("https://example.org/synthetic/3", "urn:isbn:0451450523"),
    "quoted cells": ("smith2001alpha,alpha,", '"smith2001alpha","alpha",'),
    "CRLF line endings": ("\n", "\r\n"),
    "empty optional integer": (",40,", ",,"),
}


def frictionless_errors(folder: Path, name: str) -> list[str]:
    """Error types frictionless reports for ``folder/<name>.csv`` (the loader's old way)."""
    from frictionless import Package

    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"]
                               if (folder / r["path"]).is_file()]
    report = Package(descriptor, basepath=str(folder)).get_resource(name).validate()
    return [e.type for t in report.tasks for e in t.errors] + [e.type for e in report.errors]


def fast_verdict(folder: Path, name: str) -> bool:
    path = folder / f"{name}.csv"
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    plan = make_plan(name, path, folder / "datapackage.json", descriptor, None)
    table = read_csv(path)
    if table is None:
        return False
    try:
        supported(plan.package, plan.package["resources"])
        lookups = {}
        if name == "studies":
            treatments = read_csv(folder / "treatments.csv")
            described = next(r for r in plan.package["resources"] if r["name"] == "treatments")
            lookups[("treatments", ("id",))] = lookup(described, treatments, ["id"])
            lookups[("", ("id",))] = lookup(plan.target, table, ["id"])
        return check_table(plan.target, table, lookups)
    except Unsupported:
        return False


def write(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_bytes(text.replace(old, new).encode("utf-8"))


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_every_broken_table_is_refused_by_both(minidata: Path, case: str) -> None:
    old, new, kind = BROKEN[case]
    folder = minidata / "data"
    write(folder / "studies.csv", old, new)
    assert kind in frictionless_errors(folder, "studies")
    assert not fast_verdict(folder, "studies")
    with pytest.raises(DataError) as exc:
        load_studies(folder / "studies.csv")
    assert exc.value.path == folder / "studies.csv"
    assert exc.value.line is not None and str(exc.value).startswith(str(exc.value.path))
    assert LOADER_SAYS.get(case, kind) in str(exc.value)


@pytest.mark.parametrize("case", ACCEPTED, ids=list(ACCEPTED))
def test_tables_frictionless_accepts_are_loaded(minidata: Path, case: str) -> None:
    old, new = ACCEPTED[case]
    folder = minidata / "data"
    write(folder / "studies.csv", old, new)
    assert frictionless_errors(folder, "studies") == []
    studies = load_studies(folder / "studies.csv")
    assert len(studies) == 3
    assert studies["verified"].notna().all()  # every spelling of a boolean is read


def test_byte_order_mark_goes_to_frictionless(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    write(path, "abstract,true,\n", "abstract,TRUE,\n")
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    assert read_csv(path) is None  # not read by the fast path ...
    studies = load_studies(path)  # ... but frictionless accepts it, so the loader does
    assert list(studies["verified"]) == [True, False, True]


@pytest.mark.parametrize("name", TABLES)
def test_the_real_tables_pass_the_fast_check(name: str) -> None:
    """No frictionless needed for the shipped data, and frictionless agrees."""
    folder = data_dir()
    plan = make_plan(name, folder / f"{name}.csv", folder / "datapackage.json",
                     json.loads((folder / "datapackage.json").read_text()), folder)
    table = validate(plan)
    assert table is not None
    assert frictionless_errors(folder, name) == []


@pytest.mark.parametrize("name", TABLES)
def test_fast_frame_equals_the_pandas_frame(name: str, tmp_path: Path) -> None:
    """The frame built from the fast reader is the one pandas would have built."""
    fast = _read(name, None)
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    path = copy / f"{name}.csv"
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())  # forces the pandas path
    slow = _read(name, path)
    pd.testing.assert_frame_equal(fast, slow)


# ----------------------------------------------------------------------------- elsewhere


@pytest.fixture
def elsewhere(minidata: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of studies.csv in a folder without datapackage.json; minidata is the project."""
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    shutil.copy(minidata / "data" / "studies.csv", folder / "studies.csv")
    return folder / "studies.csv"


def test_a_table_outside_data_loads_against_the_project(elsewhere: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every foreign key was checked: no warning
        assert len(load_studies(elsewhere)) == 3


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_table_outside_data_is_a_data_error(elsewhere: Path, case: str) -> None:
    old, new, kind = BROKEN[case]
    write(elsewhere, old, new)
    with pytest.raises(DataError) as exc:  # not frictionless' "path ... is not safe"
        load_studies(elsewhere)
    assert exc.value.path == elsewhere and exc.value.line is not None
    assert LOADER_SAYS.get(case, kind) in str(exc.value)


def test_outside_foreign_keys_are_checked_against_the_project_tables(elsewhere: Path,
                                                                     minidata: Path) -> None:
    write(elsewhere, "lee2010beta,beta,", "lee2010beta,gamma,")
    with pytest.raises(DataError) as exc:
        load_studies(elsewhere)
    assert (exc.value.line, exc.value.field, exc.value.value) == (4, "treatment_id", "gamma")
    assert f"looked up in {(minidata / 'data' / 'treatments.csv').resolve()}" in str(exc.value)


def test_a_table_beside_the_file_wins(elsewhere: Path, minidata: Path) -> None:
    treatments = (minidata / "data" / "treatments.csv").read_text(encoding="utf-8")
    (elsewhere.parent / "treatments.csv").write_text(
        treatments.replace("\nbeta,", "\ngamma,"), encoding="utf-8")
    with pytest.raises(DataError, match="foreign-key"):
        load_studies(elsewhere)  # beta is no longer a treatment in the table beside it
    write(elsewhere, "lee2010beta,beta,", "lee2010beta,gamma,")
    assert len(load_studies(elsewhere)) == 3


def test_unchecked_foreign_key_is_said_plainly(elsewhere: Path, minidata: Path) -> None:
    (minidata / "data" / "treatments.csv").unlink()
    write(elsewhere, "lee2010beta,beta,", "lee2010beta,gamma,")  # cannot be caught now
    with pytest.warns(ForeignKeyNotCheckedWarning) as record:
        studies = load_studies(elsewhere)
    assert len(studies) == 3
    (warning,) = record
    message = str(warning.message)
    assert str(elsewhere) in message and "treatment_id -> treatments" in message
    assert "NOT checked" in message and "treatments.csv" in message


def test_outside_outcomes_refer_to_the_project_studies(minidata: Path, tmp_path: Path,
                                                       monkeypatch) -> None:
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    copy = tmp_path / "outcomes.csv"
    shutil.copy(minidata / "data" / "outcomes.csv", copy)
    assert len(load_outcomes(copy)) == 3
    edit(copy, "jones2005alpha,pain", "nobody2000x,pain")
    with pytest.raises(DataError) as exc:
        load_outcomes(copy)
    assert (exc.value.line, exc.value.field, exc.value.value) == (4, "study_id", "nobody2000x")


def test_validate_table_outside_data(elsewhere: Path) -> None:
    assert validate_table("studies", elsewhere) == elsewhere
    treatments = elsewhere.parent / "treatments.csv"
    shutil.copy(ROOT / "tests" / "fixtures" / "minidata" / "treatments.csv", treatments)
    edit(treatments, ",infusion,", ",infusion pump,")
    with pytest.raises(DataError) as exc:
        load_treatments(treatments)
    assert (exc.value.field, exc.value.value) == ("category", "infusion pump")
