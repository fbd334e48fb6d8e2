"""The shipped evidence: it validates, it covers the seed's treatments, and its gaps are visible."""

from __future__ import annotations

import re

import pytest

from crps_evidence import check_integrity, load_all
from crps_evidence.evidence.integrity import missing_identifiers
from crps_evidence.stats.certainty import NO_STUDIES, OURS, check_certainty, headline

from .conftest import ROOT

# Treatments the seed post asks about (../shared/seed), as ids of treatments.csv.
SEED_TREATMENTS = ["ketamine", "ivig", "plasma-exchange", "lidocaine", "magnesium",
                   "physical-therapy", "sympathetic-block", "tens", "scs", "drg-stimulation",
                   "scrambler-therapy", "hbot"]
SEED_SUBMODALITIES = ["ketamine-topical", "pool-therapy", "desensitisation",
                      "graded-motor-imagery", "mirror-therapy"]


@pytest.fixture(scope="module")
def evidence():
    return load_all()


def test_collection_is_consistent(evidence) -> None:
    assert check_integrity(evidence) == []


@pytest.mark.parametrize("treatment", SEED_TREATMENTS + SEED_SUBMODALITIES)
def test_every_seed_treatment_has_a_row_and_a_certainty(evidence, treatment: str) -> None:
    lead = headline(evidence).set_index("treatment_id").loc[treatment]
    has_studies = evidence.studies["treatment_id"].eq(treatment).any()
    if has_studies:
        assert lead["certainty"] in {"high", "moderate", "low", "very low"}
        assert lead["rated_by"] == OURS or lead["rated_by"] in evidence.references
    else:
        assert lead["certainty"] == NO_STUDIES


def test_every_treatment_with_studies_has_our_own_rating_or_a_published_one(evidence) -> None:
    rated = set(evidence.certainty["treatment_id"])
    assert set(evidence.studies["treatment_id"]) <= rated


def test_our_ratings_follow_the_rules(evidence) -> None:
    """Mechanical domains and levels of our rows equal what grade.py computes."""
    assert check_certainty(evidence) == []


def test_medicines_from_part_one_of_the_series_are_covered(evidence) -> None:
    medicines = evidence.treatments[evidence.treatments["category"] == "medication"]
    for wanted in ("bisphosphonates", "calcitonin", "corticosteroids", "vitamin-c",
                   "gabapentin", "free-radical-scavengers", "tadalafil", "memantine",
                   "lenalidomide", "infliximab", "botulinum-toxin", "low-dose-naltrexone"):
        assert wanted in set(medicines["id"]), wanted


@pytest.mark.parametrize("treatment", SEED_TREATMENTS)
def test_every_seed_treatment_has_a_study(evidence, treatment: str) -> None:
    treatments = evidence.treatments
    family = {treatment, *treatments.loc[treatments["parent"] == treatment, "id"]}
    assert evidence.studies["treatment_id"].isin(family).any()


def test_unverified_rows_are_listed_and_counted(evidence) -> None:
    studies = evidence.studies
    unverified = studies[~studies["verified"]]
    print("\nUnverified study rows (what could not be checked):")
    for row in unverified.itertuples():
        print(f"  {row.id}: {row.unverified}")
    print("References without DOI or PMID:", ", ".join(missing_identifiers(evidence.references)))
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    match = re.search(r"Verified study rows: (\d+) of (\d+)\.", readme)
    assert match, "data/README.md must state 'Verified study rows: X of Y.'"
    assert (int(match.group(1)), int(match.group(2))) == (len(studies) - len(unverified),
                                                          len(studies))


def test_every_treatment_notebook_exists(evidence) -> None:
    for name in evidence.treatments["notebook"].dropna().unique():
        assert (ROOT / "notebooks" / name).is_file(), name
