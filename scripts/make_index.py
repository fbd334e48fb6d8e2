#!/usr/bin/env python3
"""Generate the book's home page and the notebooks' contents list from the notebooks and data.

Writes two files:

* ``notebooks/index.md``, the home page of the rendered book: the notice, a *Start here*
  block (the hand-written ``notebooks/_includes/start-here.md`` plus links to the
  introduction, the overview and the printable handouts), the table of every treatment
  (:func:`crps_evidence.book.overview.landing_table`, with a link to each treatment's handout),
  routes for researchers and teachers, and hidden toctrees, one per captioned section of the
  sidebar;
* ``notebooks/README.md``, the same sections as a Markdown contents list for people browsing
  the repository.

Sections follow ``data/treatments.csv``: a notebook goes to the section of the ``category``
of its treatments (the first top-level treatment that names it in the ``notebook``
column). The notebooks that are not about one treatment are placed by name (``introduction``
and ``evidence-overview`` under *Start here*, ``methods`` and ``teaching-guide`` under *For
researchers and teachers*); any other notebook goes to *More notebooks*. Within a section
the notebooks keep the order of their file names, then the section's own pages follow.

Running it twice changes nothing. ``--check`` writes nothing and exits with status 1 (naming
the stale files) when the files on disk differ from what it would write.

Usage::

    python scripts/make_index.py            # (re)write both files
    python scripts/make_index.py --check    # fail if either file is out of date
    python scripts/make_index.py --notebooks-dir path/to/notebooks --data-dir path/to/data
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTEBOOKS_DIR = ROOT / "notebooks"
DEFAULT_DATA_DIR = ROOT / "data"
DEFAULT_BIB = ROOT / "references.bib"

#: Notebook file names: two digits, a hyphen, a lowercase slug.
NOTEBOOK_NAME = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9][a-z0-9-]*)\.ipynb$")
TITLE_LINE = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$")

NOTICE = (
    "Educational material, not medical advice. "
    "Talk to your own care team before changing treatment."
)

GENERATED = "scripts/make_index.py"
START_HERE = "_includes/start-here.md"
#: The list of printable handouts (generated into notebooks/handouts/ when the book is built,
#: by notebooks/_ext/crps_handouts.py); each treatment's handout is handouts/<id>.
HANDOUTS_PAGE = "handouts/index"
HANDOUT_LINK_TEXT = "Printable page"


@dataclass(frozen=True)
class Section:
    """A captioned part of the sidebar: notebooks by category or by slug, then pages."""

    caption: str
    categories: tuple[str, ...] = ()
    slugs: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()


#: The sidebar, top to bottom. ``pages`` are the non-notebook pages (``notebooks/NAME.md``).
SECTIONS = (
    Section("Start here", slugs=("introduction", "evidence-overview"),
            pages=("about", "glossary", HANDOUTS_PAGE)),
    Section("Medicines", categories=("medication", "topical")),
    Section("Infusions and apheresis", categories=("infusion", "apheresis")),
    Section("Rehabilitation", categories=("rehabilitation",)),
    Section("Psychological care and self-management", categories=("psychological",)),
    Section("Injections", categories=("injection",)),
    Section("Devices and chambers",
            categories=("external device", "implanted device", "chamber")),
    Section("More notebooks"),  # any notebook no other section claims
    Section("For researchers and teachers", slugs=("methods", "teaching-guide"),
            pages=("data-dictionary", "using-the-package", "contributing", "bibliography")),
)
FALLBACK = "More notebooks"

#: The non-notebook pages in the README: title and the file a repository browser can read
#: (the book takes each page's own title).
PAGE_LINKS = {
    "about": ("About this collection", "about.md"),
    "glossary": ("Glossary: the words these pages use", "glossary.md"),
    HANDOUTS_PAGE: ("Printable handouts (made when the book is built)",
                    "../README.md#printable-handouts"),
    "data-dictionary": ("The data: dictionary and verification status", "../data/README.md"),
    "using-the-package": ("Using the package and the command line", "../README.md"),
    "contributing": ("Contributing", "../CONTRIBUTING.md"),
    "bibliography": ("Bibliography", "../references.bib"),
}


class NotebookTitleError(Exception):
    """A notebook cannot be indexed (no title, unreadable JSON ...)."""


@dataclass(frozen=True)
class Entry:
    """One notebook in the collection."""

    path: Path
    title: str

    @property
    def docname(self) -> str:
        return self.path.stem

    @property
    def slug(self) -> str:
        return self.path.stem.split("-", 1)[1]


@dataclass
class Layout:
    """The notebooks of each section, in section order (empty sections are dropped)."""

    sections: list[tuple[Section, list[Entry]]] = field(default_factory=list)

    def find(self, slug: str) -> Entry | None:
        """The notebook with this slug (``methods`` for ``20-methods.ipynb``), if any."""
        for _, entries in self.sections:
            for entry in entries:
                if entry.slug == slug:
                    return entry
        return None


def notebook_title(path: Path) -> str:
    """Return the text of the first ``# `` heading in the notebook's markdown cells.

    Raises
    ------
    NotebookTitleError
        If the file is not valid notebook JSON or has no level-1 heading.
    """
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise NotebookTitleError(f"{path}: cannot read notebook JSON ({exc})") from exc
    in_fence = False
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        for line in source.splitlines():
            stripped = line.strip()
            if stripped.startswith(("```", "~~~")):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            match = TITLE_LINE.match(stripped)
            if match:
                return match.group("title")
    raise NotebookTitleError(
        f"{path}: no title found; the first markdown cell should start with '# Title'"
    )


def collect(notebooks_dir: Path) -> list[Entry]:
    """Return the collection's notebooks in reading order (sorted by file name)."""
    entries = []
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        if NOTEBOOK_NAME.match(path.name):
            entries.append(Entry(path=path, title=notebook_title(path)))
    return entries


