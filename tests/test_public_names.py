"""Every import the README, CONTRIBUTING, the data dictionary and the notebooks show still works.

The package was grouped into parts (evidence, stats, current, book); the names of the flat
layout before are kept (``crps_evidence._moved``), so what a reader copies from a page runs.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

import crps_evidence
from crps_evidence._moved import MOVED

ROOT = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"^\s*(from crps_evidence[\w.]* import [\w ,]+|import crps_evidence[\w.]*"
                    r"(?: as \w+)?)\s*(?:#.*)?$", re.MULTILINE)


def shown_imports() -> list[tuple[str, str]]:
    """(where, statement) for each import of the package in the documents and notebooks."""
    found = []
    for doc in ("README.md", "CONTRIBUTING.md", "data/README.md"):
        found += [(doc, s) for s in IMPORT.findall((ROOT / doc).read_text(encoding="utf-8"))]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        found += [(nb.name, s) for s in IMPORT.findall(code)]
    return sorted(set(found))


def test_documents_show_imports():
    statements = {s for _, s in shown_imports()}
    assert "from crps_evidence import notebook as nb" in statements
    assert "import crps_evidence as ce" in statements
    assert any(s.startswith("from crps_evidence.searches import") for s in statements)


@pytest.mark.parametrize(("where", "statement"), shown_imports())
def test_shown_import_works(where, statement):
    exec(compile(statement, where, "exec"), {})  # an ImportError names the missing name


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_name_is_the_new_module(old):
    module = importlib.import_module(f"crps_evidence.{old}")
    home = importlib.import_module(f"crps_evidence.{MOVED[old]}")
    assert module is home
    assert module.__name__ == module.__spec__.name == f"crps_evidence.{MOVED[old]}"


def test_unknown_old_name_still_fails():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("crps_evidence.no_such_module")


def test_root_names_resolve():
    for name in crps_evidence.__all__:
        assert getattr(crps_evidence, name) is not None
