"""What a patient reads first is written at about school grade 8 (Flesch-Kincaid).

Health-literacy guidance (NHS, Cochrane plain-language summaries) aims at about grade 8. Each
passage is scored on its own, and a failure lists every passage over the limit with its score,
so a writer sees what to shorten. textstat 0.7.3 is pinned: newer versions download a
dictionary at first use.

The passages scored are the plain summaries of ``treatments.csv``, the opening summary of every
numbered notebook (the first markdown cell after its ``# Title`` line) and the definitions of
the glossary page. Citation roles (``{cite:p}`key```) and link targets are taken out before
scoring: the reader sees a name and a year, or the link text, not the markup. The
reader-facing columns of ``treatments.csv``, the openings and the sentences the key points
add are also checked for test statistics, jargon and maintainer text.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

from crps_evidence import load_treatments
from crps_evidence.book import notebook as nb
from crps_evidence.evidence.tables import load_all

from .conftest import ROOT

with warnings.catch_warnings():  # textstat 0.7.3 imports pkg_resources, which warns
    warnings.simplefilter("ignore")
    import textstat

GRADE = 8.0
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
#: The columns of treatments.csv that key points, landing cards and handouts print.
#: (``licensing`` is not among them: it is printed on no page, only in the data download,
#: with the sources a researcher needs.)
READER_COLUMNS = ["plain_summary", "typical_course", "main_adverse_events", "main_risks"]
#: Test statistics, jargon and maintainer text that have no place where patients read.
NOT_FOR_READERS = ["95% CI", "p =", "p<", "p <", "SmPC", "PMID ", "crps-evidence "]

GLOSSARY = ROOT / "notebooks" / "glossary.md"
#: Terms the pages use that the glossary must explain (each the start of a defined term).
GLOSSARY_TERMS = ["Randomised controlled trial", "Placebo and sham", "Crossover trial",
                  "Case series", "Systematic review", "Meta-analysis", "Confidence interval",
                  "Risk ratio", "Mean difference", "Standardised mean difference",
                  "Certainty of evidence", "Risk of bias", "CRPS type I and type II",
                  "Budapest criteria", "Off-label"]

_ROLE = re.compile(r"\{[a-z:-]+\}`[^`]*`")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def reader_text(markdown: str) -> str:
    """Markdown as a reader reads it: without citation roles and link targets.

    >>> reader_text("Less pain {cite:p}`smith2001alpha`; see the [glossary](glossary.md).")
    'Less pain ; see the glossary.'
    """
    return _LINK.sub(r"\1", _ROLE.sub("", markdown))


def opening(path: Path) -> str:
    """The opening summary of a notebook: its first markdown cell without the title line."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
    title, _, rest = first.partition("\n")
    assert title.startswith("# "), f"{path.name}: the first markdown cell has no '# Title'"
    return rest.strip()


def definitions(markdown: str) -> dict[str, str]:
    """The terms of a MyST definition list and their definitions.

    >>> definitions("# Words\\n\\nPlacebo\\n: A dummy.\\n  No medicine.\\n\\nSham\\n: Pretend.")
    {'Placebo': 'A dummy.\\n  No medicine.', 'Sham': 'Pretend.'}
    """
    found = re.findall(r"^([^\s#:][^\n]*)\n: (.*?)(?=\n\n[^\s]|\Z)", markdown, re.M | re.S)
    return {term: text.strip() for term, text in found}


def over_the_limit(passages: dict[str, str]) -> dict[str, float]:
    scores = {name: textstat.flesch_kincaid_grade(text) for name, text in passages.items()}
    return {name: score for name, score in scores.items() if score > GRADE}


def _report(failing: dict[str, float]) -> str:
    return "over grade 8:\n" + "\n".join(
        f"  {score:4.1f}  {name}" for name, score in sorted(failing.items()))


def test_the_scorer_tells_plain_from_dense():
    plain = "Ketamine is a drug. It is given as a drip. Some people had less pain."
    dense = ("Intravenous subanaesthetic ketamine infusions administered over consecutive "
             "days demonstrated statistically significant analgesic superiority versus placebo.")
    assert over_the_limit({"plain": plain, "dense": dense}) == {
        "dense": textstat.flesch_kincaid_grade(dense)}


def test_markup_the_reader_does_not_see_is_not_scored():
    cited = ("Pain fell {cite:p}`sigtermans2009ketamine,schwartzman2009outpatient`. "
             "Read the [introduction to the evidence](01-introduction.ipynb).")
    assert reader_text(cited) == "Pain fell . Read the introduction to the evidence."
    assert "sigtermans" not in reader_text(cited) and "ipynb" not in reader_text(cited)


