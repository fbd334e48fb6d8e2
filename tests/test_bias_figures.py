"""The risk-of-bias chart, its bars and its table in words."""

from __future__ import annotations

import pandas as pd
import pytest

from crps_evidence.book.bias_figures import (
    LEVELS,
    risk_of_bias_chart,
    risk_of_bias_words,
    share_by_level,
)
from crps_evidence.errors import AnalysisError
from crps_evidence.evidence.risk_of_bias import DOMAINS

ROB2 = DOMAINS["RoB 2"]


def trial(study: str, judgements: list[str], tool: str = "RoB 2") -> pd.DataFrame:
    return pd.DataFrame({"study_id": study, "tool": tool, "judged_by": "this collection",
                         "domain": list(DOMAINS[tool]), "judgement": judgements})


TABLE = pd.concat([
    trial("a", ["low", "low", "low", "high", "low", "high"]),
    trial("b", ["no information", "some concerns", "low", "low", "low", "some concerns"]),
    trial("c", ["low"] * 6),
], ignore_index=True)
SIZES = {"a": 30, "b": 10, "c": 60}


def test_shares_are_weighted_by_participants():
    shares = share_by_level(TABLE, SIZES)
    assert shares.loc["overall", "high"] == pytest.approx(30 / 100)
    assert shares.loc["overall", "some concerns"] == pytest.approx(10 / 100)
    assert shares.loc["overall", "low"] == pytest.approx(60 / 100)
    assert shares.loc["randomisation process", "no information"] == pytest.approx(0.1)
    assert list(shares.index) == list(ROB2)
    assert shares.sum(axis=1).round(12).eq(1).all()


def test_a_trial_of_unknown_size_weighs_nothing():
    shares = share_by_level(TABLE, {"a": 30, "b": None, "c": 0})
    assert shares.loc["overall", "high"] == pytest.approx(1.0)


def test_chart_has_a_cell_per_trial_and_domain_with_its_symbol():
    figure = risk_of_bias_chart(TABLE, {"a": "A 2001", "b": "B 2002", "c": "C 2003"}, SIZES)
    chart = figure.axes[0]
    cells = [c.get_gid() for c in chart.collections if (c.get_gid() or "").startswith("rob:")]
    assert len(cells) == 3 * len(ROB2)
    assert "rob:a:measurement of the outcome" in cells
    symbols = [t.get_text() for t in chart.texts]
    assert symbols.count(LEVELS["high"][0]) == 2 and symbols.count(LEVELS["low"][0]) == 4 + 3 + 6
    assert [t.get_text() for t in chart.get_yticklabels()] == ["A 2001", "B 2002", "C 2003"]
    bars = [p.get_gid() for p in figure.axes[1].patches]
    assert "share:overall:high" in bars and "share:overall:unclear" not in bars


def test_every_level_differs_by_symbol_or_hatch_not_only_colour():
    from crps_evidence.evidence.risk_of_bias import JUDGEMENTS

    for tool in ("RoB 2", "RoB 1"):
        marks = {(LEVELS[j][0], LEVELS[j][2]) for j in JUDGEMENTS[tool]}
        assert len(marks) == len(JUDGEMENTS[tool])


def test_one_tool_per_chart():
    mixed = pd.concat([TABLE, trial("d", ["low", "unclear", "low", "low", "low", "high", "low",
                                          "high"], tool="RoB 1")])
    with pytest.raises(AnalysisError, match="one tool per chart"):
        risk_of_bias_chart(mixed, {}, SIZES)


def test_words_table_says_each_judgement():
    words = risk_of_bias_words(TABLE, {"a": "A 2001", "b": "B 2002", "c": "C 2003"})
    assert list(words["Trial"]) == ["A 2001", "B 2002", "C 2003"]
    assert words.loc[1, "Randomisation process"] == "no information"
    assert words.loc[0, "Overall"] == "high"
    assert set(words["Judged by"]) == {"us (RoB 2)"}


def test_page_sentence_counts_the_trials_of_the_data():
    from unittest import mock

    from IPython.core.display import Markdown

    from crps_evidence import load_all
    from crps_evidence.book import notebook as nb

    evidence = load_all()
    shown = []
    with mock.patch.object(nb, "display", side_effect=shown.append):
        nb.risk_of_bias("ketamine")
    (sentence,) = [m.data for m in shown if isinstance(m, Markdown)]
    ids = set(evidence.treatments.loc[(evidence.treatments["id"] == "ketamine")
                                      | (evidence.treatments["parent"] == "ketamine"), "id"])
    trials = evidence.studies[evidence.studies["treatment_id"].isin(ids)
                              & evidence.studies["design"].isin(["parallel RCT",
                                                                 "crossover RCT"])]
    assert sentence.startswith(f"Overall risk of bias of the {len(trials)} randomised trials")
    overall = evidence.risk_of_bias[(evidence.risk_of_bias["domain"] == "overall")
                                    & evidence.risk_of_bias["study_id"].isin(trials["id"])]
    high = int((overall["judgement"] == "high").sum())
    low = int((overall["judgement"] == "low").sum())
    assert f"high in {high or 'none'}" in sentence and f"low in {low or 'none'}" in sentence
