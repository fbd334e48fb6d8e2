"""Every treatment category the data schema allows has its words, marker and sidebar section.

A category added to ``data/datapackage.json`` must be known to every place that speaks about
categories, or the overview prints the bare code, the evidence map falls back to a grey marker
and the notebook lands in *More notebooks*.
"""

from __future__ import annotations

import importlib.util
import json
import sys

from crps_evidence.book import plots
from crps_evidence.book.overview import CATEGORY_WORDS

from .conftest import ROOT


def _schema_categories() -> set[str]:
    schema = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for r in schema["resources"] if r["name"] == "treatments"
              for f in r["schema"]["fields"]}
    return set(fields["category"]["constraints"]["enum"])


def test_every_category_has_plain_words_in_the_overview() -> None:
    assert set(CATEGORY_WORDS) == _schema_categories()
    assert all(words and words == words.strip() for words in CATEGORY_WORDS.values())


def test_every_category_has_its_own_marker_on_the_evidence_map() -> None:
    styles = plots._CATEGORY_STYLE
    assert set(styles) == _schema_categories()
    assert len(set(styles.values())) == len(styles), "two categories share a marker and colour"


def test_every_category_has_a_section_in_the_sidebar() -> None:
    spec = importlib.util.spec_from_file_location("make_index", ROOT / "scripts" / "make_index.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_index"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    claimed = [c for section in module.SECTIONS for c in section.categories]
    assert set(claimed) == _schema_categories()
    assert len(claimed) == len(set(claimed)), "a category is claimed by two sections"