def test_the_opening_is_the_text_under_the_title(tmp_path):
    notebook = tmp_path / "99-example.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["# A title\n", "\n", "The summary."]},
        {"cell_type": "markdown", "source": ["## Key points"]}]}), encoding="utf-8")
    assert opening(notebook) == "The summary."


def test_every_plain_summary_is_at_grade_8_or_lower():
    treatments = load_treatments()
    passages = {f"treatments.csv, {row.id}, plain_summary": row.plain_summary
                for row in treatments.itertuples() if isinstance(row.plain_summary, str)}
    assert passages
    failing = over_the_limit(passages)
    assert not failing, _report(failing)


def test_every_reader_column_is_at_grade_8_or_lower():
    """Course, side effects and main risks as key points, the home table and handouts print them.

    Source names in brackets stay in (the reader sees them). The home table's cards are scored
    as shown: *What it is* is the first sentence of the plain summary, and *Main risks* is the
    first sentence of the side effects when a row has no ``main_risks``.
    """
    from crps_evidence.book.overview import landing_table

    treatments = load_treatments()
    passages = {f"treatments.csv, {row['id']}, {column}": row[column]
                for _, row in treatments.iterrows() for column in READER_COLUMNS
                if isinstance(row[column], str)}
    landing = landing_table(load_all())
    passages |= {f"home table, {name}, {column}": text
                 for column in ("What it is", "What the studies show", "Main risks")
                 for name, text in zip(landing["Treatment"], landing[column], strict=True)
                 if isinstance(text, str) and text}
    assert len(passages) > len(treatments)
    failing = over_the_limit(passages)
    assert not failing, _report(failing)


def test_every_certainty_sentence_is_at_grade_8_or_lower():
    """*How sure can we be?* as key points and handouts say it, for every treatment."""
    from crps_evidence.stats.certainty import headline

    evidence = load_all()
    ratings = headline(evidence)
    passages = {f"{tid}, how sure": reader_text(nb.certainty_sentence(tid, evidence, ratings))
                for tid in evidence.treatments["id"]}
    failing = over_the_limit(passages)
    assert not failing, _report(failing)


def test_every_opening_summary_is_at_grade_8_or_lower():
    passages = {f"{path.name}, opening": reader_text(opening(path)) for path in NOTEBOOKS}
    assert passages and all(passages.values())
    failing = over_the_limit(passages)
    assert not failing, _report(failing)


def test_no_test_statistics_jargon_or_maintainer_text_where_patients_read():
    treatments = load_treatments()
    passages = {f"treatments.csv, {row['id']}, {column}": row[column]
                for _, row in treatments.iterrows() for column in READER_COLUMNS
                if isinstance(row[column], str)}
    passages |= {f"{path.name}, opening": reader_text(opening(path)) for path in NOTEBOOKS}
    offenders = [f"  {name}: {term!r}" for name, text in sorted(passages.items())
                 for term in NOT_FOR_READERS if term in text]
    assert not offenders, "not for readers:\n" + "\n".join(offenders)


def test_the_glossary_explains_the_terms_the_pages_use_at_grade_8_or_lower():
    defined = definitions(GLOSSARY.read_text(encoding="utf-8"))
    missing = [term for term in GLOSSARY_TERMS if not any(d.startswith(term) for d in defined)]
    assert not missing, f"glossary.md defines no {missing}"
    failing = over_the_limit({f"glossary.md, {term}": reader_text(text)
                              for term, text in defined.items()})
    assert not failing, _report(failing)


def test_no_test_statistics_jargon_or_maintainer_text_in_generated_sentences():
    """The sentences the key points add to treatments.csv's columns: certainty and dates."""
    from crps_evidence.stats.certainty import headline

    evidence = load_all()
    ratings = headline(evidence)
    sentences = {f"{tid}, {kind}": text for tid in evidence.treatments["id"]
                 for kind, text in (("certainty", nb.certainty_sentence(tid, evidence, ratings)),
                                    ("up to date", nb.up_to_date(tid)))}
    offenders = [f"  {name}: {term!r}" for name, text in sorted(sentences.items())
                 for term in NOT_FOR_READERS if term in text]
    assert not offenders, "not for readers:\n" + "\n".join(offenders)


def test_how_up_to_date_is_said_in_words_for_each_way_a_search_was_run(minidata, monkeypatch):
    """By hand, by the update command, or never; records waiting or not: no command names."""
    path = minidata / "data" / "screening.csv"
    path.write_text(path.read_text(encoding="utf-8") + "".join(
        f"90000010{i},,SYNTHETIC {i},Synth J,2026,,alpha,2026-12-05,to screen,,\n"
        for i in (1, 3)), encoding="utf-8")
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    monkeypatch.setenv("CRPS_EVIDENCE_NO_CACHE", "1")
    nb.clear_cache()
    try:
        said = {tid: nb.up_to_date(tid) for tid in ("alpha", "beta", "alpha-cream")}
    finally:
        nb.clear_cache()
    assert "by hand" in said["alpha"] and "2 records that searches found are still" in said["alpha"]
    assert "by the collection's automatic search" in said["beta"]
    assert "Nothing the search found is still waiting" in said["beta"]
    assert "not yet searched for new studies" in said["alpha-cream"]
    offenders = [(tid, term) for tid, text in said.items() for term in NOT_FOR_READERS
                 if term in text]
    assert not offenders and not any("screened" in text for text in said.values())


