"""The evidence overview helpers: reader tables, pooling status, the temporary-copy workflow."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crps_evidence import check_integrity, load_all
from crps_evidence.book import overview
from crps_evidence.book.handouts import search_dates
from crps_evidence.errors import AnalysisError
from crps_evidence.evidence.paths import data_dir
from crps_evidence.stats import synthesis
from crps_evidence.stats.findings import lead_findings


@pytest.fixture(scope="module")
def evidence():
    return load_all()


def test_evidence_table_has_one_row_per_treatment_and_counts_each_trial_once(evidence):
    table = overview.evidence_table(evidence)
    assert list(table["Treatment"]) == list(evidence.treatments["name"])
    randomised = evidence.studies["design"].isin(overview.RANDOMISED)
    assert table["RCTs"].sum() == randomised.sum()


def test_evidence_table_words_results_and_unknown_sizes():
    summary_row = pd.Series({"rcts": 3, "favours_treatment": 1, "no_difference": 1,
                             "favours_control": 0})
    assert overview._results_phrase(summary_row) == "1 favours treatment; 1 no difference; 1 other"
    empty = pd.Series({"rcts": 0, "favours_treatment": 0, "no_difference": 0,
                       "favours_control": 0})
    assert overview._results_phrase(empty) == "no randomised trial"


def test_certainty_counts_cover_every_treatment(evidence):
    counts = overview.certainty_counts(evidence)
    assert list(counts["Certainty (GRADE)"]) == overview.CERTAINTY_ORDER
    assert counts["Treatments"].sum() == len(evidence.treatments)


def test_pooling_status_reports_the_package_refusal_verbatim(evidence):
    status = overview.pooling_status(evidence)
    assert set(status["Pooled?"]) <= {"yes", "no"}
    refused = status[status["Pooled?"] == "no"]
    for row in refused.itertuples():
        assert row.Reason, "a refusal carries its reason"
    small = status[status["Usable effects"] < 2]
    assert (small["Pooled?"] == "no").all()
    assert small["Reason"].str.contains("at least two studies").all()


def test_main_effects_keeps_one_row_per_study(evidence):
    effects = overview.main_effects(evidence, "hbot", "pain", "SMD")
    assert effects["study_id"].is_unique
    assert "skipped" in effects.attrs


def test_copy_and_add_rows_leave_the_repository_untouched(tmp_path: Path):
    before = {p.name: p.read_bytes() for p in data_dir().glob("*.csv")}
    root = overview.copy_data(tmp_path)
    added = overview.add_rows(root, overview.synthetic_study("a"))
    assert added[-2:] == ["references.bib: 1 entry", "data/certainty.csv: 1 row(s)"]
    assert all(not line.startswith("/") for line in added), "relative names only"
    assert {p.name: p.read_bytes() for p in data_dir().glob("*.csv")} == before
    copy = load_all(root / "data", bib=root / "references.bib")
    assert "synthetic2099examplea" in set(copy.studies["id"])
    assert not [p for p in check_integrity(copy) if "synthetic" in p]


def test_add_rows_adds_the_treatment_once_and_the_forest_plot_pools(tmp_path: Path):
    root = overview.copy_data(tmp_path)
    overview.add_rows(root, overview.synthetic_study("a"))
    one = load_all(root / "data", bib=root / "references.bib")
    assert len(overview.main_effects(one, overview.SYNTHETIC_TREATMENT)) == 1
    overview.add_rows(root, overview.synthetic_study("b"))
    two = load_all(root / "data", bib=root / "references.bib")
    assert (two.treatments["id"] == overview.SYNTHETIC_TREATMENT).sum() == 1
    effects = overview.main_effects(two, overview.SYNTHETIC_TREATMENT)
    assert len(effects) == 2
    fig = overview.forest_figure(two, overview.SYNTHETIC_TREATMENT)
    assert any(p.get_gid() == "pooled-diamond" for p in fig.axes[0].patches)


def test_add_rows_refuses_the_real_data_folder():
    with pytest.raises(ValueError, match="copy"):
        overview.add_rows(data_dir().parent, overview.synthetic_study("a"))


def test_synthetic_study_is_labelled_and_unknown_letters_refused():
    example = overview.synthetic_study("b")
    assert "SYNTHETIC" in example.bibtex and "2099" in example.bibtex
    assert example.study.loc[0, "source_url"].startswith("https://example.org/")
    assert not example.study.loc[0, "verified"]
    with pytest.raises(ValueError):
        overview.synthetic_study("z")


def test_forest_figure_refuses_a_treatment_without_usable_effects(evidence):
    with pytest.raises(AnalysisError):
        overview.forest_figure(evidence, "ketamine")


def test_textbook_bcg_reproduces_metafor_reml():
    effects = synthesis.effect_sizes(overview.textbook_bcg_outcomes(), "RR")
    result = synthesis.pool_effects(effects, method="REML")
    # metafor's documented rma(yi, vi) on dat.bcg: estimate -0.7145, tau^2 0.3132, I^2 92.22%.
    assert result.estimate == pytest.approx(-0.7145, abs=1e-4)
    assert result.tau2 == pytest.approx(0.3132, abs=1e-4)
    assert result.i2 == pytest.approx(92.22, abs=5e-3)


def test_landing_table_states_each_leading_finding_and_its_basis(evidence):
    table = overview.landing_table(evidence)
    assert len(table) == len(evidence.treatments)
    assert list(table.columns) == ["Treatment", "What it is", "Certainty",
                                   "What the studies show", "Main risks", "Access",
                                   "Up to date", "Notebook"]
    shown = dict(zip(evidence.treatments["id"], table["What the studies show"], strict=True))
    lead = lead_findings(evidence)
    for treatment_id, text in shown.items():
        held = evidence.studies[evidence.studies["treatment_id"] == treatment_id]
        if held.empty:
            assert text == "No study of it in CRPS was found."
            continue
        row = lead[treatment_id]
        assert text.startswith(row.statement), treatment_id
        # the count it rests on, recomputed here from the study rows the finding names
        rows = held.set_index("id").reindex(list(row.study_ids))
        people = int(rows["n_randomized"].fillna(rows["n_enrolled"]).fillna(0).sum())
        if row.study_ids and people:
            assert f"{len(row.study_ids)} stud" in text and f"{people:,} people" in text
    html = table._repr_html_()
    assert ">Notebook<" not in html and 'href="03-ketamine.ipynb"' in html


def test_landing_table_reads_the_searches_of_the_folder_it_was_loaded_from(tmp_path: Path):
    root = overview.copy_data(tmp_path)
    searches = pd.read_csv(root / "data" / "searches.csv", dtype=str, keep_default_na=False)
    searches.loc[searches["treatment_id"] == "ketamine", "last_run"] = "2099-11-30"
    searches.to_csv(root / "data" / "searches.csv", index=False)
    log = pd.read_csv(root / "data" / "search_log.csv", dtype=str, keep_default_na=False)
    log[log["treatment_id"] != "ivig"].to_csv(root / "data" / "search_log.csv", index=False)
    copy = load_all(root / "data", bib=root / "references.bib")
    assert copy.folder == root / "data"
    up_to_date = dict(zip(copy.treatments["id"], overview.landing_table(copy)["Up to date"],
                          strict=True))
    assert "searched 2099-11-30" in up_to_date["ketamine"]
    assert "not yet searched" in up_to_date["ivig"]
    assert search_dates(copy)["ketamine"] != "not yet searched by this collection"
