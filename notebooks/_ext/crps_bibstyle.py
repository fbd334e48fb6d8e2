"""Citation and bibliography styles of the book, from the package's own reference format.

Importing this module registers three plugins (``conf.py`` selects them):

* pybtex formatting style ``crps``: each bibliography-page entry is
  :func:`crps_evidence.evidence.references.format_reference` (the same text as the reference list at
  the end of every notebook), followed by its DOI and PubMed links when the entry has a
  ``doi`` or ``pmid`` field (a ``url`` only when it is ``https`` or ``http``). BibTeX
  ``note`` fields are working notes about verification; they stay in ``references.bib``
  and are not shown to readers.
* pybtex sorting style ``crps``: alphabetical by the name a citation shows, then year, title.
* sphinxcontrib-bibtex referencing style ``crps_author_year``: ``(Kemler et al., 2000)``,
  where the name is :func:`crps_evidence.evidence.references.citation_name` (authors, else the
  organisation, the whole main title, else what the work is: "A 2009 study in Foot and Ankle
  Surgery"; never the citation key, a PMID or a DOI) and an entry without a year shows no year
  (never "n.d."), as does one whose name already gives it.

Every entry is looked up by key in the package's own reading of ``references.bib``
(bibtexparser, LaTeX decoded); an entry the package does not know is rebuilt from pybtex's
fields, so a style never fails on an incomplete entry.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.richtext import HRef, Text
from pybtex.style import FormattedEntry
from pybtex.style.formatting import BaseStyle
from pybtex.style.sorting import BaseSortingStyle
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.template import join, join2, node, post_text, pre_text, reference

from crps_evidence.book.display import safe_url
from crps_evidence.evidence.references import (
    Bibliography,
    Reference,
    citation_name,
    citation_year,
    format_reference,
    load_references,
)

#: The bibliography the styles read; ``conf.py`` may point it elsewhere with :func:`use`.
_BIB_PATH: list[Path | None] = [None]


def use(path: str | Path) -> None:
    """Read entries from ``path`` (the file ``bibtex_bibfiles`` names)."""
    _BIB_PATH[0] = Path(path).resolve()
    _bibliography.cache_clear()


@cache
def _bibliography() -> Bibliography:
    return load_references(_BIB_PATH[0])


def _from_pybtex(entry) -> Reference:
    fields = {name.lower(): str(value) for name, value in entry.fields.items()}
    for role, people in entry.persons.items():
        fields[role.lower()] = " and ".join(str(person) for person in people)
    return Reference(entry.key, entry.type, fields)


def reference_of(entry) -> Reference:
    """The package's :class:`~crps_evidence.evidence.references.Reference` for a pybtex entry."""
    bib = _bibliography()
    return bib[entry.key] if entry.key in bib else _from_pybtex(entry)


def links(ref: Reference) -> list[HRef | Text]:
    """Web, DOI and PubMed links of an entry, in that order (only those it has).

    A ``url`` that is not ``https`` or ``http`` (``javascript:...``) is shown as text, not
    linked (:func:`crps_evidence.book.display.safe_url`); pybtex escapes the text.
    """
    out: list[HRef | Text] = []
    url = ref.get("url")
    if url:
        out.append(HRef(url, url) if safe_url(url) else Text(url))
    if ref.doi:
        out.append(HRef(f"https://doi.org/{ref.doi}", f"doi:{ref.doi}"))
    if ref.pmid:
        out.append(HRef(f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/", f"PMID {ref.pmid}"))
    return out


# ------------------------------------------------------------------ the bibliography page


class CrpsBibliographyStyle(BaseStyle):
    """The package's reference text plus DOI and PubMed links; notes left out."""

    default_sorting_style = "crps"
    default_label_style = "number"

    def format_entry(self, label, entry, bib_data=None):
        ref = reference_of(entry)
        text = format_reference(ref)
        web = links(ref)
        parts: list = [text] if text else [citation_name(ref) + "."]
        if web:
            parts += [" ", Text(" · ").join(web)]
        return FormattedEntry(entry.key, Text(*parts), label)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip("“”").lower()


class CrpsSortingStyle(BaseSortingStyle):
    """Alphabetical by the cited name (accents folded), then year and title."""

    def sorting_key(self, entry):
        ref = reference_of(entry)
        return (_fold(citation_name(ref)), ref.year or "9999", _fold(ref.get("title")),
                entry.key)


# ------------------------------------------------------------------ citations in the text


@node
def _who(children, data):
    """The name a citation shows (never the key)."""
    assert not children
    return Text(citation_name(reference_of(data["entry"])))


@node
def _year(children, data):
    """The year, or nothing (no "n.d."; none when the name already says it)."""
    assert not children
    return Text(citation_year(reference_of(data["entry"])))


@node
def _bracketed_year(children, data):
    assert not children
    year = citation_year(reference_of(data["entry"]))
    return Text("(", year, ")") if year else Text()


@dataclass
class _PersonStyle(PersonStyle):
    """Names from the package (``citation_name``) for every citation role."""

    def author_or_editor_or_title(self, full: bool):
        return _who


@dataclass
class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    """(Name, year) or (Name) when the entry has no year."""

    def inner(self, role_name: str):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text, reference[join(sep=self.author_year_sep)[_who, _year]], post_text,
        ]


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    """Name (year), or the name alone when the entry has no year; the whole is the link."""

    def inner(self, role_name: str):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text, reference[join(sep=self.text_reference_sep)[_who, _bracketed_year]],
            post_text,
        ]


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class CrpsAuthorYearStyle(AuthorYearReferenceStyle):
    """Author-year citations in round brackets: (Kemler et al., 2000)."""

    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    person: PersonStyle = field(default_factory=_PersonStyle)

    def __post_init__(self):
        super().__post_init__()
        for style in (
            _Parenthetical(bracket=self.bracket_parenthetical, person=self.person,
                           author_year_sep=self.author_year_sep,
                           pre_text_sep=self.pre_text_sep, post_text_sep=self.post_text_sep),
            _Textual(bracket=self.bracket_textual, person=self.person,
                     text_reference_sep=self.text_reference_sep,
                     pre_text_sep=self.pre_text_sep, post_text_sep=self.post_text_sep),
        ):
            self.role_style.update((name, style) for name in style.role_names())


pybtex.plugin.register_plugin("pybtex.style.formatting", "crps", CrpsBibliographyStyle, True)
# sphinxcontrib-bibtex asks pybtex for its "plaintext" backend once per citation, and pybtex
# finds a plugin that was not registered at run time by reading the entry points of every
# installed package (about 30 ms a time: a fifth of the book's build). The same classes,
# registered here once, are found by a dict look-up.
for _name in ("docutils", "plaintext"):
    pybtex.plugin.register_plugin(
        "pybtex.backends", _name, pybtex.plugin.find_plugin("pybtex.backends", _name), True)
pybtex.plugin.register_plugin("pybtex.style.sorting", "crps", CrpsSortingStyle, True)
sphinxcontrib.bibtex.plugin.register_plugin(
    "sphinxcontrib.bibtex.style.referencing", "crps_author_year", CrpsAuthorYearStyle, True
)