def test_what_the_studies_show_is_at_grade_8_or_lower_and_free_of_statistics():
    """Each treatment's leading finding as the home page, key points and handout say it.

    The GRADE statement, the size in plain numbers and what it rests on are one passage (they
    are read together); a passage over grade 8 is named with its score.
    """
    from crps_evidence.stats.findings import lead_findings, what_it_means

    passages = {f"{tid}, what the studies show": what_it_means(row)
                for tid, row in lead_findings(load_all()).items()}
    assert passages
    offenders = [f"  {name}: {term!r}" for name, text in sorted(passages.items())
                 for term in NOT_FOR_READERS if term in text]
    assert not offenders, "not for readers:\n" + "\n".join(offenders)
    failing = over_the_limit(passages)
    assert not failing, _report(failing)


def test_every_summary_of_findings_row_means_something_at_grade_8_or_lower():
    """The *What it means* cell of each row of the summary-of-findings tables."""
    from crps_evidence.stats.findings import plain_effect, summary_of_findings

    rows = summary_of_findings(load_all())
    passages = {f"{r.treatment_id}, {r.domain}, {r.comparison}":
                f"{r.brief_statement} {plain_effect(r)}" for r in rows}
    assert len(passages) == len(rows)
    failing = over_the_limit(passages)
    assert not failing, _report(failing)


def _key_point_passages(treatment_id: str) -> dict[str, str]:
    """Each line of a treatment's key points (its label left out), as a reader reads it."""
    text = nb.key_points(treatment_id).data
    lines = re.split(r"^> - ", text, flags=re.M)[1:]
    passages = {}
    for line in lines:
        label, _, said = line.partition(":** ")
        said = said.replace("\n> ", " ").replace("**", "")
        passages[f"{treatment_id}, key points, {label.strip('* ')}"] = reader_text(said).strip()
    return passages


def test_every_key_point_is_at_grade_8_or_lower():
    """Each line of every treatment's *Key points* box, as its page shows it."""
    passages = {}
    for treatment_id in load_treatments()["id"]:
        passages |= _key_point_passages(treatment_id)
    assert len(passages) > 5 * len(load_treatments())
    failing = over_the_limit(passages)
    assert not failing, _report(failing)


_FENCE = re.compile(r"^```.*$", re.M)
_TOCTREE = re.compile(r"^```\{toctree\}.*?^```", re.M | re.S)
_HTML = re.compile(r"<table.*?</table>", re.S)
_LINK_ITEM = re.compile(r"^- \[[^\]]*\]\([^)]*\)(: .*)?$", re.M)
_ANY_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")


def handout_passages(name: str, markdown: str) -> dict[str, str]:
    """The prose of a handout page, one passage per section, as it is printed.

    Left out: the sources (references), the summary's table (its cells are scored where they
    come from), the names of other handouts, which are titles, not sentences, and the book's
    hidden table of contents.

    >>> handout_passages("x.md", "# X\\n\\nIntro.\\n\\n## Main risks\\n\\nNone.\\n\\n"
    ...                  "## Sources\\n\\n1. A ref.\\n")
    {'x.md, X': 'Intro.', 'x.md, Main risks': 'None.'}
    """
    body = markdown.split("\n# ", 1)[1] if "\n# " in markdown else markdown[2:]
    passages = {}
    for section in re.split(r"\n## ", body):
        title, _, text = section.partition("\n")
        if title in ("Sources", "Published ratings cited"):
            continue
        for left_out in (_TOCTREE, _FENCE, _HTML, _LINK_ITEM, _ANY_LINK):
            text = left_out.sub("", text)
        text = re.sub(r"\s+", " ", text.replace("**", "").replace("*", "")).strip()
        if text:
            passages[f"{name}, {title}"] = text
    return passages


def test_every_handout_is_at_grade_8_or_lower():
    """Every section of every printable handout, the summary and the handouts' index."""
    from crps_evidence.book.handout_pages import handout_pages

    passages = {}
    for name, markdown in handout_pages(load_all()).items():
        passages |= handout_passages(name, markdown)
    assert len(passages) > 5 * len(load_treatments())
    failing = over_the_limit(passages)
    assert not failing, _report(failing)
