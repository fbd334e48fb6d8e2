"""The book's configuration: no placeholders, repository buttons only with a repository.

``notebooks/conf.py`` is read as Sphinx reads it (``runpy``), with and without
``CRPS_REPOSITORY_URL``; the About page's facts come from ``CITATION.cff``.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "notebooks" / "conf.py"
sys.path.insert(0, str(ROOT / "notebooks" / "_ext"))

from crps_about import about_page_substitutions  # noqa: E402


def read_conf(monkeypatch, url: str | None) -> dict:
    for name in ("CRPS_REPOSITORY_URL", "CRPS_BINDERHUB_URL", "CRPS_JUPYTERHUB_URL"):
        monkeypatch.delenv(name, raising=False)
    if url is not None:
        monkeypatch.setenv("CRPS_REPOSITORY_URL", url)
    return runpy.run_path(str(CONF))


def test_without_a_repository_there_are_no_buttons_and_no_placeholder(monkeypatch) -> None:
    conf = read_conf(monkeypatch, None)
    options = conf["html_theme_options"]
    assert options["repository_url"] == ""
    assert not options["use_repository_button"] and not options["use_issues_button"]
    assert options["launch_buttons"] == {}
    assert "REPLACE-WITH" not in CONF.read_text(encoding="utf-8")
    report = conf["myst_substitutions"]["report_error"]
    assert "maintainers listed in `CITATION.cff`" in report and "http" not in report


def test_with_a_repository_the_buttons_and_issue_link_appear(monkeypatch) -> None:
    conf = read_conf(monkeypatch, "https://github.com/example-org/crps-notebooks/")
    options = conf["html_theme_options"]
    assert options["repository_url"] == "https://github.com/example-org/crps-notebooks"
    assert options["use_repository_button"] and options["use_issues_button"]
    assert options["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    report = conf["myst_substitutions"]["report_error"]
    assert "(https://github.com/example-org/crps-notebooks/issues)" in report


def test_code_folding_and_local_extensions_are_on(monkeypatch) -> None:
    conf = read_conf(monkeypatch, None)
    assert {"crps_fold_code", "crps_notebook_links", "crps_handouts"} <= set(conf["extensions"])
    assert ("print.css", {"media": "print"}) in conf["html_css_files"]
    assert (CONF.parent / "_static" / "print.css").is_file()
    assert conf["bibtex_reference_style"] == "crps_author_year"
    assert conf["bibtex_default_style"] == "crps"


@pytest.mark.parametrize("methods", ["15-methods.ipynb", "20-methods.ipynb", None])
def test_about_page_facts_come_from_the_repository(tmp_path: Path, methods) -> None:
    (tmp_path / "CITATION.cff").write_text(
        "cff-version: 1.2.0\nversion: 2.0.0\ndate-released: 2027-01-02\nauthors:\n"
        "  - given-names: Ada\n    family-names: Lovelace\n  - name: Some Group\n",
        encoding="utf-8")
    if methods:
        (tmp_path / methods).write_text("{}", encoding="utf-8")
    values = about_page_substitutions(tmp_path, tmp_path, "")
    assert values["authors"] == "Ada Lovelace and Some Group"
    assert (values["version"], values["date_released"]) == ("2.0.0", "2027-01-02")
    if methods:
        assert values["methods_link"] == f"[The methods notebook]({methods})"
    else:
        assert values["methods_link"] == "The methods notebook"


def test_about_page_uses_the_real_citation_file() -> None:
    values = about_page_substitutions(ROOT, ROOT / "notebooks", "")
    assert values["authors"] == "CRPS evidence notebooks contributors"
    assert values["methods_link"].startswith("[The methods notebook](")
