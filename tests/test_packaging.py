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


def test_environment_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {r.replace(" ", "").lower() for r in project["dependencies"]}
    assert _environment_requirements() == declared


def test_environment_installs_the_package() -> None:
    assert re.search(r"^\s*-\s+-e\s+\.\s*$", (ROOT / "environment.yml").read_text(), re.M)
