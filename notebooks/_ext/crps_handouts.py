"""Sphinx extension: the printable handouts, as pages of the book, and links to them.

* When the build starts (``builder-inited``), the handout pages are written into
  ``notebooks/handouts/`` from the data by
  :func:`crps_evidence.book.handout_pages.write_handout_pages`
  (one per row of ``data/treatments.csv``, the all-treatments summary and the list of them).
  The folder is generated, not committed (``.gitignore``); only changed files are written, so
  an incremental build re-reads only the handouts whose data changed.
* Every page built from a treatment's notebook (``treatments.notebook``) gets a line under
  its title linking to the handout of each treatment it covers. The ``.ipynb`` files are
  not changed. The links are ``:doc:`` references, so a missing handout fails a ``-W`` build.

``scripts/make_handouts.py`` prints the built handout pages to PDF.

Configuration (``conf.py``)
---------------------------
crps_handouts_data : str
    Folder of the tables (default: ``data/`` beside the book's folder).
crps_handouts_bib : str
    The ``.bib`` file (default: ``references.bib`` beside the book's folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

LINK_CLASS = "crps-handout-link"


def _paths(app: Sphinx) -> tuple[Path, Path]:
    root = Path(app.confdir).parent
    data = Path(app.config.crps_handouts_data or root / "data")
    bib = Path(app.config.crps_handouts_bib or root / "references.bib")
    return data, bib


def generate_pages(app: Sphinx) -> None:
    """Write the handout pages into the source folder and remember which page covers what."""
    from crps_evidence import load_all
    from crps_evidence.book.handout_pages import FOLDER, write_handout_pages

    data, bib = _paths(app)
    evidence = load_all(data, bib=bib)
    changed = write_handout_pages(Path(app.srcdir) / FOLDER, evidence)
    if changed:
        logger.info("crps_handouts: %d handout page(s) written or removed", len(changed))
    covered: dict[str, list[tuple[str, str]]] = {}
    for row in evidence.treatments.itertuples():
        if isinstance(row.notebook, str) and row.notebook:
            covered.setdefault(row.notebook, []).append((row.id, row.name))
    app.crps_handouts_covered = covered  # type: ignore[attr-defined]
    app.crps_handouts_folder = FOLDER  # type: ignore[attr-defined]
    app.crps_handouts_treatments = data / "treatments.csv"  # type: ignore[attr-defined]


class HandoutLinks(SphinxTransform):
    """Add "Printable one-page handout: ..." under the title of a treatment's page."""

    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        covered = getattr(self.app, "crps_handouts_covered", {})
        source = Path(self.env.doc2path(self.env.docname))
        treatments = covered.get(source.name) if source.suffix == ".ipynb" else None
        if not treatments:
            return
        section = next(iter(self.document.findall(nodes.section)), None)
        if section is None or not section.children or not isinstance(section[0], nodes.title):
            return
        self.env.note_dependency(str(self.app.crps_handouts_treatments))
        label = ("Printable one-page handout: " if len(treatments) == 1
                 else "Printable one-page handouts: ")
        line = nodes.paragraph("", "", classes=[LINK_CLASS])
        line += nodes.Text(label)
        for i, (treatment_id, name) in enumerate(treatments):
            if i:
                line += nodes.Text(" · ")
            line += addnodes.pending_xref(
                "", nodes.inline(name, name), refdomain="std", reftype="doc",
                reftarget=f"/{self.app.crps_handouts_folder}/{treatment_id}",
                refexplicit=True, refwarn=True, refdoc=self.env.docname)
        section.insert(1, line)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the page generator, the transform and the two settings."""
    app.add_config_value("crps_handouts_data", "", "env", types=[str])
    app.add_config_value("crps_handouts_bib", "", "env", types=[str])
    app.connect("builder-inited", generate_pages)
    app.add_transform(HandoutLinks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
