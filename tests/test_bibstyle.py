"""The book's citation and bibliography styles (notebooks/_ext/crps_bibstyle.py).

Incomplete entries on purpose: the styles must render whatever fields exist, never show a
citation key or "n.d.", and link every DOI and PMID.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pybtex.database
import pytest
from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks" / "_ext"))

import crps_bibstyle  # noqa: E402

BIB = r"""
@misc{pmid27370908,
  pmid = {27370908},
  note = {Only the abstract was read; authors not seen.}
}
@article{kemler2000spinal,
  author = {Kemler, Marius A. and Barendse, G. A. M. and others},
  title = {Spinal cord stimulation in patients with chronic reflex sympathetic dystrophy},
  journal = {New England Journal of Medicine},
  year = {2000},
  doi = {10.1056/nejm200008313430904},
  pmid = {10969008}
}
@misc{nice2008guide,
  author = {{National Institute for Health and Clinical Excellence}},
  title = {Spinal cord stimulation for chronic pain},
  year = {2008}
}
@article{notitle2007,
  year = {2007},
  doi = {10.1111/j.1526-4637.2006.00169.x}
}
@article{anon2005,
  title = {Is successful rehabilitation of complex regional pain syndrome due to attention?},
  journal = {Pain},
  year = {2005}
}
@article{ferraro2023interventions,
  author = {Ferraro, Michael C. and others},
  title = {Interventions for treating pain},
  journal = {Cochrane Database of Systematic Reviews},
  year = {2023}
}
"""


@pytest.fixture(scope="module")
def entries(tmp_path_factory):
    path = tmp_path_factory.mktemp("bib") / "references.bib"
    path.write_text(BIB, encoding="utf-8")
    crps_bibstyle.use(path)
    yield pybtex.database.parse_string(BIB, "bibtex").entries
    crps_bibstyle.use(ROOT / "references.bib")


def cite(entry, role: str = "p") -> str:
    style = crps_bibstyle.CrpsAuthorYearStyle()
    info = SphinxReferenceInfo(builder=None, fromdocname="a", todocname="bibliography",
                               citation_id="cite-x", title=None, pre_text="", post_text="")
    template = style.outer(role, [style.inner(role)])
    return str(template.format_data({"entry": entry, "reference_info": info, "style": style}))


def test_citations_never_show_the_key_or_nd(entries) -> None:
    shown = {key: cite(entry) for key, entry in entries.items()}
    assert shown == {
        "pmid27370908": "(A study listed in PubMed)",
        "kemler2000spinal": "(Kemler et al., 2000)",
        "nice2008guide": "(National Institute for Health and Clinical Excellence, 2008)",
        "notitle2007": "(A 2007 study)",
        "anon2005": "(“Is successful rehabilitation of complex regional pain syndrome due to "
                    "attention?”, 2005)",
        "ferraro2023interventions": "(Ferraro et al., 2023)",
    }
    for key, text in shown.items():
        assert key not in text and "n.d." not in text and "others" not in text
        # Never an identifier as a name, a title cut off, or a year that is a dash.
        assert "PMID" not in text and "doi:" not in text and "…" not in text
        assert "—" not in text


def test_textual_citations_use_the_same_names(entries) -> None:
    assert cite(entries["kemler2000spinal"], "t") == "Kemler et al. (2000)"
    assert cite(entries["pmid27370908"], "t") == "A study listed in PubMed"
    assert cite(entries["notitle2007"], "t") == "A 2007 study"


def formatted(entries) -> dict[str, str]:
    style = crps_bibstyle.CrpsBibliographyStyle()
    return {e.key: e.text.render_as("html") for e in style.format_entries(entries.values())}


def test_bibliography_entries_link_doi_and_pubmed(entries) -> None:
    html = formatted(entries)
    kemler = html["kemler2000spinal"]
    assert '<a href="https://doi.org/10.1056/nejm200008313430904">' in kemler
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/10969008/">PMID 10969008</a>' in kemler
    assert kemler.startswith("Kemler MA, Barendse GAM, et al. Spinal cord stimulation")
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/27370908/">' in html["pmid27370908"]
    assert "doi.org/10.1111/j.1526-4637.2006.00169.x" in html["notitle2007"]


def test_bibliography_leaves_out_working_notes_and_keys(entries) -> None:
    for key, text in formatted(entries).items():
        assert "Only the abstract was read" not in text
        assert key not in text.replace("pubmed.ncbi.nlm.nih.gov/27370908", "")
        assert "n.d." not in text and "and others" not in text
    assert formatted(entries)["nice2008guide"].startswith(
        "National Institute for Health and Clinical Excellence. Spinal cord stimulation")


def test_bibliography_is_sorted_by_the_cited_name(entries) -> None:
    style = crps_bibstyle.CrpsBibliographyStyle()
    order = [e.key for e in style.format_entries(entries.values())]
    # A 2007 study, A study listed in PubMed, Ferraro, "Is successful ...", Kemler, National ...
    assert order == ["notitle2007", "pmid27370908", "ferraro2023interventions", "anon2005",
                     "kemler2000spinal", "nice2008guide"]
