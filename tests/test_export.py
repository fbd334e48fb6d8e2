"""crps-evidence export: the tables, the analyses for R's metafor, and the references."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest

from crps_evidence import load_all, load_references
from crps_evidence.cli import main
from crps_evidence.evidence.tables import TABLES
from crps_evidence.export import export, to_csl_json, to_ris
from crps_evidence.stats.analyses import run_all

from .conftest import ROOT


def test_csv_is_the_validated_data_package(tmp_path):
    written = export("csv", tmp_path)
    assert {p.name for p in written} == {f"{t}.csv" for t in TABLES} | {"datapackage.json"}
    for table in TABLES:
        assert (tmp_path / f"{table}.csv").read_bytes() == \
            (ROOT / "data" / f"{table}.csv").read_bytes()


def test_json_has_every_row_of_every_table(tmp_path):
    export("json", tmp_path)
    for table in TABLES:
        rows = json.loads((tmp_path / f"{table}.json").read_text(encoding="utf-8"))
        text = (ROOT / "data" / f"{table}.csv").read_text(encoding="utf-8")
        assert len(rows) == len(list(csv.DictReader(io.StringIO(text)))), table


def test_metafor_inputs_and_script_follow_each_analysis(tmp_path):
    export("metafor", tmp_path)
    results = run_all(load_all())
    assert {p.name for p in tmp_path.iterdir()} == {
        f"{r.spec['id']}{suffix}" for r in results for suffix in (".csv", ".R")}
    for result in results:
        name = str(result.spec["id"])
        rows = list(csv.DictReader(io.StringIO((tmp_path / f"{name}.csv").read_text())))
        assert [r["study_id"] for r in rows] == list(result.effects["study_id"])
        assert [float(r["yi"]) for r in rows] == list(result.effects["effect"])
        assert [float(r["vi"]) for r in rows] == list(result.effects["variance"])
        script = (tmp_path / f"{name}.R").read_text()
        method = {"FE": "EE"}.get(result.pooled.method, result.pooled.method)
        test = "knha" if result.pooled.knapp_hartung else "z"
        assert f'rma(yi, vi, data = d, method = "{method}", test = "{test}")' in script
        assert f'read.csv("{name}.csv")' in script
        assert f"back <- {'exp' if result.ratio else 'identity'}" in script
        assert f"estimate = {float(result.summary()['estimate'])!r}" in script


def test_export_is_byte_identical_when_nothing_changed(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        export("metafor", folder)
        export("ris", folder)
    assert {p.name: p.read_bytes() for p in one.iterdir()} == \
        {p.name: p.read_bytes() for p in two.iterdir()}


def test_references_for_reference_managers():
    bib = load_references()
    ris = to_ris(bib)
    assert ris.count("\nER  -") + ris.startswith("ER  -") == len(bib)
    items = json.loads(to_csl_json(bib))
    assert [i["id"] for i in items] == sorted(bib)
    with_doi = next(k for k in sorted(bib) if bib[k].get("doi"))
    assert f"DO  - {bib[with_doi].get('doi')}" in ris
    assert next(i for i in items if i["id"] == with_doi)["DOI"] == bib[with_doi].get("doi")


def test_command_line_export_lists_what_it_wrote(tmp_path, capsys):
    assert main(["export", "--to", "ris", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("references.ris")
    assert main(["export", "--to", "docx", str(tmp_path)]) == 2


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_metafor_reproduces_every_pooled_estimate(tmp_path):
    """Runs where R and metafor are installed (apt-get install r-base-core r-cran-metafor)."""
    have = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True,
                          check=False)
    if have.returncode:
        pytest.skip("R is installed but metafor is not")
    export("metafor", tmp_path)
    for script in sorted(tmp_path.glob("*.R")):
        run = subprocess.run(["Rscript", script.name], cwd=tmp_path, capture_output=True,
                             text=True, check=True)
        difference = float(run.stdout.rsplit("largest difference:", 1)[1])
        assert difference < 1e-6, (script.name, run.stdout)
