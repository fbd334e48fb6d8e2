"""What a printable one-page handout says about a treatment, gathered from the data.

A handout is for a clinic visit or a class: the plain-language summary, how sure we can be
(who rated it), what the studies show in plain numbers (the leading summary-of-findings
row), the main risks, access, questions
to ask a clinician, when the evidence was last reviewed, the not-medical-advice notice and a
short list of sources with their DOI. Every item comes from the tables (nothing is typed
per treatment); the questions are the generic list kept here, varied by category, access
and certainty. :mod:`crps_evidence.book.handout_pages` turns a :class:`Handout` into a page of
the book, which ``scripts/make_handouts.py`` prints to PDF.

Examples
--------
>>> from crps_evidence import load_all
>>> handout = make_handout("hbot", load_all())
>>> handout.name, handout.level
('Hyperbaric oxygen therapy (HBOT)', 'very low')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from ..evidence.counts import RANDOMISED
from ..evidence.references import Reference, citation_name, format_reference
from ..evidence.tables import Evidence
from ..stats.certainty import NO_STUDIES, headline
from ..stats.findings import Finding, basis_words, lead_findings, plain_effect
from .notebook import ACCESS_WORDS, NOTICE, certainty_sentence, design_phrase
from .overview import landing_table, treatment_summary

__all__ = [
    "HANDOUT_NOTICE",
    "MAX_SOURCES",
    "Handout",
    "Source",
    "clinician_questions",
    "make_handout",
    "make_handouts",
    "readable_date",
    "search_dates",
    "source_of",
]

#: The notice every notebook carries, worded for a handout.
HANDOUT_NOTICE = NOTICE.replace("This notebook", "This handout")

#: At most this many sources on a handout; the rest are counted and left to the full page.
MAX_SOURCES = 6

# ------------------------------------------------------------- questions for a clinician
# The one place the questions live. Every handout asks the general ones, then the one for
# its category, then those for its access and its certainty when there is one.

GENERAL_QUESTIONS = (
    "What do you hope this will change for me, and how will we tell whether it is working?",
    "Which side effects should I look out for, and whom do I contact if they happen?",
    "What are the other options, including waiting or doing nothing for now?",
)

CATEGORY_QUESTIONS = {
    "medication": "How does it fit with the other medicines I take, and is it licensed for "
                  "CRPS or used off label?",
    "topical": "How is it made up and applied, and is it licensed for CRPS or used off label?",
    "infusion": "How many sessions or days would it take, and would I stay in hospital?",
    "apheresis": "How many sessions would it take, and how would the line into my vein be "
                 "placed and looked after?",
    "rehabilitation": "Who would guide the exercises, and how much would I practise at home?",
    "injection": "How many injections might I need, and how would we judge whether one "
                 "helped?",
    "external device": "Can I try the device before buying or renting it, and who shows me "
                       "how to use it?",
    "implanted device": "Is there a trial period before the full implant, and what happens "
                        "if the device has to be adjusted, replaced or removed?",
    "chamber": "How many sessions would it take, and is it safe with my ears, lungs and "
               "other conditions?",
    "psychological": "Who would provide this, how many sessions or weeks would it take, and "
                     "how would it fit with my other treatment?",
}

ACCESS_QUESTIONS = {
    "specialist procedure": "Who offers this, how would I be referred, and how long is the "
                            "wait?",
    "over the counter": "Is the product I can buy the same as the one the studies used?",
}

CERTAINTY_QUESTIONS = {
    NO_STUDIES: "No study of this in CRPS was found: why do you suggest it, and how would we "
                "decide whether to stop?",
    "very low": "The evidence is very uncertain: why do you think it could help me, and when "
                "would we decide whether to stop?",
}


def clinician_questions(category: str, access: str, certainty: str) -> tuple[str, ...]:
    """The questions a handout suggests asking, from the one list kept in this module.

    Parameters
    ----------
    category : str
        ``treatments.category`` (``medication``, ``infusion`` ...).
    access : str
        ``treatments.access``.
    certainty : str
        The headline certainty: a GRADE level or :data:`~crps_evidence.stats.certainty.NO_STUDIES`.

    Returns
    -------
    tuple of str
        The general questions, then those for the category, the access and the certainty
        that have one (four to six questions).

    Examples
    --------
    >>> questions = clinician_questions("implanted device", "specialist procedure", "low")
    >>> len(questions), "trial period" in questions[3]
    (5, True)
    """
    extra = (CATEGORY_QUESTIONS.get(category), ACCESS_QUESTIONS.get(access),
             CERTAINTY_QUESTIONS.get(certainty))
    return GENERAL_QUESTIONS + tuple(q for q in extra if q)


# ----------------------------------------------------------------------- dates and hooks

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def readable_date(value: object) -> str:
    """An ISO date in words, the same in every locale (``2026-12-02`` -> ``2 December 2026``).

    Returns ``"not recorded"`` for a missing value and the value itself when it is not an
    ISO date.

    Examples
    --------
    >>> readable_date("2026-12-02"), readable_date(None)
    ('2 December 2026', 'not recorded')
    """
    if value is None or pd.isna(value) or not str(value).strip():
        return "not recorded"
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        return str(value)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def search_dates(evidence: Evidence) -> dict[str, str]:
    """When the recorded literature search of each treatment was last run, in words.

    From :func:`crps_evidence.current.searches.search_status` (``data/search_log.csv`` and
    ``data/searches.csv``): a date in words (", by hand" when it was searched by hand), or
    "not yet searched by this collection". Every handout prints it as "Searches
    last run: ..." beside "Evidence last reviewed: ...". Called once for all the handouts.

    Parameters
    ----------
    evidence : Evidence
        Loaded data (the treatments whose dates are wanted).

    Returns
    -------
    dict of str to str
        Treatment id to the date in words (see :func:`readable_date`).

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> search_dates(load_all())["ketamine"]
    '7 December 2026, by hand'
    """
    from ..current.searches import search_status

    status = search_status(evidence.folder)
    return {t: readable_date(s.last_run.isoformat()) + (", by hand" if s.how == "by hand" else "")
            if s.last_run else "not yet searched by this collection"
            for t, s in status.items() if t in set(evidence.treatments["id"])}


# ------------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """One entry of a handout's source list: the reference in words and where to find it."""

    text: str
    url: str


