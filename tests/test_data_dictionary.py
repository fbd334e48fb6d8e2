"""data/README.md (the data dictionary) names exactly the columns the schema declares."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import ROOT

SECTION = re.compile(r"^## (.+)$", re.MULTILINE)
NAME = re.compile(r"`([a-z_0-9]+)`")


def dictionary() -> dict[str, set[str]]:
    """Section's tables -> column names listed in the first column of its table rows."""
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    parts = SECTION.split(text)
    found = {}
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        tables = re.findall(r"([a-z_]+)\.csv", title)
        rows = [line for line in body.splitlines() if line.startswith("| `")]
        if tables and rows:
            found[" ".join(tables)] = {n for row in rows
                                       for n in NAME.findall(row.split("|")[1])}
    return found


def schema() -> dict[str, set[str]]:
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: {f["name"] for f in r["schema"]["fields"]} for r in package["resources"]}


@pytest.mark.parametrize("section", sorted(dictionary()))
def test_documented_columns_exist_in_the_schema(section):
    declared = set().union(*(schema()[t] for t in section.split()))
    unknown = dictionary()[section] - declared
    assert not unknown, f"data/README.md, section {section}: no such column {sorted(unknown)}"


@pytest.mark.parametrize("table", sorted(t for s in dictionary() for t in s.split()
                                         if len(s.split()) == 1))
def test_every_column_of_a_documented_table_is_documented(table):
    missing = schema()[table] - dictionary()[table]
    assert not missing, f"data/README.md, section {table}.csv: undocumented {sorted(missing)}"


def test_every_table_has_a_section():
    documented = {t for section in dictionary() for t in section.split()}
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    missing = [t for t in schema() if t not in documented and f"## {t}.csv" not in text]
    assert not missing, f"tables without a section in data/README.md: {missing}"