def notebook_categories(treatments_csv: Path) -> dict[str, str]:
    """Map notebook file name to the category of the treatments it covers.

    A top-level treatment (no ``parent``) decides before a sub-modality; the first row in
    file order wins. Rows without a notebook are ignored.
    """
    if not treatments_csv.is_file():
        return {}
    with treatments_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    categories: dict[str, str] = {}
    for top_level in (True, False):
        for row in rows:
            notebook = (row.get("notebook") or "").strip()
            if notebook and (not (row.get("parent") or "").strip()) == top_level:
                categories.setdefault(notebook, (row.get("category") or "").strip())
    return categories


def layout(entries: Iterable[Entry], categories: dict[str, str]) -> Layout:
    """Place every notebook in exactly one section (see the module docstring)."""
    placed: dict[str, list[Entry]] = {s.caption: [] for s in SECTIONS}
    for entry in entries:
        caption = next((s.caption for s in SECTIONS if entry.slug in s.slugs), None)
        if caption is None:
            category = categories.get(entry.path.name)
            caption = next((s.caption for s in SECTIONS if category in s.categories), FALLBACK)
        placed[caption].append(entry)
    return Layout([(s, placed[s.caption]) for s in SECTIONS if placed[s.caption] or s.pages])


def landing_table_html(data_dir: Path, bib: Path) -> str:
    """The home page's table of every treatment (HTML from crps_evidence.book.display).

    A last column links each treatment to its printable handout (``handouts/<id>.html``).
    """
    from crps_evidence import load_all
    from crps_evidence.book import overview

    evidence = load_all(data_dir, bib=bib)
    table = overview.landing_table(evidence)
    folder = HANDOUTS_PAGE.rsplit("/", 1)[0]
    table = table.assign(Handout=HANDOUT_LINK_TEXT, _handout=[
        f"{folder}/{treatment_id}.html" for treatment_id in evidence.treatments["id"]])
    links = {"Treatment": "Notebook", "Handout": "_handout"}
    return table.with_options(links=links).to_reader_html()


def _link(entry: Entry | None, text: str | None = None) -> str:
    if entry is None:
        return ""
    return f"[{text or entry.title}]({entry.path.name})"


