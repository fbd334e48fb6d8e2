"""The built wheel carries the data: installed anywhere, it loads and analyses from its own copy."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout (offline), unpacked into a folder of its own."""
    source = tmp_path_factory.mktemp("source")  # setuptools writes build/ beside the source
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                 "references.bib"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "data", source / "data")
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "--quiet", "-w", str(wheels)],
                   check=True, capture_output=True, cwd=wheels)
    (wheel,) = wheels.glob("crps_evidence-*.whl")
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def run(code: str, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRPS_EVIDENCE_")}
    env.update(PYTHONPATH=str(site), CRPS_EVIDENCE_NO_CACHE="1")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, env=env, check=False)


def test_the_wheel_holds_every_table_its_schema_and_the_bibliography(installed):
    shipped = installed / "crps_evidence" / "_data"
    names = {p.name for p in (shipped / "data").iterdir()}
    assert names == {p.name for p in (ROOT / "data").glob("*.csv")} | {"datapackage.json"}
    for name in names:
        assert (shipped / "data" / name).read_bytes() == (ROOT / "data" / name).read_bytes()
    assert (shipped / "references.bib").read_bytes() == (ROOT / "references.bib").read_bytes()
    assert not (shipped / "data").is_symlink()


def test_the_installed_copy_loads_and_analyses_from_a_foreign_folder(installed, tmp_path):
    code = ("import crps_evidence as ce, json\n"
            "from crps_evidence.stats.analyses import run_all\n"
            "e = ce.load_all()\n"
            "print(json.dumps([ce.__file__, str(e.folder), len(e.studies), len(run_all(e))]))")
    result = run(code, installed, tmp_path)
    assert result.returncode == 0, result.stderr
    path, folder, studies, analyses = json.loads(result.stdout)
    assert path.startswith(str(installed))
    assert folder.startswith(str(installed / "crps_evidence" / "_data"))
    rows = (ROOT / "data" / "studies.csv").read_text(encoding="utf-8")
    assert studies == len(list(csv.DictReader(io.StringIO(rows))))
    assert analyses == len(list(csv.DictReader(io.StringIO(
        (ROOT / "data" / "analyses.csv").read_text(encoding="utf-8")))))


def test_the_command_line_runs_from_the_installed_copy(installed, tmp_path):
    result = run("from crps_evidence.cli import main; raise SystemExit(main(['analyses']))",
                 installed, tmp_path)
    assert result.returncode == 0, result.stderr
    first = (ROOT / "data" / "analyses.csv").read_text(encoding="utf-8").splitlines()[1]
    assert first.split(",")[0] in result.stdout
