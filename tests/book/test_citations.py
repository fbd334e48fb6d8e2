"""How the built book names its sources: never by an identifier, a cut title or a dash year.

Four defects a reader met (issue 28): a PubMed id as a study's name ("(PMID 27370908)"),
titles cut inside a word ("Physiotherapy Versus Calcitoni…"), "—" for a year, and "Johnson et
al.." at the end of a sentence. The names come from
:func:`crps_evidence.evidence.references.citation_name` (citations, via
``notebooks/_ext/crps_bibstyle.py``) and :func:`~crps_evidence.evidence.references.short_citation`
(tables, figures, handouts); this reads every page of ``_build/html`` as a reader gets it.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from conftest import HTML_DIR, book_pages, skip_reason

pytestmark = pytest.mark.book

#: An identifier used as a name: "(PMID 27370908)", "PMID 27370908)", "(doi:10.1/x, 2007)".
IDENTIFIER_AS_NAME = re.compile(
    r"\(\s*(?:PMID \d+|doi:\S+)|(?:PMID \d+|doi:\S+?),?\s*(?:\d{4}\s*)?\)")
#: A title cut off: a quotation that ends in an ellipsis, or a word cut by one.
CUT_TITLE = re.compile(r"\w…”|\w…(?=\s|$)")
DOUBLE_STOP = re.compile(r"\bet al\.\.")


def _reader_text(soup: BeautifulSoup) -> str:
    """The page's text without scripts, styles, code, and the reference lists' link labels."""
    for tag in soup(["script", "style", "pre", "code"]):
        tag.decompose()
    # "[bibliography · doi:... · PMID ...]" after each reference: links named by their address
    for link in soup.select("a[href^='https://pubmed.ncbi.nlm.nih.gov/'], "
                            "a[href^='https://doi.org/']"):
        if re.fullmatch(r"PMID \d+|doi:\S+", link.get_text(strip=True)):
            link.decompose()
    return " ".join(soup.get_text(" ").split())


@pytest.fixture(scope="module")
def pages() -> dict[str, BeautifulSoup]:
    reason = skip_reason()
    if reason and not (HTML_DIR / "index.html").is_file():
        pytest.skip(reason)
    return {page: BeautifulSoup((HTML_DIR / page).read_text(encoding="utf-8"), "html.parser")
            for page in book_pages()}


def _hits(pages, pattern: re.Pattern[str]) -> list[str]:
    found = []
    for page, soup in pages.items():
        text = _reader_text(BeautifulSoup(str(soup), "html.parser"))
        found += [f"{page}: …{text[max(0, m.start() - 60):m.end() + 20]}…"
                  for m in pattern.finditer(text)]
    return found


def test_no_study_is_named_by_its_pubmed_id_or_doi(pages) -> None:
    hits = _hits(pages, IDENTIFIER_AS_NAME)
    cites = [f"{page}: {a.get_text(strip=True)}" for page, soup in pages.items()
             for a in soup.select("a[href*='#cite-']")
             if re.search(r"PMID|doi:", a.get_text())]
    assert not hits + cites, "\n".join(hits + cites)


def test_no_title_is_cut_off(pages) -> None:
    hits = _hits(pages, CUT_TITLE)
    assert not hits, "\n".join(hits)


def test_no_year_is_a_dash(pages) -> None:
    dashes = [page for page, soup in pages.items()
              for cell in soup.select("td[data-label='Year']")
              if cell.get_text(strip=True) in {"—", "–", "-", ""}]
    assert not dashes, dashes


def test_no_sentence_ends_with_two_full_stops_after_et_al(pages) -> None:
    hits = _hits(pages, DOUBLE_STOP)
    assert not hits, "\n".join(hits)
