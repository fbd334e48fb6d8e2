"""certainty.csv checked against the GRADE rules, on the synthetic fixture (made-up rows)."""

from __future__ import annotations

from pathlib import Path

from crps_evidence import load_all
from crps_evidence.stats.certainty import NO_STUDIES, check_certainty, headline

from .conftest import edit


def _load(root: Path):
    return load_all(root / "data", bib=root / "references.bib")


def test_the_fixture_ratings_follow_the_rules(minidata: Path) -> None:
    assert check_certainty(_load(minidata)) == []


def test_published_rating_leads_with_ours_beside_it(minidata: Path) -> None:
    lead = headline(_load(minidata)).set_index("treatment_id")
    assert lead.loc["alpha", "certainty"] == "low" and lead.loc["alpha", "published"]
    assert lead.loc["alpha", "ours"] == "very low"
    assert lead.loc["beta", "rated_by"] == "this collection"


def test_a_treatment_without_studies_has_no_rating_but_a_state(minidata: Path) -> None:
    lead = headline(_load(minidata)).set_index("treatment_id")
    assert lead.loc["alpha-cream", "certainty"] == NO_STUDIES


def test_a_drifted_mechanical_domain_is_reported(minidata: Path) -> None:
    edit(minidata / "data" / "certainty.csv", "very serious,synthetic: 25 people",
         "serious,synthetic: 25 people")
    [problem] = check_certainty(_load(minidata))
    assert "line 4" in problem and "'imprecision'" in problem and "'very serious'" in problem


def test_a_level_that_does_not_follow_from_the_domains_is_reported(minidata: Path) -> None:
    edit(minidata / "data" / "certainty.csv", "pain at 6 months,very low,", "pain at 6 months,low,")
    [problem] = check_certainty(_load(minidata))
    assert "field 'certainty'" in problem and "give 'very low'" in problem


def test_a_published_rating_needs_its_page(minidata: Path) -> None:
    edit(minidata / "data" / "certainty.csv", "https://example.org/synthetic/review", "")
    [problem] = check_certainty(_load(minidata))
    assert "source_url" in problem


def test_a_treatment_with_studies_needs_one_main_row(minidata: Path) -> None:
    path = minidata / "data" / "certainty.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("beta,")) + "\n")
    problems = check_certainty(_load(minidata))
    assert problems == ["certainty.csv: treatment 'beta' has studies and needs exactly one main "
                        "row (has 0)"]


def test_our_row_without_a_reason_is_refused(minidata: Path) -> None:
    edit(minidata / "data" / "certainty.csv", "serious,synthetic: no control group,",
         "serious,,")
    [problem] = check_certainty(_load(minidata))
    assert "'risk_of_bias'" in problem and "reason" in problem
