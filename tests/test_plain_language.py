"""What a patient reads first is written at about school grade 8 (Flesch-Kincaid).

Health-literacy guidance (NHS, Cochrane plain-language summaries) aims at about grade 8. Each
passage is scored on its own, and a failure lists every passage over the limit with its score,
so a writer sees what to shorten. textstat 0.7.3 is pinned: newer versions download a
dictionary at first use.
"""

from __future__ import annotations

import warnings

from crps_evidence import load_treatments

with warnings.catch_warnings():  # textstat 0.7.3 imports pkg_resources, which warns
    warnings.simplefilter("ignore")
    import textstat

GRADE = 8.0


def over_the_limit(passages: dict[str, str]) -> dict[str, float]:
    scores = {name: textstat.flesch_kincaid_grade(text) for name, text in passages.items()}
    return {name: score for name, score in scores.items() if score > GRADE}


def test_the_scorer_tells_plain_from_dense():
    plain = "Ketamine is a drug. It is given as a drip. Some people had less pain."
    dense = ("Intravenous subanaesthetic ketamine infusions administered over consecutive "
             "days demonstrated statistically significant analgesic superiority versus placebo.")
    assert over_the_limit({"plain": plain, "dense": dense}) == {
        "dense": textstat.flesch_kincaid_grade(dense)}


def test_every_plain_summary_is_at_grade_8_or_lower():
    treatments = load_treatments()
    passages = {f"treatments.csv, {row.id}, plain_summary": row.plain_summary
                for row in treatments.itertuples() if isinstance(row.plain_summary, str)}
    assert passages
    failing = over_the_limit(passages)
    assert not failing, "over grade 8:\n" + "\n".join(
        f"  {score:4.1f}  {name}" for name, score in sorted(failing.items()))


