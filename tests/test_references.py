"""The bibliography loader: entries by key, and a DataError for each malformed input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crps_evidence import DataError, load_references
from crps_evidence.evidence.references import (
    format_reference,
    is_valid_doi,
    is_valid_pmid,
    make_key,
    normalize_doi,
    short_citation,
)


def test_entries_are_keyed_and_cleaned(minidata: Path) -> None:
    bib = load_references(minidata / "references.bib")
    ref = bib["smith2001alpha"]
    assert ref.get("title") == "SYNTHETIC Alpha infusion for a made-up trial"
    assert ref.authors == ["Smith, Ann", "Brown, Bo"]
    assert ref.line == 1
    assert bib["jones2005alpha"].line == 13
    assert list(bib) == ["smith2001alpha", "jones2005alpha", "lee2010beta", "zed2020review"]


def test_malformed_entry_is_not_dropped_silently(minidata: Path) -> None:
    path = minidata / "references.bib"
    original = path.read_text()
    path.write_text(original + "\n@article{broken2021x,\n  title = {unclosed\n")
    with pytest.raises(DataError) as exc:
        load_references(path)
    assert exc.value.path == path
    assert exc.value.line == len(original.splitlines()) + 2  # after one blank line
    assert "malformed" in str(exc.value)
    assert "broken2021x" in str(exc.value)


def test_malformed_entry_error_is_said_once(minidata: Path, tmp_path: Path) -> None:
    """bibtexparser's own console message is silenced; the package's error carries its reason."""
    path = minidata / "references.bib"
    path.write_text(path.read_text() + "\n@article{broken2021x,\n  title = {unclosed\n"
                    "\n@article{next2022x, title = {Fine}}\n")
    code = ("import sys\nfrom crps_evidence import DataError, load_references\n"
            f"try:\n    load_references({str(path)!r})\n"
            "except DataError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=tmp_path)
    assert result.stderr == ""  # no logging.lastResort line from bibtexparser
    assert "broken2021x" in result.stdout
    assert "Was still looking for field-value closing" in result.stdout  # the reason, once


def test_duplicate_key_is_refused(minidata: Path) -> None:
    path = minidata / "references.bib"
    original = path.read_text()
    path.write_text(original + "\n@article{lee2010beta,\n  title = {Again},\n}\n")
    with pytest.raises(DataError) as exc:
        load_references(path)
    assert exc.value.field == "key"
    assert exc.value.value == "lee2010beta"
    assert exc.value.line == len(original.splitlines()) + 2


def test_duplicate_field_is_refused(minidata: Path) -> None:
    path = minidata / "references.bib"
    path.write_text(path.read_text() + "\n@article{twice2020x,\n  year = {2020},\n"
                    "  year = {2021},\n}\n")
    with pytest.raises(DataError) as exc:
        load_references(path)
    assert exc.value.field == "year"
    assert "twice2020x" in str(exc.value)


@pytest.mark.parametrize(("raw", "clean"), [
    ("https://doi.org/10.1016/J.PAIN.2009.06.023", "10.1016/j.pain.2009.06.023"),
    ("doi: 10.1056/NEJM200008313430904", "10.1056/nejm200008313430904"),
    ("http://dx.doi.org/10.1002/14651858.CD009416.pub2", "10.1002/14651858.cd009416.pub2"),
])
def test_doi_normalisation(raw: str, clean: str) -> None:
    assert normalize_doi(raw) == clean
    assert is_valid_doi(clean)


@pytest.mark.parametrize("bad", ["10.12/x", "doi.org/10.1000/x", "11.1000/x", "10.1000/"])
def test_malformed_dois_are_rejected(bad: str) -> None:
    assert not is_valid_doi(bad)


def test_pmids() -> None:
    assert is_valid_pmid("19604642")
    assert not is_valid_pmid("0123")
    assert not is_valid_pmid("PMC123")


def test_key_style() -> None:
    assert make_key("Müller, Jörg", 2019, "A trial of the thing") == "muller2019trial"
    assert make_key("de Mos, M.", "2007", "The incidence of CRPS") == "demos2007incidence"


def test_formatting(minidata: Path) -> None:
    bib = load_references(minidata / "references.bib")
    assert short_citation(bib["smith2001alpha"]) == "Smith & Brown 2001"
    assert short_citation(bib["lee2010beta"]) == "Lee et al. 2010"
    assert format_reference(bib["smith2001alpha"]) == (
        "Smith A, Brown B. SYNTHETIC Alpha infusion for a made-up trial. "
        "Journal of Fixtures. 2001;1(2):10–20.")


def test_latex_markup_is_decoded_for_readers(tmp_path: Path) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(
        "@article{frolke2015x,\n"
        "  author = {Fr{\\\"o}lke, Jan Paul M. and Noh{\\'e}, Boris},\n"
        "  title = {Ketamine {(R)-} and {(S)-} in the ``{Budapest}'' {CRPS} group},\n"
        "  journal = {Pain},\n  year = {2015},\n  pages = {18--25},\n"
        "  doi = {10.1000/ab_c}\n}\n"
        "@techreport{nice2008x,\n"
        "  author = {{National Institute for Health and Care Excellence}},\n"
        "  title = {Guidance},\n  institution = {NICE},\n  type = {Technology appraisal},\n"
        "  number = {TA1},\n  year = {2008}\n}\n",
        encoding="utf-8",
    )
    bib = load_references(path)
    ref = bib["frolke2015x"]
    assert ref.authors == ["Frölke, Jan Paul M.", "Nohé, Boris"]
    assert ref.get("title") == "Ketamine (R)- and (S)- in the “Budapest” CRPS group"
    assert ref.doi == "10.1000/ab_c"  # identifiers are never decoded
    assert ref.fields["title"].startswith("Ketamine {(R)-}")  # the file's text is kept
    assert short_citation(ref) == "Frölke & Nohé 2015"
    assert format_reference(ref).startswith("Frölke JPM, Nohé B. Ketamine (R)- and (S)-")
    corporate = bib["nice2008x"]
    assert corporate.authors == ["National Institute for Health and Care Excellence"]
    assert short_citation(corporate) == "National Institute for Health and Care Excellence 2008"
    assert "Technology appraisal TA1." in format_reference(corporate)


def test_bare_percent_and_ampersand_survive_decoding() -> None:
    from crps_evidence.evidence.references import latex_to_text

    assert latex_to_text("{Pain} relief of 50% & more") == "Pain relief of 50% & more"
    assert latex_to_text("no markup at all") == "no markup at all"


def test_the_bibliography_reads_without_markup() -> None:
    """No reader-facing label or reference of the project's bibliography shows LaTeX."""
    leftovers = [
        key
        for key, ref in load_references().items()
        for text in (format_reference(ref), short_citation(ref))
        if any(mark in text for mark in "{}\\")
    ]
    assert not leftovers


