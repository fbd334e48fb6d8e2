"""pyproject.toml and environment.yml declare the same runtime dependencies."""

from __future__ import annotations

import re
import tomllib

from .conftest import ROOT


def _environment_requirements() -> set[str]:
    reqs = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+[<>=!~].*)$", line)
        if match and not match.group(1).startswith("python"):
            reqs.add(match.group(1).replace(" ", "").lower())
    return reqs


def _normalised(requirements: list[str]) -> set[str]:
    return {r.split("#")[0].replace(" ", "").lower() for r in requirements}


def test_environment_matches_pyproject() -> None:
    """Every runtime dependency, and nothing else but entries of an optional extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _normalised(project["dependencies"])
    extras = _normalised([r for group in project["optional-dependencies"].values()
                          for r in group])
    environment = _environment_requirements()
    assert declared <= environment, f"missing from environment.yml: {declared - environment}"
    assert environment - declared <= extras, (
        f"in environment.yml but not in pyproject.toml: {environment - declared - extras}")


def test_the_pdf_reader_of_the_handout_tests_is_declared_in_both() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test_extra = {r for r in _normalised(project["optional-dependencies"]["test"])
                  if r.startswith("pypdf")}
    assert test_extra and test_extra <= _environment_requirements()


def test_environment_installs_the_package() -> None:
    assert re.search(r"^\s*-\s+-e\s+\.\s*$", (ROOT / "environment.yml").read_text(), re.M)
