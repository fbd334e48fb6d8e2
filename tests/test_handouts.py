"""The printable handouts: what each says comes from the data, and the pages are generated.

The PDFs themselves are checked in the browser run (tests/book/test_handouts.py); these tests
check the content and the generated MyST pages, without a browser.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import pytest

from crps_evidence import load_all
from crps_evidence.book import handout_pages as hp
from crps_evidence.book import handouts as ho
from crps_evidence.book import notebook as nb
from crps_evidence.book.overview import landing_table
from crps_evidence.current.searches import search_status
from crps_evidence.evidence.references import format_reference, short_citation
from crps_evidence.stats.certainty import NO_STUDIES, headline
from crps_evidence.stats.findings import lead_findings, plain_effect

from .conftest import ROOT


@pytest.fixture(scope="module")
def evidence():
    return load_all()


@pytest.fixture(scope="module")
def handouts(evidence) -> dict[str, ho.Handout]:
    return {h.treatment_id: h for h in ho.make_handouts(evidence)}


@pytest.fixture(scope="module")
def pages(evidence) -> dict[str, str]:
    return hp.handout_pages(evidence)


def _plain(markdown: str) -> str:
    """Markdown with its escapes and emphasis removed (what a reader sees, roughly)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("**", "")


def test_a_page_for_every_treatment_plus_the_summary_and_the_list(evidence, pages) -> None:
    expected = {f"{t}.md" for t in evidence.treatments["id"]} | {"index.md",
                                                                  "all-treatments.md"}
    assert set(pages) == expected
    index = pages["index.md"]
    toctree = index[index.index("```{toctree}"):]
    for treatment_id in evidence.treatments["id"]:
        assert f"\n{treatment_id}\n" in toctree, treatment_id
        assert f"]({treatment_id}.md)" in index, treatment_id


def test_each_page_says_what_the_data_says(evidence, pages) -> None:
    landing = landing_table(evidence).reset_index(drop=True)
    lead = lead_findings(evidence)
    for i, row in evidence.treatments.reset_index(drop=True).iterrows():
        page = _plain(pages[f"{row['id']}.md"])
        assert f"# {row['name']}\n" in page
        assert str(row["plain_summary"]) in page, row["id"]
        assert "## What the studies show" in page
        if row["id"] in lead:  # the statement and the size of the summary of findings
            assert f"- {lead[row['id']].statement}\n" in page, row["id"]
            assert f"- {plain_effect(lead[row['id']])}\n" in page, row["id"]
            studies = (evidence.studies["treatment_id"] == row["id"]).sum()
            assert studies, row["id"]
        else:
            assert "- No study of it in CRPS was found." in page, row["id"]
            assert not (evidence.studies["treatment_id"] == row["id"]).any()
        risks = landing.loc[i, "Main risks"]
        assert (str(risks) if isinstance(risks, str) else "Not ") in page, row["id"]
        assert "Educational material, not medical advice." in page
        assert f"Evidence last reviewed: {ho.readable_date(row['last_reviewed'])}." in page
        assert "## Questions to ask your clinician" in page
        if isinstance(row["notebook"], str):
            assert f"[](../{row['notebook']})" in page


def test_certainty_says_who_rated_it(evidence, handouts, pages) -> None:
    ratings = headline(evidence).set_index("treatment_id")
    for treatment_id, handout in handouts.items():
        rating = ratings.loc[treatment_id]
        page = _plain(pages[f"{treatment_id}.md"])
        if rating["certainty"] == NO_STUDIES:
            assert "No studies found" in page
        elif rating["published"]:
            who = short_citation(evidence.references[rating["rated_by"]])
            assert f"{rating['certainty'].capitalize()} certainty" in page
            assert f"as rated by {who}" in page
            assert handout.sources[0].text == format_reference(
                evidence.references[rating["rated_by"]])
        else:
            assert f"{rating['certainty'].capitalize()} certainty" in page
            assert nb.OUR_RATING in page


def test_a_treatment_without_studies_says_so(pages, handouts) -> None:
    assert handouts["pool-therapy"].trials == ("No study of it in CRPS was found.",)
    page = pages["pool-therapy.md"]
    assert "No studies found" in page and "no sources to list" in page
    assert "Not known: we found no study of it in CRPS." in page
    assert ho.CERTAINTY_QUESTIONS[NO_STUDIES] in _plain(page)


def test_sources_are_the_treatments_studies_with_doi_links(evidence, handouts, pages) -> None:
    bib = evidence.references
    for treatment_id, handout in handouts.items():
        keys = set(evidence.studies.loc[evidence.studies["treatment_id"] == treatment_id,
                                        "bibkey"])
        assert len(handout.sources) <= ho.MAX_SOURCES
        assert len(handout.sources) + handout.more_sources == len(keys | (
            {handout.rated_by} if handout.rated_by else set()))
        page = pages[f"{treatment_id}.md"]
        for key in keys:
            source = ho.source_of(bib[key])
            if source in handout.sources and bib[key].doi:
                assert f"](<https://doi.org/{bib[key].doi}>)" in page, key
        if handout.more_sources:
            assert f"{handout.more_sources} more on the full page" in page, treatment_id
        else:
            assert "more on the full page" not in page, treatment_id
    assert any(h.more_sources for h in handouts.values()), "no handout exercises the overflow"


