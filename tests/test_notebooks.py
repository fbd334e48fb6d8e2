"""Every notebook follows the collection's skeleton and imports rather than re-implements."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crps_evidence import load_references, load_treatments
from crps_evidence.evidence.integrity import cited_keys, notebook_markdown

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
#: The notebooks that are not about a treatment.
GENERAL = {"01-introduction.ipynb", "02-evidence-overview.ipynb", "20-methods.ipynb",
           "21-teaching-guide.ipynb"}
#: Group pages that hold several treatments each in a section of its own.
GROUP_PAGES = {"19-other-medicines.ipynb"}
#: The notebooks treatments.csv names: one per treatment or group of medicines.
TREATMENT_NOTEBOOKS = sorted({ROOT / "notebooks" / name
                              for name in load_treatments()["notebook"].dropna()})
SKELETON_NOTEBOOKS = [p for p in TREATMENT_NOTEBOOKS if p.name not in GROUP_PAGES]
#: Reading order for patients first; what learners need sits in its own section near the end.
TREATMENT_SECTIONS = ["Key points", "Mechanism", "The evidence", "In practice",
                      "Ongoing and recent trials", "For learners", "Summary", "References"]
LEARNER_SUBSECTIONS = ["Learning objectives", "Discussion questions", "Exercise"]
FIGURE_CALL = re.compile(r"\bnb\.(evidence_timeline|forest_plot|evidence_map|pooled_analysis"
                         r"|pooled_analyses|risk_of_bias)\(")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_there_is_a_notebook_per_treatment_or_group_of_medicines() -> None:
    missing = [p.name for p in TREATMENT_NOTEBOOKS if not p.is_file()]
    assert not missing, f"treatments.csv names notebooks that do not exist: {missing}"
    unaccounted = {p.name for p in NOTEBOOKS} - GENERAL - {p.name for p in TREATMENT_NOTEBOOKS}
    assert not unaccounted, f"numbered notebooks no treatment row names: {sorted(unaccounted)}"


@pytest.mark.parametrize("path", SKELETON_NOTEBOOKS, ids=lambda p: p.name)
def test_treatment_notebook_has_the_skeleton(path: Path) -> None:
    headings = re.findall(r"^##\s+(.+?)\s*$", notebook_markdown(path), re.M)
    positions = [headings.index(s) if s in headings else -1 for s in TREATMENT_SECTIONS]
    missing = [s for s, i in zip(TREATMENT_SECTIONS, positions, strict=True) if i < 0]
    assert not missing, f"{path.name} lacks sections {missing}"
    assert positions == sorted(positions), f"{path.name}: sections out of order"


@pytest.mark.parametrize("path", TREATMENT_NOTEBOOKS, ids=lambda p: p.name)
def test_learning_material_is_in_the_section_for_learners(path: Path) -> None:
    text = notebook_markdown(path)
    learners = text.index("## For learners")
    tail = text[learners:text.index("## Summary")]
    for sub in LEARNER_SUBSECTIONS[1:]:
        assert f"### {sub}" in tail, f"{path.name}: '{sub}' is not under 'For learners'"
    assert "{exercise}" not in text[:learners], f"{path.name}: an exercise before 'For learners'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_notice_title_and_reference_list(path: Path) -> None:
    cells = _cells(path)
    assert _source(cells[0]).startswith("# "), "first cell is the title"
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    assert "nb.notice()" in code
    assert f'nb.references("{path.name}")' in code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_citation_resolves(path: Path) -> None:
    keys = cited_keys(notebook_markdown(path))
    assert keys, f"{path.name} cites nothing"
    missing = keys - set(load_references())
    assert not missing, f"{path.name} cites keys not in references.bib: {sorted(missing)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_have_alt_text(path: Path) -> None:
    for cell in _cells(path):
        if cell["cell_type"] == "code" and FIGURE_CALL.search(_source(cell)):
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 20, f"{path.name}: figure cell without alt text"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stored_and_have_no_errors(path: Path) -> None:
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code), f"{path.name} has unexecuted cells"
    assert not any(o.get("output_type") == "error" for c in code for o in c["outputs"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_glue_not_logic(path: Path) -> None:
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        source = _source(cell)
        assert not re.search(r"^\s*(def|class)\s", source, re.M), f"{path.name} defines code"
        assert "read_csv" not in source and "open(" not in source, f"{path.name} reads files"
        lines = [ln for ln in source.splitlines() if ln.strip() and not ln.startswith("#")]
        assert len(lines) <= 6, f"{path.name}: a code cell of {len(lines)} lines"


@pytest.mark.parametrize("path", TREATMENT_NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_labelled_with_a_folded_solution(path: Path) -> None:
    text = notebook_markdown(path)
    labels = re.findall(r"```\{exercise\}[^\n]*\n:label:\s*(\S+)", text)
    assert labels, f"{path.name} has no labelled exercise"
    for label in labels:
        assert re.search(r"\{solution(?:-start)?\}\s*" + re.escape(label)
                         + r"\s*\n:class: dropdown", text), f"{path.name}: {label} not folded"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_directive_fences_enclose_their_code(path: Path) -> None:
    for cell in _cells(path):
        text = _source(cell)
        for block in re.findall(r"^```\{(?:solution|exercise)\}.*?^```\s*$", text, re.M | re.S):
            assert not re.search(r"^```\w", block, re.M), (
                f"{path.name}: a code fence inside a ```{{solution}} block closes it early; "
                "open the directive with ````")


def _links(path: Path) -> set[str]:
    return set(re.findall(r"\]\((\d\d-[\w-]+\.ipynb)", notebook_markdown(path)))


def test_overview_and_treatments_link_both_ways() -> None:
    """From the evidence overview a reader reaches every treatment, and comes back."""
    overview = ROOT / "notebooks" / "02-evidence-overview.ipynb"
    unreached = [p.name for p in TREATMENT_NOTEBOOKS if p.name not in _links(overview)]
    no_way_back = [p.name for p in TREATMENT_NOTEBOOKS if overview.name not in _links(p)]
    assert not unreached, f"the overview does not link to {unreached}"
    assert not no_way_back, f"no link back to the overview from {no_way_back}"


@pytest.mark.parametrize("path", TREATMENT_NOTEBOOKS, ids=lambda p: p.name)
def test_every_certainty_level_a_page_states_is_one_of_its_ratings(path: Path) -> None:
    """"**low certainty**" in a page's own words must be a level a rating of its treatments has.

    Catches a paragraph left behind when a rating changes (the ratings of ``certainty.csv``,
    ours or a review's, are the only source of a level).
    """
    import pandas as pd

    treatments = load_treatments()
    ids = set(treatments.loc[treatments["notebook"] == path.name, "id"])
    ids |= set(treatments.loc[treatments["parent"].isin(ids), "id"])
    ratings = pd.read_csv(ROOT / "data" / "certainty.csv", dtype=str)
    levels = set(ratings.loc[ratings["treatment_id"].isin(ids), "certainty"].str.lower())
    stated = {m.lower() for m in re.findall(r"\*\*(high|moderate|low|very low) certainty\*\*",
                                             notebook_markdown(path), re.I)}
    assert stated <= levels, (f"{path.name} states {sorted(stated - levels)} certainty, which "
                              f"no rating of {sorted(ids)} has (ratings: {sorted(levels)})")


EXERCISE_START = "# Starting point for the exercise"
#: The column names of the data tables (what a raw frame shows as headings).
DATA_COLUMNS = {field["name"] for resource in json.loads(
    (ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    for field in resource["schema"]["fields"]}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_tables_are_tables_for_readers(path: Path) -> None:
    """An exercise's starting table has plain headings (not treatment_id, n_randomized ...)."""
    for cell in _cells(path):
        if cell["cell_type"] != "code" or not _source(cell).startswith(EXERCISE_START):
            continue
        html = "".join("".join(o.get("data", {}).get("text/html", ""))
                       for o in cell["outputs"])
        assert "<table" in html, f"{path.name}: an exercise's starting point shows no table"
        assert "crps-table--raw" not in html, f"{path.name}: an exercise shows raw data"
        heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
        raw = [h for h in heads if "_" in h or h in DATA_COLUMNS]
        assert not raw, f"{path.name}: exercise table headings {raw}"
