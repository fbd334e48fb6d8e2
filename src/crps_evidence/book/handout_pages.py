"""The handouts as pages of the book: MyST Markdown made from :mod:`crps_evidence.book.handouts`.

The book's extension ``notebooks/_ext/crps_handouts.py`` writes these pages into
``notebooks/handouts/`` when the book is built (the folder is generated, not committed):

* ``<id>.md``, one per row of ``treatments.csv``
  (its :class:`~crps_evidence.book.handouts.Handout`);
* ``all-treatments.md``, every treatment on one summary;
* ``index.md``, the page that lists them (*Printable handouts*).

Each page carries the class ``crps-handout`` so the book's print stylesheet fits it on one
sheet; ``scripts/make_handouts.py`` prints them to PDF with headless Chromium. Text from the
data is escaped (:func:`~crps_evidence.book.display.md_text`), so a ``*``, ``$`` or ``<``
in a summary shows as written, and an address is linked only when it is ``https`` or ``http``.

Examples
--------
>>> from crps_evidence import load_all
>>> pages = handout_pages(load_all())
>>> [line for line in pages["index.md"].splitlines() if line.startswith("# ")]
['# Printable handouts']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..evidence.tables import Evidence
from .display import md_text, safe_url
from .handouts import (
    GENERAL_QUESTIONS,
    HANDOUT_NOTICE,
    Handout,
    Source,
    make_handouts,
    readable_date,
    source_of,
)
from .overview import landing_table, studies_show_briefly

__all__ = [
    "FOLDER",
    "INDEX",
    "SUMMARY",
    "handout_page",
    "handout_pages",
    "index_page",
    "md_text",
    "summary_page",
    "write_handout_pages",
]

#: The folder of the book (below ``notebooks/``) that holds the generated pages.
FOLDER = "handouts"
#: Page names (without ``.md``) of the summary and of the list of handouts.
SUMMARY = "all-treatments"
INDEX = "index"

MARKER = ("<!-- Generated from data/ by crps_evidence.book.handout_pages when the book is built; "
          "do not edit (changes are overwritten). -->")
_FRONT_MATTER = ("---", "html_theme.sidebar_secondary.remove: true", "---", MARKER, "")
COLLECTION = "CRPS treatment evidence notebooks"

#: A notebook name that may go into a link target as it is (``treatments.notebook``).
_NOTEBOOK = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.ipynb")


def _link(text: str, target: str) -> str:
    return f"[{md_text(text)}]({target})"


def _url(url: str) -> str:
    """A URL shown as itself and linked (``<...>`` keeps a DOI's parentheses as they are);
    an address that may not be linked (:func:`~crps_evidence.book.display.safe_url`) is text.
    """
    href = safe_url(url)
    if href is None:
        return md_text(url)
    return f"[{md_text(href)}](<{href}>)"


def _sources(sources: Sequence[Source]) -> list[str]:
    """A numbered list of sources, each with its address as its link text."""
    items = [f"{i}. {md_text(s.text)}" + (f" {_url(s.url)}" if s.url else "")
             for i, s in enumerate(sources, start=1)]
    return ["```{container} crps-handout-sources", *items, "```", ""]


def _notice() -> list[str]:
    return ["```{important}", HANDOUT_NOTICE, "```", ""]


def _dates(handout: Handout) -> str:
    text = f"**Evidence last reviewed:** {handout.reviewed}."
    if handout.searched:
        text += f" **Searches last run:** {handout.searched}."
    return text


def handout_page(handout: Handout) -> str:
    """The MyST page of one treatment's handout.

    Parameters
    ----------
    handout : Handout
        From :func:`crps_evidence.book.handouts.make_handout`.

    Returns
    -------
    str
        The page's Markdown, ending in a newline.
    """
    # An empty link text: the book shows the title of the page the notebook became.
    full = (f"the full page, [](../{handout.notebook})" if _NOTEBOOK.fullmatch(handout.notebook)
            else "the pages of the collection")
    lines = [*_FRONT_MATTER, f"# {md_text(handout.name)}", "",
             "```{container} crps-handout crps-handout-meta",
             f"A one-page handout from the {COLLECTION}. The sources of every statement "
             f"are on {full}.", "```", "", *_notice()]
    if handout.parent:
        lines += [f"Part of {_link(handout.parent[1], handout.parent[0] + '.md')}.", ""]
    if handout.parts:
        parts = ", ".join(_link(name, f"{tid}.md") for tid, name in handout.parts)
        lines += [f"Its parts have handouts of their own: {parts}.", ""]
    lines += ["## In short", "", md_text(handout.summary) or "No summary has been written yet.",
              "", "## How sure can we be?", "", handout.certainty, "",
              "## What the studies show", ""]
    lines += [f"- {md_text(line)}" for line in handout.trials]
    lines += ["", "## Main risks", "", md_text(handout.risks), "",
              "## Access", "", md_text(handout.access), "",
              "## Questions to ask your clinician", ""]
    lines += [f"{i}. {md_text(q)}" for i, q in enumerate(handout.questions, start=1)]
    lines += ["", "## Sources", ""]
    if handout.sources:
        lines += _sources(handout.sources)
        if handout.more_sources:
            lines += [f"{handout.more_sources} more on {full}.", ""]
    else:
        lines += ["No studies found, so there are no sources to list.", ""]
    lines += ["```{container} crps-handout-dates", _dates(handout), "```", ""]
    return "\n".join(lines)


def summary_page(evidence: Evidence, handouts: list[Handout] | None = None) -> str:
    """The all-treatments summary: every treatment's certainty, findings, risks and access.

    Parameters
    ----------
    evidence : Evidence
        Loaded data.
    handouts : list of Handout, optional
        :func:`~crps_evidence.book.handouts.make_handouts` of ``evidence``, if already made.

    Returns
    -------
    str
        The page's Markdown.
    """
    handouts = handouts if handouts is not None else make_handouts(evidence)
    table = landing_table(evidence).reset_index(drop=True)
    # Short enough to print: one sentence and a count for each treatment (its own handout
    # says more); the dates are in the footer.
    table = table.drop(columns=["What it is", "Up to date", "Notebook"]).assign(**{
        "What the studies show": studies_show_briefly(evidence),
        "_page": [f"{h.treatment_id}.html" for h in handouts]})
    html = table.with_options(links={"Treatment": "_page"}).to_reader_html()
    bib = evidence.references
    published = [source_of(bib[key]) for key in dict.fromkeys(h.rated_by for h in handouts
                                                                if h.rated_by)]
    dates = sorted(evidence.treatments["last_reviewed"].dropna().astype(str))
    when = ("not recorded" if not dates else readable_date(dates[0]) if dates[0] == dates[-1]
            else f"between {readable_date(dates[0])} and {readable_date(dates[-1])}")
    lines = [*_FRONT_MATTER, "# Every treatment at a glance", "",
             "```{container} crps-handout crps-handout-meta",
             f"A summary handout from the {COLLECTION}, with one row per treatment. Each "
             "treatment has a one-page handout. It also has a full page that gives the "
             "sources of every statement.",
             "```", "", *_notice(),
             "*Certainty* is how sure reviewers could be that the trials' results are right "
             "(GRADE: high, moderate, low, very low). *Our assessment* is this collection's "
             "own rating with the GRADE method, not a published one.", "",
             html, "", "## Questions to ask your clinician", ""]
    lines += [f"{i}. {md_text(q)}" for i, q in enumerate(GENERAL_QUESTIONS, start=1)]
    lines += ["", "## Published ratings cited", ""]
    lines += _sources(published) if published else ["None.", ""]
    lines += ["```{container} crps-handout-dates", f"**Evidence last reviewed:** {when}.",
              "```", ""]
    return "\n".join(lines)


def index_page(handouts: list[Handout]) -> str:
    """The *Printable handouts* page (``handouts/index``): how to print, and every handout.

    Parameters
    ----------
    handouts : list of Handout
        From :func:`~crps_evidence.book.handouts.make_handouts`.

    Returns
    -------
    str
        The page's Markdown, with a hidden toctree of the summary and every handout.
    """
    lines = [*_FRONT_MATTER, "# Printable handouts", "", *_notice(),
             "Each treatment has a one-page summary. Take it to a clinic visit, or hand it "
             "out in class. It says what the treatment is and how sure we can be. It gives "
             "what the studies show, the main risks and how to get it. It lists questions to "
             "ask your clinician and the main sources. Open one and use your browser's "
             "*Print* command (or *Save as PDF*). The printed page leaves out the menus and "
             "buttons.", "",
             f"- {_link('Every treatment at a glance', SUMMARY + '.md')}: the summary of all "
             "of them.", ""]
    lines += [f"- {_link(h.name, h.treatment_id + '.md')}" for h in handouts]
    lines += ["", "```{toctree}", ":hidden:", "", SUMMARY,
              *[h.treatment_id for h in handouts], "```", ""]
    return "\n".join(lines)


def handout_pages(evidence: Evidence) -> dict[str, str]:
    """Every generated page: file name (in :data:`FOLDER`) -> Markdown.

    Parameters
    ----------
    evidence : Evidence
        Loaded data.

    Returns
    -------
    dict of str to str
        ``index.md``, ``all-treatments.md`` and ``<id>.md`` for every treatment.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> evidence = load_all()
    >>> len(handout_pages(evidence)) == len(evidence.treatments) + 2
    True
    """
    handouts = make_handouts(evidence)
    pages = {f"{INDEX}.md": index_page(handouts),
             f"{SUMMARY}.md": summary_page(evidence, handouts)}
    pages.update({f"{h.treatment_id}.md": handout_page(h) for h in handouts})
    return pages


def write_handout_pages(folder: str | Path, evidence: Evidence) -> list[Path]:
    """Write the pages into ``folder``; only changed files are written, stale ones removed.

    A file is removed only if this module wrote it (it starts with the generated-page
    marker), so nothing written by hand is lost. Running it twice changes nothing.

    Parameters
    ----------
    folder : str or Path
        Usually ``notebooks/handouts``; created when missing.
    evidence : Evidence
        Loaded data.

    Returns
    -------
    list of Path
        The files written or removed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pages = handout_pages(evidence)
    changed = []
    for name, text in pages.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for path in sorted(folder.glob("*.md")):
        if path.name not in pages and MARKER in path.read_text(encoding="utf-8"):
            path.unlink()
            changed.append(path)
    return changed
