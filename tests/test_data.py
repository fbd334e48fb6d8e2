"""Loaders: dtypes, default locations, and a clear DataError for each kind of bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from crps_evidence import DataError, load_all, load_outcomes, load_studies, load_treatments
from crps_evidence.evidence.tables import validate_table

from .conftest import ROOT, edit


def test_dtypes_follow_the_schema(minidata: Path) -> None:
    studies = load_studies(minidata / "data" / "studies.csv")
    assert studies["n_randomized"].dtype == "Int64"
    assert studies["verified"].dtype == "boolean"
    assert studies["id"].dtype == "string"
    assert studies.loc[2, "n_randomized"] is pd.NA
    outcomes = load_outcomes(minidata / "data" / "outcomes.csv")
    assert outcomes["mean"].dtype == "float64"
    assert outcomes["lower_is_better"].all()
    treatments = load_treatments(minidata / "data" / "treatments.csv")
    assert treatments.loc[0, "mechanism_target"] == "receptor X, synthetic"


def test_load_all_reads_a_whole_folder(minidata: Path) -> None:
    evidence = load_all(minidata / "data", minidata / "references.bib")
    assert len(evidence.treatments) == 3
    assert len(evidence.studies) == 3
    assert set(evidence.references) == {"smith2001alpha", "jones2005alpha", "lee2010beta",
                                        "zed2020review"}


def test_defaults_find_the_project_from_another_directory(tmp_path: Path) -> None:
    code = "import crps_evidence as c; print(len(c.load_treatments()), len(c.load_references()))"
    env = {k: v for k, v in os.environ.items() if k != "CRPS_EVIDENCE_ROOT"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    expected = len(pd.read_csv(ROOT / "data" / "treatments.csv"))
    assert int(out[0]) == expected
    assert int(out[1]) > 0


def test_root_can_be_set_by_environment(minidata: Path, tmp_path: Path) -> None:
    code = "import crps_evidence as c; print(len(c.load_studies()))"
    env = {**os.environ, "CRPS_EVIDENCE_ROOT": str(minidata)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "3"


def _error(exc: pytest.ExceptionInfo[DataError]) -> str:
    return str(exc.value)


def test_missing_column_names_file_and_column(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    lines = path.read_text().splitlines()
    trimmed = [",".join(line.split(",")[:-1]) for line in lines]  # drop 'unverified'
    path.write_text("\n".join(trimmed) + "\n")
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert exc.value.path == path
    assert exc.value.line == 1
    assert exc.value.field == "unverified"
    assert "studies.csv, line 1" in _error(exc)


def test_wrong_type_names_row_field_and_value(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    edit(path, "parallel RCT,40,", "parallel RCT,forty,")
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert (exc.value.line, exc.value.field, exc.value.value) == (2, "n_randomized", "forty")
    assert re.search(r"studies\.csv, line 2: field 'n_randomized': value 'forty'", _error(exc))


def test_value_outside_enumeration_is_refused(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    edit(path, "no_difference", "probably_works")
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert (exc.value.line, exc.value.field) == (3, "primary_result")
    assert "probably_works" in _error(exc)


def test_unknown_treatment_id_is_a_foreign_key_error(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    edit(path, "lee2010beta,beta,", "lee2010beta,gamma,")
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert (exc.value.line, exc.value.field, exc.value.value) == (4, "treatment_id", "gamma")
    assert "foreign-key" in _error(exc)


def test_duplicate_study_id_is_refused(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    edit(path, "jones2005alpha,alpha,jones2005alpha", "smith2001alpha,alpha,jones2005alpha")
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert exc.value.line == 3
    assert exc.value.field == "id"
    assert "smith2001alpha" in _error(exc)


def test_missing_file_is_named(minidata: Path) -> None:
    missing = minidata / "data" / "nothing.csv"
    with pytest.raises(DataError, match=r"nothing\.csv"):
        validate_table("studies", missing)


def test_validation_is_cached_only_for_exactly_what_passed(minidata: Path, tmp_path: Path,
                                                           monkeypatch) -> None:
    """A table that passed is not re-validated, but any change to it, to a table its foreign
    keys point to, or to the schema is validated again."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CRPS_EVIDENCE_CACHE_DIR", str(cache))
    studies = minidata / "data" / "studies.csv"
    first = load_studies(studies)
    markers = list((cache / "validated").iterdir())
    assert len(markers) == 1
    pd.testing.assert_frame_equal(load_studies(studies), first)
    assert list((cache / "validated").iterdir()) == markers  # second load: cache hit

    edit(studies, ",40,,placebo,", ",forty,,placebo,")
    with pytest.raises(DataError, match="forty"):
        load_studies(studies)
    edit(studies, ",forty,,placebo,", ",40,,placebo,")
    load_studies(studies)  # the cached bytes again

    treatments = minidata / "data" / "treatments.csv"
    treatments.write_text(treatments.read_text().replace("\nalpha,", "\nalphA,"))
    with pytest.raises(DataError, match="treatment_id"):
        load_studies(studies)  # same studies.csv, but its foreign key no longer resolves


def test_no_cache_setting_validates_every_time(minidata: Path, tmp_path: Path,
                                               monkeypatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("CRPS_EVIDENCE_CACHE_DIR", str(cache))
    monkeypatch.setenv("CRPS_EVIDENCE_NO_CACHE", "1")
    load_studies(minidata / "data" / "studies.csv")
    assert not (cache / "validated").exists()