# ------------------------------------------------- how a work with no author is named (issue 28)


def test_a_work_without_author_or_title_is_described_never_named_by_an_identifier() -> None:
    from crps_evidence.evidence.references import Reference, citation_name, citation_year

    pmid_only = Reference("pmid27370908", "misc", {"pmid": "27370908"})
    doi_year = Reference("x", "article", {"doi": "10.1111/j.1526-4637.2006.00169.x",
                                          "year": "2007"})
    journal = Reference("y", "misc", {"pmid": "1", "journal": "Foot and Ankle Surgery",
                                      "year": "2009"})
    assert citation_name(pmid_only) == "A study listed in PubMed"
    assert citation_name(doi_year) == "A 2007 study"
    assert citation_name(journal) == "A 2009 study in Foot and Ankle Surgery"
    # The year is in the name, so a citation does not print it again: "(A 2007 study)".
    assert citation_year(doi_year) == "" and short_citation(doi_year) == "A 2007 study"


def test_a_title_is_shown_whole_never_cut_inside_a_word() -> None:
    from crps_evidence.evidence.references import Reference, citation_name

    ref = Reference("k", "article", {"title": "Physiotherapy Versus Calcitonin Spray-Added "
                                              "Physiotherapy for Treatment of CRPS",
                                     "year": "2017"})
    assert citation_name(ref) == ("“Physiotherapy Versus Calcitonin Spray-Added Physiotherapy "
                                  "for Treatment of CRPS”")
    assert short_citation(ref).endswith("CRPS” 2017")
    # Two registrations that share the start of their titles stay apart.
    a = Reference("a", "misc", {"title": "Efficacy and Safety of Intravenous Neridronic Acid "
                                         "in CRPS-I (ClinicalTrials.gov NCT02402530; A Trial)"})
    b = Reference("b", "misc", {"title": "Efficacy and Safety of Intravenous Neridronic Acid "
                                         "in CRPS (ClinicalTrials.gov NCT03530345, KF7013-02)"})
    assert citation_name(a) != citation_name(b) and "NCT" not in citation_name(a)


def test_no_label_of_the_bibliography_is_an_identifier_a_cut_title_or_a_dash_year() -> None:
    """Every name a page, table or figure shows for a work of references.bib."""
    from crps_evidence.evidence.references import citation_name

    bad = []
    for key, ref in load_references().items():
        for text in (citation_name(ref), short_citation(ref)):
            if (key in text or "PMID" in text or "doi:" in text or "…" in text
                    or "..." in text or "—" in text or text.endswith("..")):
                bad.append((key, text))
    assert not bad
