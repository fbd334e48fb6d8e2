"""Loading, checking and formatting the BibTeX references (bibtexparser v2)."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock
from pylatexenc.latex2text import LatexNodes2Text

from ..errors import DataError
from .paths import bibliography_path

#: A DOI: ``10.`` and a registrant code of digits (dotted sub-codes allowed), ``/``, and a
#: suffix of printable ASCII without spaces, quotes, backslashes or braces.
DOI_PATTERN = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/[!#-\[\]-z|~]+$")
#: The longest DOI accepted (registered DOIs are far shorter).
MAX_DOI_LENGTH = 300
PMID_PATTERN = re.compile(r"^[1-9]\d{0,8}$")
_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_STOPWORDS = frozenset(
    "a an and at by for from in into is of on or the to with".split()
)
#: Fields written for people: their LaTeX markup ({\\"o}, {CRPS}, ``quotes'') is decoded.
#: Identifiers (doi, pmid, url) and pages are kept exactly as written.
TEXT_FIELDS = frozenset(
    "author editor title journal booktitle publisher institution organization school address "
    "note type series howpublished".split()
)
_LATEX = LatexNodes2Text()
_UNESCAPED_SPECIAL = re.compile(r"(?<!\\)([%&#$_])")


def latex_to_text(value: str) -> str:
    """Plain Unicode text of a BibTeX field value: accents decoded, protective braces dropped.

    A bare ``%`` or ``&`` (which BibTeX would need escaped) is kept as the character.

    >>> latex_to_text(r"Fr{\\"o}lke and the ``{Budapest} Criteria'' of {(R)-}ketamine, 50% & more")
    'Frölke and the “Budapest Criteria” of (R)-ketamine, 50% & more'
    """
    if not re.search(r"[\\{}`'~]", value):
        return value
    return _LATEX.latex_to_text(_UNESCAPED_SPECIAL.sub(r"\\\1", value)).strip()


def _split_names(raw: str) -> list[str]:
    """Split a BibTeX name list on ``and`` outside braces."""
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", raw):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            names.append(raw[start:match.start()])
            start = match.end()
    names.append(raw[start:])
    return [n.strip() for n in names if n.strip()]


def _is_corporate(raw_name: str) -> bool:
    """A name braced as a whole, e.g. ``{National Institute for Health and Care Excellence}``."""
    if not (raw_name.startswith("{") and raw_name.endswith("}")):
        return False
    depth = 0
    for i, char in enumerate(raw_name):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return i == len(raw_name) - 1
    return False


@dataclass(frozen=True)
class Reference:
    """One bibliography entry.

    Attributes
    ----------
    key : str
        Citation key.
    entry_type : str
        BibTeX type, e.g. ``article``.
    fields : dict
        Field name (lower case) to value as written in the file (LaTeX markup kept).
    line : int
        Line of the file where the entry starts (1-based).
    """

    key: str
    entry_type: str
    fields: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def get(self, name: str, default: str = "") -> str:
        """Return field ``name`` as plain text (LaTeX decoded in :data:`TEXT_FIELDS`)."""
        value = self.fields.get(name)
        if value is None:
            return default
        return latex_to_text(value) if name in TEXT_FIELDS else value

    @property
    def authors(self) -> list[str]:
        """Authors as plain text (``Surname, Given``); a braced corporate name stays whole."""
        return [latex_to_text(a) for a in _split_names(self.fields.get("author", ""))]

    @property
    def surnames(self) -> list[str]:
        """Surnames of the authors (a corporate author's whole name), without ``others``."""
        return [
            latex_to_text(raw) if _is_corporate(raw) else surname(latex_to_text(raw))
            for raw in _split_names(self.fields.get("author", ""))
            if raw.lower() != "others"
        ]

    @property
    def year(self) -> str:
        return self.get("year")

    @property
    def doi(self) -> str:
        return self.get("doi")

    @property
    def pmid(self) -> str:
        return self.get("pmid")


class Bibliography(Mapping[str, Reference]):
    """The references of one ``.bib`` file, keyed by citation key, in file order."""

    def __init__(self, path: Path, references: dict[str, Reference]) -> None:
        self.path = path
        self._refs = references

    def __getitem__(self, key: str) -> Reference:
        try:
            return self._refs[key]
        except KeyError:
            raise KeyError(f"no reference with key {key!r} in {self.path}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __repr__(self) -> str:
        return f"Bibliography({str(self.path)!r}, {len(self)} entries)"


#: Loggers bibtexparser reports parse problems on (``logging`` prints them to the console
#: when the application configured no handler, on top of the error raised here).
BIBTEXPARSER_LOGGERS = (
    "bibtexparser.splitter",
    "bibtexparser.entrypoint",
    "bibtexparser.middlewares.middleware",
    "bibtexparser.middlewares.fieldkeys",
    "bibtexparser.middlewares.latex_encoding",
)


class _Hold(logging.Filter):
    """Keep log records to itself (``messages``) instead of letting them be printed."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.messages.append(record.getMessage())
        return False


@contextmanager
def quiet_bibtexparser() -> Iterator[list[str]]:
    """Silence bibtexparser's own log messages for the duration of a parse.

    What a parse problem means is reported by this package (a :class:`DataError` or
    :class:`ValueError` naming the line); bibtexparser's console message would say it a
    second time. The held messages are yielded for callers that want them.

    Examples
    --------
    >>> with quiet_bibtexparser() as held:
    ...     library = bibtexparser.parse_string("@article{a, title = {x}\\n@article{b, year=1}")
    >>> len(library.failed_blocks), "aborted" in held[0]
    (1, True)
    """
    hold = _Hold()
    loggers = [logging.getLogger(name) for name in BIBTEXPARSER_LOGGERS]
    for logger in loggers:
        logger.addFilter(hold)
    try:
        yield hold.messages
    finally:
        for logger in loggers:
            logger.removeFilter(hold)


def _reason(block: object) -> str:
    """Why bibtexparser could not parse a block, in its own words."""
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", None) or (str(error) if error else "")
    return " ".join(reason.split()) or "the block does not parse"


def _line_of(block: object) -> int | None:
    line = getattr(block, "start_line", None)
    return None if line is None else line + 1


def load_references(path: str | Path | None = None) -> Bibliography:
    """Load ``references.bib`` into a :class:`Bibliography`.

    Parameters
    ----------
    path : str or Path, optional
        The ``.bib`` file; defaults to the project's ``references.bib``.

    Returns
    -------
    Bibliography
        Mapping from citation key to :class:`Reference`.

    Raises
    ------
    DataError
        For a block bibtexparser could not parse, a duplicate key, or a duplicate field,
        naming the file, the line and the key or field.

    Examples
    --------
    >>> bib = load_references()
    >>> all(ref.key == key for key, ref in bib.items())
    True
    """
    path = Path(path) if path is not None else bibliography_path()
    if not path.is_file():
        raise DataError(path, "file not found")
    with quiet_bibtexparser():
        library = bibtexparser.parse_file(str(path))
    for block in library.failed_blocks:
        line = _line_of(block)
        if isinstance(block, DuplicateBlockKeyBlock):
            raise DataError(path, "duplicate citation key", line=line, field="key",
                            value=block.key)
        if isinstance(block, DuplicateFieldKeyBlock):
            dupes = ", ".join(sorted(block.duplicate_keys))
            entry = block.ignore_error_block
            raise DataError(path, f"field given twice in entry {entry.key!r}",
                            line=_line_of(entry) or line, field=dupes)
        first = (getattr(block, "raw", "") or "").strip().splitlines()
        raise DataError(path, f"malformed BibTeX block: {_reason(block)}",
                        line=line, field="entry", value=first[0][:80] if first else None)
    refs: dict[str, Reference] = {}
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value).strip() for f in entry.fields}
        refs[entry.key] = Reference(entry.key, entry.entry_type.lower(), fields,
                                    (entry.start_line or 0) + 1)
    return Bibliography(path, refs)


def normalize_doi(doi: str) -> str:
    """Return a DOI without resolver prefix and in lower case.

    >>> normalize_doi("https://doi.org/10.1016/J.PAIN.2009.06.023")
    '10.1016/j.pain.2009.06.023'
    """
    return _DOI_PREFIXES.sub("", doi.strip()).lower()


def doi_problem(doi: str) -> str | None:
    """Why ``doi`` is not a bare, well-formed DOI, or ``None`` when it is one.

    The syntax of the DOI Handbook (``10.<registrant>/<suffix>``), limited to what a
    request and a BibTeX field can carry safely: at most :data:`MAX_DOI_LENGTH` characters,
    printable ASCII without spaces, quotes, backslashes or braces, no ``.`` or ``..`` path
    segment (which would lead a request out of the resolver's path) and no HTML tag
    (``<`` is allowed before a digit, as in SICI DOIs ``...43:4<448::AID-JBM14>3.0.CO;2-H``).

    Examples
    --------
    >>> doi_problem("10.1000/../../etc/passwd")
    "a '.' or '..' path segment"
    >>> doi_problem("10.1000/<script>"), doi_problem("10.1016/j.pain.2009.06.023")
    ('markup in the suffix', None)
    """
    if len(doi) > MAX_DOI_LENGTH:
        return f"{len(doi)} characters, more than {MAX_DOI_LENGTH}"
    if not DOI_PATTERN.match(doi):
        return "expected '10.<registrant>/<suffix>' in printable characters"
    if any(part in {".", ".."} for part in doi.split("/")[1:]):
        return "a '.' or '..' path segment"
    if re.search(r"<[A-Za-z/!?]", doi):
        return "markup in the suffix"
    return None


def is_valid_doi(doi: str) -> bool:
    """Whether ``doi`` is a bare, well-formed DOI (see :func:`doi_problem`).

    >>> is_valid_doi("10.1000/abc"), is_valid_doi("10.1000/" + "x" * 400)
    (True, False)
    """
    return doi_problem(doi) is None


def is_valid_pmid(pmid: str) -> bool:
    """Whether ``pmid`` is a PubMed id (digits only, no leading zero)."""
    return bool(PMID_PATTERN.match(pmid))


def _ascii_lower(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def surname(author: str) -> str:
    """Surname of an author written ``Surname, Given`` or ``Given Surname``."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    return author.split()[-1] if author else ""


def make_key(first_author: str, year: str | int, title: str) -> str:
    """Citation key in the project's style: surname + year + first significant title word.

    >>> make_key("van Hilten, Jacobus J.", 2009, "The effect of ketamine")
    'vanhilten2009effect'
    """
    words = [_ascii_lower(w) for w in re.split(r"[\s\-/:]+", title)]
    word = next((w for w in words if w and w not in _STOPWORDS), "")
    return f"{_ascii_lower(surname(first_author))}{year}{word}"


_SUBTITLE = re.compile(r"(?<=\?)\s|:\s|\.\s")
_REGISTRY_NOTE = re.compile(r"\s*\((?:ClinicalTrials\.gov|NCT\d)[^()]*(?:\([^()]*\)[^()]*)*\)\s*$")


def short_title(title: str) -> str:
    """The main title of a work, whole: never cut inside it, never ended with "…".

    The subtitle (after the first ``: ``, ``. `` or a question mark) and a closing registry
    note such as ``(ClinicalTrials.gov NCT02402530, ...)`` are left out; a title in square
    brackets (a translated or descriptive title) keeps its brackets; BibTeX's ``--`` is an
    en dash.

    Examples
    --------
    >>> short_title("GRADE Guidance 34: update on rating imprecision")
    'GRADE Guidance 34'
    >>> short_title("Is rehabilitation due to attention? A randomised clinical trial")
    'Is rehabilitation due to attention?'
    >>> short_title("Neridronic Acid in CRPS-I (ClinicalTrials.gov NCT02402530; A Trial)")
    'Neridronic Acid in CRPS-I'
    >>> short_title("[Vitamin C after wrist fracture: report of Zollinger 2007]")
    '[Vitamin C after wrist fracture]'
    """
    text = " ".join(title.replace("--", "–").split())
    bracketed = text.startswith("[") and text.endswith("]")
    if bracketed:
        text = text[1:-1]
    main = _SUBTITLE.split(text, maxsplit=1)[0].strip()
    main = _REGISTRY_NOTE.sub("", main).strip() or text
    return f"[{main}]" if bracketed else main


def _described(ref: Reference) -> str:
    """A name for an entry with no author, organisation or title: what it is, never its id."""
    year = f" {ref.year}" if ref.year else ""
    if ref.get("journal"):
        return f"A{year} study in {ref.get('journal')}"
    if ref.pmid:
        return f"A{year} study listed in PubMed"
    if ref.doi or year:
        return f"A{year} study"
    return "Unnamed reference"


def _is_described(ref: Reference) -> bool:
    return not (ref.surnames or ref.fields.get("editor") or ref.get("organization")
                or ref.get("institution") or ref.get("title"))


def citation_name(ref: Reference) -> str:
    """Who a citation names: the authors, else the organisation, the title or what it is.

    One author gives the surname, two give both (``Kemler & Barendse``), three or more (or
    a list ending in ``and others``) give ``Surname et al.``; a braced author such as
    ``{National Institute for Health and Care Excellence}`` is an organisation and is named
    whole. Without an author: the ``organization`` or ``institution`` field, else the main
    title in quotes (:func:`short_title`, whole, never cut off), else a description by year
    and journal (``A 2009 study in Foot and Ankle Surgery``, ``A study listed in PubMed``).
    Never the citation key, a PMID or a DOI: those mean nothing to a reader, and the
    reference list links them.

    Parameters
    ----------
    ref : Reference
        A bibliography entry.

    Returns
    -------
    str

    Examples
    --------
    >>> citation_name(Reference("k", "article", {"author": "Ferraro, M. C. and others"}))
    'Ferraro et al.'
    >>> citation_name(Reference("k", "misc", {"title": "TENS for neuropathic pain: a review"}))
    '“TENS for neuropathic pain”'
    >>> citation_name(Reference("pmid123", "misc", {"pmid": "123"}))
    'A study listed in PubMed'
    """
    names = ref.surnames
    others = any(raw.lower() == "others" for raw in _split_names(ref.fields.get("author", "")))
    if not names and ref.fields.get("editor"):  # an edited book is named by its editors
        editors = Reference(ref.key, ref.entry_type, {"author": ref.fields["editor"]})
        return f"{citation_name(editors)} (eds)"
    if names:
        if len(names) == 1 and not others:
            return names[0]
        if len(names) == 2 and not others:
            return f"{names[0]} & {names[1]}"
        return f"{names[0]} et al."
    for name in ("organization", "institution"):
        if ref.get(name):
            return ref.get(name)
    if ref.get("title"):
        return f"“{short_title(ref.get('title'))}”"
    return _described(ref)


def citation_year(ref: Reference) -> str:
    """The year a citation prints after :func:`citation_name`: empty when the name has it.

    >>> citation_year(Reference("k", "article", {"author": "Kemler, M.", "year": "2000"}))
    '2000'
    >>> citation_year(Reference("k", "article", {"doi": "10.1/x", "year": "2007"}))
    ''
    """
    return "" if _is_described(ref) else ref.year


def short_citation(ref: Reference) -> str:
    """``Surname et al. year`` style label, e.g. for table rows and plot labels.

    The name part is :func:`citation_name`; the year is left out when the entry has none.
    An entry with no author, organisation or title is named by what it is (its year and
    journal), not by its PMID or DOI, which mean nothing to a reader.

    >>> ref = Reference("k", "article", {"author": "Kemler, M. and Barendse, G.", "year": "2000"})
    >>> short_citation(ref)
    'Kemler & Barendse 2000'
    >>> short_citation(Reference("pmid1", "misc", {"pmid": "1", "year": "2009",
    ...                                            "journal": "Foot and Ankle Surgery"}))
    'A 2009 study in Foot and Ankle Surgery'
    >>> short_citation(Reference("pmid2", "misc", {"pmid": "2"}))
    'A study listed in PubMed'
    """
    return f"{citation_name(ref)} {citation_year(ref)}".strip()


def _initials(given: str) -> str:
    return "".join(p[0] for p in re.split(r"[\s.\-]+", given) if p)


def format_reference(ref: Reference) -> str:
    """Format one reference as a plain-text line (Vancouver-like).

    >>> r = Reference("k", "article", {"author": "Kemler, Marius A. and others",
    ...     "title": "Spinal cord stimulation", "journal": "N Engl J Med", "year": "2000",
    ...     "volume": "343", "number": "9", "pages": "618--624"})
    >>> format_reference(r)
    'Kemler MA, et al. Spinal cord stimulation. N Engl J Med. 2000;343(9):618–624.'
    >>> format_reference(Reference("k", "article", {"doi": "10.1/x", "year": "2007"}))
    'Authors and title not recorded. 2007.'
    >>> format_reference(Reference("k", "misc", {"pmid": "123"}))
    ''
    """
    role = "author" if ref.fields.get("author") else "editor"
    raws = _split_names(ref.fields.get(role, ""))
    people = []
    for raw in raws:
        person = latex_to_text(raw)
        if person.lower() == "others":
            people.append("et al")
            continue
        if "," in person and not _is_corporate(raw):
            last, given = (p.strip() for p in person.split(",", 1))
            people.append(f"{last} {_initials(given)}".strip())
        else:
            people.append(person)
    text = ", ".join(people)
    if text and role == "editor":
        text += ", editors"
    text = f"{text}." if text else ""
    title = ref.get("title").rstrip(".")
    if title:
        text += f" {title}."
    elif not text and (ref.year or ref.get("journal")):  # say so, rather than open on "2007."
        text = "Authors and title not recorded."
    venue = (ref.get("journal") or ref.get("booktitle") or ref.get("publisher")
             or ref.get("institution"))
    if venue:
        text += f" {venue}."
    if ref.entry_type == "techreport" and ref.get("number"):
        text += f" {ref.get('type', 'Report')} {ref.get('number')}."
    if ref.year:
        text += f" {ref.year}"
        if ref.get("volume"):
            text += f";{ref.get('volume')}"
            if ref.get("number"):
                text += f"({ref.get('number')})"
        if ref.get("pages"):
            text += f":{ref.get('pages').replace('--', '–')}"
        text += "."
    return text.strip()
