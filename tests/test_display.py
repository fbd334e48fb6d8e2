"""Tables for people (crps_evidence.book.display) and the notebook tables that use them."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from IPython.core.formatters import HTMLFormatter

from crps_evidence import load_all
from crps_evidence.book import display, overview
from crps_evidence.book import notebook as nb
from crps_evidence.book.display import RESULT_LABELS, ReaderTable, reader_table, to_html


def cells(html: str, tag: str = "td") -> list[str]:
    return re.findall(rf"<{tag}(?:\s[^>]*)?>(.*?)</{tag}>", html, re.S)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "Study": ["Alpha 2001", "Beta 2003", "Gamma 2010"],
        "N": pd.array([12, pd.NA, 40], dtype="Int64"),
        "Result": ["favours_treatment", "no_difference", None],
        "Comparator": ["placebo", "", np.nan],
    })


def test_no_index_and_missing_values_as_an_em_dash(frame) -> None:
    html = to_html(frame)
    assert cells(html, "th") == ["Study", "N", "Result", "Comparator"]
    assert "<NA>" not in html and "nan" not in [c.lower() for c in cells(html)]
    assert cells(html).count("—") == 4  # pd.NA, None, "" and NaN
    assert "dataframe" not in html and 'border="1"' not in html


def test_missing_text_is_the_callers_choice(frame) -> None:
    html = to_html(frame, missing="not reported")
    assert cells(html).count("not reported") == 4
    assert "—" not in html


def test_filtered_rows_do_not_show_their_row_numbers(frame) -> None:
    html = to_html(frame[frame["Study"] != "Alpha 2001"])
    assert cells(html, "th") == ["Study", "N", "Result", "Comparator"]
    assert cells(html)[0] == "Beta 2003"


def test_a_named_index_becomes_a_column(frame) -> None:
    html = to_html(frame.set_index("Study"))
    assert cells(html, "th")[0] == "Study"
    assert cells(html)[0] == "Alpha 2001"


def test_coded_values_get_human_labels(frame) -> None:
    html = to_html(frame, labels={"Result": RESULT_LABELS})
    assert "favours treatment" in html and "favours_treatment" not in html
    assert "no difference" in html


def test_nothing_is_truncated() -> None:
    long_text = "word " * 200
    many = pd.DataFrame({"Text": [long_text.strip()] * 120, "N": range(120)})
    with pd.option_context("display.max_rows", 10, "display.max_colwidth", 20):
        html = to_html(many)
    assert html.count("<tr>") == 121
    assert long_text.strip() in html
    assert "..." not in html and "…" not in html


def test_output_is_deterministic_and_has_no_ids(frame) -> None:
    assert to_html(frame) == to_html(frame.copy())
    assert " id=" not in to_html(frame)
    assert not re.search(r"T_[0-9a-f]{5}", to_html(frame))


def test_every_cell_carries_its_column_label(frame) -> None:
    html = to_html(frame)
    labels = re.findall(r'<td data-label="([^"]*)"', html)
    assert labels == ["Study", "N", "Result", "Comparator"] * 3


def test_wide_tables_stack_and_narrow_tables_scroll(frame) -> None:
    assert "crps-table--stack" in to_html(frame)  # four columns
    assert "crps-table--stack" not in to_html(frame[["Study", "N"]])
    assert "crps-table--stack" not in to_html(frame, layout="scroll")
    assert "crps-table--stack" in to_html(frame[["Study"]], layout="stack")
    assert to_html(frame).startswith('<div class="crps-table-wrap" role="region" tabindex="0"')


def test_links_hide_their_address_column() -> None:
    table = pd.DataFrame({"Treatment": ["Ketamine", "Other"],
                          "Notebook": ["03-ketamine.ipynb", ""]})
    html = to_html(table, links={"Treatment": "Notebook"})
    assert '<a href="03-ketamine.ipynb">Ketamine</a>' in html
    assert "Notebook" not in html and ">Other<" in html  # no address: plain text
    html = to_html(table, links={"Treatment": "Notebook"},
                   link_format=lambda path: path.replace(".ipynb", ".html"))
    assert 'href="03-ketamine.html"' in html


def test_text_is_escaped_numbers_are_plain() -> None:
    table = pd.DataFrame({"Title": ["<b>bold</b> & co"], "Mean": [-0.78123], "Flag": [True],
                          "Whole": [124.0]})
    html = to_html(table)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert cells(html)[1:] == ["-0.7812", "yes", "124"]
    assert 'data-label="Mean" class="num"' in html


def test_unknown_column_is_an_error_that_names_it(frame) -> None:
    with pytest.raises(KeyError, match="Outcome"):
        to_html(frame, labels={"Outcome": {}})
    with pytest.raises(KeyError, match="Outcome"):
        reader_table(frame, links={"Study": "Outcome"})


def test_reader_table_is_still_a_dataframe(frame) -> None:
    table = reader_table(frame, missing="not reported")
    assert isinstance(table, pd.DataFrame)
    pd.testing.assert_frame_equal(pd.DataFrame(table), frame)
    subset = table[table["Study"] != "Beta 2003"]
    assert isinstance(subset, ReaderTable)
    assert "not reported" in subset._repr_html_()
    assert "<NA>" in repr(table) or "NaN" in repr(table)  # code sees the raw values


def test_register_formatter_renders_every_dataframe(monkeypatch, frame) -> None:
    formatter = HTMLFormatter()
    shell = SimpleNamespace(display_formatter=SimpleNamespace(
        formatters={"text/html": formatter}))
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    assert display.register_formatter() is True
    html = formatter(frame)
    assert html.startswith('<div class="crps-table-wrap"') and "favours_treatment" in html
    assert "crps-table--stack" not in html  # plain frames scroll; their values stay raw
    assert "crps-table--raw" in html and "crps-table--raw" not in to_html(frame)
    assert formatter(reader_table(frame, missing="n/a")).count("n/a") == 4
    assert display.register_formatter(enable=False) is True
    assert "dataframe" in formatter(frame)


def test_register_formatter_outside_ipython(monkeypatch) -> None:
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert display.register_formatter() is False


# ----------------------------------------------------------- the tables the notebooks show

PANDAS_DUMP = re.compile(r'class="dataframe"|<th></th>|&lt;NA&gt;|<NA>|\bNaN\b|\.\.\.')


@pytest.fixture(scope="module")
def evidence():
    return load_all()


@pytest.mark.parametrize("make", [
    lambda ev: nb.studies_table("ketamine"),
    lambda ev: nb.studies_table("physical-therapy"),
    lambda ev: nb.collection_table(),
    lambda ev: overview.evidence_table(ev),
    lambda ev: overview.certainty_counts(ev),
    lambda ev: overview.pooling_status(ev),
], ids=["studies-ketamine", "studies-pt", "collection", "evidence", "certainty", "pooling"])
def test_notebook_tables_display_for_people(evidence, make) -> None:
    table = make(evidence)
    assert isinstance(table, ReaderTable)
    html = table._repr_html_()
    assert not PANDAS_DUMP.search(html), PANDAS_DUMP.search(html)
    codes = [code for code in RESULT_LABELS if "_" in code]
    assert not any(code in html for code in codes), "coded value shown to readers"
    assert html.count("<tr>") == len(table) + 1


def test_overview_tables_link_each_treatment_to_its_notebook(evidence) -> None:
    html = overview.evidence_table(evidence)._repr_html_()
    for notebook in evidence.treatments["notebook"].dropna().unique():
        assert f'href="{notebook}"' in html
    assert ">Notebook<" not in html


def test_studies_table_links_each_study_to_its_doi_or_pubmed_record(evidence) -> None:
    """Each study's name links its DOI, else its PubMed record; the address is not a column."""
    html = nb.studies_table("ketamine")._repr_html_()
    treatments = evidence.treatments
    family = {"ketamine", *treatments.loc[treatments["parent"] == "ketamine", "id"]}
    studies = evidence.studies[evidence.studies["treatment_id"].isin(family)]
    expected = 0
    for key in studies["bibkey"]:
        ref = evidence.references[key]
        if ref.doi:
            assert f'href="https://doi.org/{ref.doi}"' in html, key
        elif ref.pmid:
            assert f'href="https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"' in html, key
        expected += bool(ref.doi or ref.pmid)
    assert expected > 0
    assert html.count('<td data-label="Study"><a href=') == expected
    assert ">Record<" not in html