def render_index(plan: Layout, landing: str) -> str:
    """Return the text of ``index.md`` (the book's home page)."""
    intro, overview = plan.find("introduction"), plan.find("evidence-overview")
    methods, teaching = plan.find("methods"), plan.find("teaching-guide")
    start = [f"- New to CRPS? {_link(intro, 'Read the introduction')}: what the condition is "
             "and how to read the evidence." if intro else "",
             f"- {_link(overview, 'The evidence overview')} puts every treatment side by "
             "side." if overview else "",
             "- [About this collection](about.md): who wrote it, how the evidence was found "
             "and checked, funding, conflicts of interest and how to report an error.",
             f"- [Printable handouts]({HANDOUTS_PAGE}.md): one page per treatment, to take "
             "to an appointment or hand out in class."]
    researchers = [
        f"- {_link(methods, 'Methods')}: how effect sizes are computed and pooled, and how to "
        "add a study." if methods else "",
        "- [The data dictionary](data-dictionary.md): every table and column, and what was "
        "verified.",
        "- [Using the package and the command line](using-the-package.md): install, run "
        "every test, query the data from a terminal.",
        "- [Contributing](contributing.md) and the [bibliography](bibliography.md).",
    ]
    lines = [
        # The home page has few headings and a wide table: no "Contents" sidebar on it.
        "---",
        "html_theme.sidebar_secondary.remove: true",
        "---",
        f"<!-- Generated by {GENERATED} from the notebooks and data/; do not edit by hand. -->",
        "",
        "# CRPS treatment evidence",
        "",
        "```{important}",
        NOTICE,
        "```",
        "",
        "## Start here",
        "",
        f"```{{include}} {START_HERE}",
        "```",
        "",
        *[line for line in start if line],
        "",
        "## Every treatment at a glance",
        "",
        "One row per treatment; its name links to its page, where every statement is cited, "
        "and *Handout* to a one-page summary to print.",
        "*Certainty* is how sure we can be that the studies' results are close to the truth "
        "(GRADE: high, moderate, low, very low). A published review's rating is named where one "
        "was read; otherwise the rating is our own assessment with the GRADE method, not a "
        "published rating. *No studies found* means there is nothing to rate.",
        "",
        landing,
        "",
        "## For researchers",
        "",
        *[line for line in researchers if line],
        "",
    ]
    if teaching:
        lines += ["## For teachers", "",
                  f"- {_link(teaching, 'The teaching guide')}: a session plan with learning "
                  "objectives, discussion questions and exercises with worked answers.", ""]
    # Sphinx takes each entry's text from the page's own `# ` title (the same title the
    # README lists), so markup in a title renders and cannot break the toctree syntax.
    for section, entries in plan.sections:
        lines += ["```{toctree}", ":hidden:", ":maxdepth: 1", f":caption: {section.caption}",
                  ""]
        lines += [entry.docname for entry in entries]
        lines += [*section.pages, "```", ""]
    return "\n".join(lines)


def render_readme(plan: Layout) -> str:
    """Return the text of ``notebooks/README.md`` (contents list for repository browsers)."""
    lines = [
        f"<!-- Generated by {GENERATED} from the notebooks and data/; do not edit by hand. -->",
        "",
        "# Notebooks",
        "",
        NOTICE,
        "",
        "The rendered book groups them in these sections (file names give the reading order "
        "within a section):",
        "",
    ]
    for section, entries in plan.sections:
        lines += [f"## {section.caption}", ""]
        lines += [f"- [{entry.title}]({entry.path.name})" for entry in entries]
        for page in section.pages:
            title, target = PAGE_LINKS.get(page, (page, f"{page}.md"))
            lines.append(f"- [{title}]({target})")
        lines.append("")
    if not plan.sections:
        lines += ["(No notebooks yet.)", ""]
    return "\n".join(lines)


def outputs(notebooks_dir: Path, data_dir: Path = DEFAULT_DATA_DIR,
            bib: Path = DEFAULT_BIB) -> dict[Path, str]:
    """Return the files this script owns, mapped to the text it would write."""
    plan = layout(collect(notebooks_dir), notebook_categories(data_dir / "treatments.csv"))
    return {
        notebooks_dir / "index.md": render_index(plan, landing_table_html(data_dir, bib)),
        notebooks_dir / "README.md": render_readme(plan),
    }


def _display(path: Path) -> str:
    """The path relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if index.md or README.md is out of date",
    )
    parser.add_argument(
        "--notebooks-dir",
        type=Path,
        default=DEFAULT_NOTEBOOKS_DIR,
        help="folder holding the NN-name.ipynb notebooks (default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding treatments.csv and the other tables (default: %(default)s)",
    )
    parser.add_argument(
        "--bib", type=Path, default=DEFAULT_BIB, help="the .bib file (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    notebooks_dir: Path = args.notebooks_dir
    if not notebooks_dir.is_dir():
        print(f"error: {notebooks_dir} is not a directory", file=sys.stderr)
        return 2
    try:
        wanted = outputs(notebooks_dir, args.data_dir, args.bib)
    except NotebookTitleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stale = []
    for path, text in wanted.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")

    if args.check:
        if stale:
            names = ", ".join(_display(p) for p in stale)
            print(
                f"out of date: {names}\n"
                f"run `python {GENERATED}` to regenerate them from the notebooks and data",
                file=sys.stderr,
            )
            return 1
        print("index.md and README.md are up to date")
        return 0
    for path in stale:
        print(f"wrote {_display(path)}")
    if not stale:
        print("index.md and README.md already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
