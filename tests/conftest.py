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


@pytest.fixture
def settings(httpserver, tmp_path):
    """Client settings pointing every service at the local test server, without waits."""
    from crps_evidence.config import get_settings

    base = httpserver.url_for("/").rstrip("/")
    return get_settings().replace(
        crossref_url=f"{base}/crossref",
        doi_url=f"{base}/doi",
        eutils_url=f"{base}/eutils",
        ctgov_url=f"{base}/ctgov",
        contact="tests@example.org",
        cache_dir=tmp_path / "cache",
        connect_timeout=2.0,
        read_timeout=2.0,
        retries=2,
        backoff_factor=0.0,
    )


@pytest.fixture
def env(httpserver, tmp_path, monkeypatch) -> dict[str, str]:
    """The same, as the environment the command line reads."""
    base = httpserver.url_for("/").rstrip("/")
    values = {
        "CRPS_EVIDENCE_CROSSREF_URL": f"{base}/crossref",
        "CRPS_EVIDENCE_DOI_URL": f"{base}/doi",
        "CRPS_EVIDENCE_EUTILS_URL": f"{base}/eutils",
        "CRPS_EVIDENCE_CTGOV_URL": f"{base}/ctgov",
        "CRPS_EVIDENCE_CONTACT": "tests@example.org",
        "CRPS_EVIDENCE_CACHE_DIR": str(tmp_path / "cache"),
        "CRPS_EVIDENCE_TIMEOUT": "2",
        "CRPS_EVIDENCE_RETRIES": "1",
        "CRPS_EVIDENCE_BACKOFF": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CRPS_EVIDENCE_NO_CACHE", raising=False)
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    return values


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) by ``new`` in a text file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