def source_of(ref: Reference) -> Source:
    """A reference as a handout lists it: the formatted text and its DOI (else PubMed) URL.

    An entry with nothing to format (a bare PMID) is named as citations name it, never by
    its key.

    Examples
    --------
    >>> source_of(Reference("k", "misc", {"pmid": "123"}))
    Source(text='A study listed in PubMed', url='https://pubmed.ncbi.nlm.nih.gov/123/')
    """
    if ref.doi:
        url = f"https://doi.org/{ref.doi}"
    elif ref.pmid:
        url = f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"
    else:
        url = ref.get("url")
    return Source(format_reference(ref) or citation_name(ref), url)


def _source_keys(treatment_id: str, evidence: Evidence, rated_by: str) -> list[str]:
    """The rating's source first, then the studies: randomised trials first, newest first."""
    studies = evidence.studies[evidence.studies["treatment_id"] == treatment_id]
    bib = evidence.references

    def order(row: pd.Series) -> tuple[int, int]:
        year = bib[row["bibkey"]].year
        return (0 if row["design"] in RANDOMISED else 1, -int(year) if year.isdigit() else 0)

    ranked = sorted((order(row), i, row["bibkey"]) for i, (_, row) in
                    enumerate(studies.iterrows()))
    keys = [rated_by] if rated_by else []
    return list(dict.fromkeys(keys + [key for _, _, key in ranked]))


# ------------------------------------------------------------------------------ handout


@dataclass(frozen=True)
class Handout:
    """Everything a treatment's handout says, in reading order.

    Attributes
    ----------
    treatment_id, name, category : str
        From ``treatments.csv``.
    summary : str
        ``plain_summary`` (empty when the row has none).
    level : str
        The headline certainty: a GRADE level or "no studies found".
    certainty : str
        The certainty sentence of the notebooks (Markdown, says who rated it).
    rated_by : str
        The bibkey of the published rating that leads, or "" (ours, or no studies).
    trials : tuple of str
        What the studies found, in plain numbers, one sentence each.
    risks, access : str
        The main risks (as on the landing table) and access, in words.
    questions : tuple of str
        From :func:`clinician_questions`.
    reviewed : str
        ``last_reviewed`` in words.
    searched : str or None
        From the :func:`search_dates` hook (``None`` while it has no date).
    sources : tuple of Source
        At most :data:`MAX_SOURCES`; ``more_sources`` counts those left to the full page.
    notebook : str
        The notebook that covers the treatment (``treatments.notebook``), or "".
    parent : tuple of str, optional
        ``(id, name)`` of the treatment this one is part of.
    parts : tuple
        ``(id, name)`` of its sub-modalities.
    """

    treatment_id: str
    name: str
    category: str
    summary: str
    level: str
    certainty: str
    rated_by: str
    trials: tuple[str, ...]
    risks: str
    access: str
    questions: tuple[str, ...]
    reviewed: str
    searched: str | None
    sources: tuple[Source, ...]
    more_sources: int
    notebook: str
    parent: tuple[str, str] | None
    parts: tuple[tuple[str, str], ...]


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value).strip()