def test_no_raw_citation_key_or_placeholder_on_any_page(evidence, pages) -> None:
    keys = re.compile(r"\b(" + "|".join(map(re.escape, evidence.references)) + r")\b")
    for name, page in pages.items():
        text = _plain(page)
        hit = keys.search(text)
        assert hit is None, f"{name}: raw key {hit.group(0)!r}"
        for bad in ("<NA>", "nan", "NaN", "REPLACE", "TODO", "n.d."):
            assert not re.search(rf"(?<![\w-]){re.escape(bad)}(?![\w-])", text), (name, bad)


def test_a_reference_without_anything_to_format_is_named_not_keyed(evidence) -> None:
    bare = ho.source_of(evidence.references["pmid27370908"])
    assert bare == ho.Source("A study listed in PubMed",
                             "https://pubmed.ncbi.nlm.nih.gov/27370908/")


def test_questions_come_from_the_one_list_and_vary_by_category(handouts, pages) -> None:
    known = set(ho.GENERAL_QUESTIONS) | set(ho.CATEGORY_QUESTIONS.values()) | set(
        ho.ACCESS_QUESTIONS.values()) | set(ho.CERTAINTY_QUESTIONS.values())
    for treatment_id, handout in handouts.items():
        assert set(handout.questions) <= known
        assert handout.questions[:3] == ho.GENERAL_QUESTIONS
        assert ho.CATEGORY_QUESTIONS[handout.category] in handout.questions
        listed = re.findall(r"^\d+\. (.+)$", pages[f"{treatment_id}.md"].split(
            "## Questions to ask your clinician")[1].split("## Sources")[0], re.M)
        assert [_plain(q) for q in listed] == list(handout.questions)
    assert handouts["scs"].questions != handouts["ketamine"].questions


def test_every_category_and_access_of_the_schema_has_its_words() -> None:
    schema = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for r in schema["resources"] if r["name"] == "treatments"
              for f in r["schema"]["fields"]}
    assert set(fields["category"]["constraints"]["enum"]) == set(ho.CATEGORY_QUESTIONS)
    from crps_evidence.book.notebook import ACCESS_WORDS

    assert set(fields["access"]["constraints"]["enum"]) == set(ACCESS_WORDS)


def test_every_handout_says_when_the_search_was_last_run(evidence, pages) -> None:
    status = search_status()
    for row in evidence.treatments.itertuples():
        last = status[row.id].last_run
        words = (ho.readable_date(last.isoformat())
                 + (", by hand" if status[row.id].how == "by hand" else "") if last
                 else "not yet searched by this collection")
        assert f"Searches last run: {words}." in _plain(pages[f"{row.id}.md"]), row.id


def test_text_from_the_data_is_escaped(handouts) -> None:
    odd = dataclasses.replace(handouts["hbot"], summary="Costs $5 *or* <b>more</b> [1]",
                              risks="50% _less_")
    page = hp.handout_page(odd)
    assert r"Costs \$5 \*or\* \<b\>more\</b\> \[1\]" in page
    assert r"50% \_less\_" in page


def test_summary_lists_every_treatment_and_links_its_handout(evidence, pages) -> None:
    summary = pages["all-treatments.md"]
    for row in evidence.treatments.itertuples():
        assert f'<a href="{row.id}.html">{html.escape(row.name)}</a>' in summary
    rated = headline(evidence)
    for key in rated.loc[rated["published"], "rated_by"].unique():
        assert format_reference(evidence.references[key]) in _plain(summary)
    dates = sorted(set(evidence.treatments["last_reviewed"].dropna().astype(str)))
    when = (ho.readable_date(dates[0]) if len(dates) == 1
            else f"between {ho.readable_date(dates[0])} and {ho.readable_date(dates[-1])}")
    assert f"Evidence last reviewed:** {when}." in summary


def test_pages_for_sparse_data_still_read_well(minidata: Path) -> None:
    evidence = load_all(minidata / "data", bib=minidata / "references.bib")
    pages = hp.handout_pages(evidence)
    for row in evidence.treatments.itertuples():
        page = pages[f"{row.id}.md"]
        assert "<NA>" not in page and "nan" not in page.split()
        if not isinstance(row.plain_summary, str):
            assert "No summary has been written yet." in page
        if not isinstance(row.notebook, str):
            assert "the pages of the collection" in page


def test_writing_is_idempotent_and_keeps_files_written_by_hand(tmp_path: Path,
                                                               evidence) -> None:
    folder = tmp_path / "handouts"
    written = hp.write_handout_pages(folder, evidence)
    assert len(written) == len(evidence.treatments) + 2
    assert hp.write_handout_pages(folder, evidence) == []
    stale = folder / "retired-treatment.md"
    stale.write_text(hp.MARKER + "\n# Gone\n", encoding="utf-8")
    mine = folder / "notes.md"
    mine.write_text("# Written by hand\n", encoding="utf-8")
    (folder / "hbot.md").write_text("edited by hand", encoding="utf-8")
    changed = hp.write_handout_pages(folder, evidence)
    assert sorted(p.name for p in changed) == ["hbot.md", "retired-treatment.md"]
    assert not stale.exists() and mine.exists()
    assert (folder / "hbot.md").read_text(encoding="utf-8").startswith("---\n")


def test_readable_dates_do_not_depend_on_the_locale() -> None:
    assert ho.readable_date("2027-01-09") == "9 January 2027"
    assert ho.readable_date("") == "not recorded"
    assert ho.readable_date("spring 2027") == "spring 2027"


def test_unknown_treatment_is_a_clear_error(evidence) -> None:
    with pytest.raises(KeyError, match=r"unknown treatment 'nope'; known: .*ketamine"):
        ho.make_handout("nope", evidence)
