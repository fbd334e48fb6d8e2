"""Shared fixtures: a synthetic copy of the data layout in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the tests' caches (validation markers, HTTP) out of the user's ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("CRPS_EVIDENCE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    patch.delenv("CRPS_EVIDENCE_NO_CACHE", raising=False)
    yield
    patch.undo()


@pytest.fixture
def minidata(tmp_path: Path) -> Path:
    """A project root with the synthetic tables, the real schema and a notebooks/ folder."""
    data = tmp_path / "data"
    data.mkdir()
    for table in sorted((FIXTURES / "minidata").glob("*.csv")):
        shutil.copy(table, data / table.name)
    shutil.copy(ROOT / "data" / "datapackage.json", data / "datapackage.json")
    shutil.copy(FIXTURES / "minidata" / "references.bib", tmp_path / "references.bib")
    (tmp_path / "notebooks").mkdir()
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) by ``new`` in a text file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