@dataclass(frozen=True)
class _Tables:
    """The tables every handout reads, computed once for all of them (each takes seconds)."""

    evidence: Evidence
    treatments: pd.DataFrame
    landing: pd.DataFrame
    counts: pd.DataFrame
    ratings: pd.DataFrame
    searched: dict[str, str]
    findings: dict[str, Finding]

    @classmethod
    def of(cls, evidence: Evidence) -> _Tables:
        return cls(evidence, evidence.treatments.reset_index(drop=True),
                   landing_table(evidence).reset_index(drop=True),
                   treatment_summary(evidence, roll_up=False).set_index("id"),
                   headline(evidence), search_dates(evidence), lead_findings(evidence))


#: Main risks when the data gives none: with studies, and without any.
_NO_RISKS = {True: "Not reported in the studies we read.",
             False: "Not known: we found no study of it in CRPS."}


def _trial_lines(tables: _Tables, treatment_id: str) -> tuple[str, ...]:
    """What the studies show: the leading finding's statement, size and basis; other studies."""
    studies = tables.evidence.studies
    studies = studies[studies["treatment_id"] == treatment_id]
    lead = tables.findings.get(treatment_id)
    if lead is None:
        return ("No study of it in CRPS was found.",)
    lines = [lead.statement, plain_effect(lead), basis_words(lead)]
    others = studies[~studies["id"].isin(lead.study_ids)]
    if len(others):
        trials = others[others["design"].isin(RANDOMISED)]
        lines.append(f"We also hold {design_phrase(others)}."
                     + (" They look at other outcomes or comparisons." if len(trials) else ""))
    return tuple(lines)


def _handout(tables: _Tables, position: int) -> Handout:
    evidence, treatments = tables.evidence, tables.treatments
    row, landing = treatments.loc[position], tables.landing.loc[position]
    treatment_id = str(row["id"])
    rating = tables.ratings.set_index("treatment_id").loc[treatment_id]
    names = dict(zip(treatments["id"], treatments["name"], strict=True))
    rated_by = str(rating["rated_by"]) if rating["published"] else ""
    keys = _source_keys(treatment_id, evidence, rated_by)
    parent = _text(row["parent"])
    return Handout(
        treatment_id=treatment_id,
        name=str(row["name"]),
        category=str(row["category"]),
        summary=_text(row["plain_summary"]),
        level=str(rating["certainty"]),
        certainty=certainty_sentence(treatment_id, evidence, tables.ratings),
        rated_by=rated_by,
        trials=_trial_lines(tables, treatment_id),
        risks=_text(landing["Main risks"]) or _NO_RISKS[bool(tables.counts.loc[
            treatment_id, ["rcts", "other_studies"]].sum())],
        access=ACCESS_WORDS.get(str(row["access"]), str(row["access"])),
        questions=clinician_questions(str(row["category"]), str(row["access"]),
                                      str(rating["certainty"])),
        reviewed=readable_date(row["last_reviewed"]),
        searched=tables.searched.get(treatment_id),
        sources=tuple(source_of(evidence.references[k]) for k in keys[:MAX_SOURCES]),
        more_sources=max(len(keys) - MAX_SOURCES, 0),
        notebook=_text(row["notebook"]),
        parent=(parent, names[parent]) if parent else None,
        parts=tuple((str(t), names[t]) for t in
                    treatments.loc[treatments["parent"] == treatment_id, "id"]),
    )


def make_handouts(evidence: Evidence) -> list[Handout]:
    """Every treatment's handout, in the order of ``treatments.csv``.

    Parameters
    ----------
    evidence : Evidence
        From :func:`crps_evidence.load_all`.

    Returns
    -------
    list of Handout

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> evidence = load_all()
    >>> len(make_handouts(evidence)) == len(evidence.treatments)
    True
    """
    tables = _Tables.of(evidence)
    return [_handout(tables, position) for position in range(len(tables.treatments))]


def make_handout(treatment_id: str, evidence: Evidence) -> Handout:
    """Gather one treatment's handout from the data.

    Parameters
    ----------
    treatment_id : str
        A ``treatments.id``.
    evidence : Evidence
        From :func:`crps_evidence.load_all`.

    Returns
    -------
    Handout

    Raises
    ------
    KeyError
        For an unknown treatment id (the message lists the known ones).

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> make_handout("pool-therapy", load_all()).trials
    ('No study of it in CRPS was found.',)
    """
    ids = evidence.treatments["id"].tolist()
    if treatment_id not in ids:
        raise KeyError(f"unknown treatment {treatment_id!r}; known: {', '.join(sorted(ids))}")
    return _handout(_Tables.of(evidence), ids.index(treatment_id))