def test_read_records_table_uses_the_reader_layout() -> None:
    records = pd.DataFrame({
        "registry_id": ["NCT1"], "title": ["T"], "status_as_shown": [None],
        "source_kind": ["registry"], "source_url": ["https://example.org/r"],
        "seen": ["2026-01-01"],
    })
    html = nb._records_html(records)
    assert "<a href=\"https://example.org/r\">the registry&#x27;s page</a>" in html
    assert "(none shown)" in html and "crps-table" in html


def test_registry_codes_are_worded() -> None:
    snapshot = pd.DataFrame({"nct_id": ["NCT1"], "status": ["NOT_YET_RECRUITING"],
                             "phase": ["NA"], "enrollment_type": ["ESTIMATED"]})
    html = to_html(snapshot, labels=nb._registry_words(snapshot))
    assert "not yet recruiting" in html and "not applicable" in html and "estimated" in html
    assert "NOT_YET_RECRUITING" not in html


# ------------------------------------------- years, names and exercise tables (issue 28)


def test_a_study_without_a_verified_year_says_so_in_the_year_column(evidence) -> None:
    """Never a dash for a year: the reader is told the year was not verified."""
    for treatment_id in evidence.treatments["id"]:
        table = nb.studies_table(treatment_id)
        html = table._repr_html_()
        assert 'data-label="Year">—<' not in html, treatment_id
        undated = table["Year"] == nb.UNDATED
        assert table.loc[~undated, "Year"].astype(str).str.fullmatch(r"\d{4}").all(), treatment_id
        # undated studies come last, after the dated ones in order
        assert list(undated) == sorted(undated), treatment_id


def test_the_note_under_a_timeline_ends_with_one_full_stop() -> None:
    assert nb.undated_note(["Johnson et al."]).endswith(": Johnson et al.")
    assert nb.undated_note(["Collins 2009"]).endswith(": Collins 2009.")
    assert ".." not in nb.undated_note(["Collins et al.", "Varenna et al."])


def test_plain_table_gives_plain_headings_and_words_and_leaves_the_frame_alone(evidence) -> None:
    studies = evidence.studies
    rows = studies[studies["treatment_id"] == "ketamine"][
        ["id", "treatment_id", "design", "n_randomized", "primary_result"]]
    table = nb.plain_table(rows, evidence)
    assert isinstance(table, ReaderTable)
    assert not any("_" in str(c) for c in table.columns)
    assert list(rows.columns) == ["id", "treatment_id", "design", "n_randomized",
                                  "primary_result"]  # the learner's frame is untouched
    labels = nb.study_labels(evidence)
    assert list(table["Study"]) == [labels[i] for i in rows["id"]]
    html = table._repr_html_()
    assert "crps-table--raw" not in html and not PANDAS_DUMP.search(html)
    assert not any(code in html for code in RESULT_LABELS if "_" in code)
    with pytest.raises(KeyError, match="bibkey"):
        nb.plain_table(studies[["id", "bibkey"]], evidence)


def test_the_evidence_map_has_a_table_with_everything_it_shows(evidence, monkeypatch) -> None:
    """On a phone the map's labels are small: the table under it carries the same facts."""
    from IPython.display import Image

    from crps_evidence.book.plots import evidence_map_key

    shown = []
    monkeypatch.setattr(nb, "display", shown.append)
    nb.evidence_map()
    image, table = shown
    assert isinstance(image, Image) and isinstance(table, ReaderTable)
    key = evidence_map_key(overview.treatment_summary(evidence, roll_up=False))
    assert list(table["Marker"]) == list(key["number"])
    assert list(table["Treatment"]) == list(key["name"])
    assert list(table["Category"]) == list(key["category"])
    assert [int(v.split(":")[0]) for v in table["Invasiveness"]] == list(key["invasiveness"])
    assert list(table["Randomised participants"]) == [
        int(v) if v == v else 0 for v in key["rct_participants"]]


def test_a_figure_records_its_smallest_text_and_resolution() -> None:
    """What the browser check of legibility on a phone reads (tests/book/test_figures.py)."""
    import io

    from matplotlib.figure import Figure
    from PIL import Image as PILImage

    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.set_title("Title", fontsize=14)
    ax.tick_params(labelsize=7)
    png = PILImage.open(io.BytesIO(nb.as_image(fig, dpi=96).data))
    assert float(png.info[nb.SMALLEST_TEXT_KEY]) == 7
    assert round(png.info["dpi"][0]) == 96
    assert nb.as_image(fig).data == nb.as_image(fig).data  # still byte-identical on re-runs
