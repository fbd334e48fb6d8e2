"""Sphinx extension: what the theme and docutils write, made to pass an accessibility audit.

``tests/book/test_accessibility.py`` runs axe-core on every page; these are the fixes that
belong to the book's HTML rather than to the notebooks:

* **Named navigation toggles.** pydata-sphinx-theme folds a page's sub-pages in the sidebar
  behind a ``<summary>`` holding only a chevron icon: no name for a screen reader (axe rule
  ``summary-name``). Each one is named after the page whose sub-pages it shows ("Pages under
  Printable handouts").
* **A bibliography that is a list.** docutils marks each citation ``role="doc-biblioentry"``,
  a role ARIA 1.3 deprecates and does not allow on a ``div``, inside a ``role="list"`` which
  then has no list items (``aria-deprecated-role``, ``aria-allowed-role``,
  ``aria-required-children``). Citations are written as ``role="listitem"``.
* **Tables told apart.** A table without a caption is a scrolling region named after its first
  columns (``crps_evidence.book.display``); two such tables on one page (the same study table
  under two headings) would share a name (``landmark-unique``). A repeated name gets the
  title of the section the table is in, and a number if that is not enough.
* **One notice per page.** The banner at the top of every page says the book is not medical
  advice. The notebooks open with the same notice for JupyterLab readers (``nb.notice()``);
  in the book that box is dropped, so a page says it once. A handout keeps its own notice,
  which prints on paper instead of the banner (print.css), and is hidden on screen.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

#: The first words of the not-medical-advice notice (banner, notebooks, handouts, home page).
NOTICE_START = "Educational material, not medical advice."
#: Class of a handout's own notice: hidden on screen, printed (custom.css, print.css).
PRINTED_NOTICE_CLASS = "crps-printed-notice"

_REGION_LABEL = re.compile(r'(<div class="crps-table-wrap" role="region" tabindex="0" '
                           r'aria-label=")([^"]*)(")')


# ----------------------------------------------------------------- the navigation toggles

def _name_summaries(soup: Any) -> Any:
    """Give every empty ``<summary>`` of a sidebar tree (BeautifulSoup, changed in place) the
    name of the page it belongs to."""
    for summary in soup.find_all("summary"):
        if summary.get_text(strip=True) or summary.get("aria-label"):
            continue
        item = summary.find_parent("li")
        link = item.find("a", recursive=False) if item is not None else None
        title = " ".join(link.get_text().split()) if link is not None else ""
        summary["aria-label"] = f"Pages under {title}" if title else "More pages"
    return soup


def name_navigation_toggles(app: Sphinx, pagename: str, templatename: str,
                            context: dict, doctree: Any) -> None:
    """Wrap the theme's ``generate_toctree_html`` so its toggles have names."""
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "crps_named", False):
        return

    def named(kind: str, *args: Any, **kwargs: Any) -> Any:
        out = generate(kind, *args, **kwargs)
        if isinstance(out, str):  # "sidebar" gives a BeautifulSoup tree, other kinds text
            if "<summary>" not in out:
                return out
            from bs4 import BeautifulSoup

            return str(_name_summaries(BeautifulSoup(out, "html.parser")))
        return _name_summaries(out)

    named.crps_named = True  # type: ignore[attr-defined]
    context["generate_toctree_html"] = named


# ---------------------------------------------------------------------- the bibliography

def visit_citation(self, node: nodes.Element) -> None:
    """docutils' citation, as a list item of the citation list."""
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self, node: nodes.Element) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


# ---------------------------------------------- table names and the notice, page by page

def _section_title(node: nodes.Node) -> str:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.section) and parent.children and isinstance(
                parent[0], nodes.title):
            return parent[0].astext()
        parent = parent.parent
    return ""


class UniqueTableNames(SphinxPostTransform):
    """A table region's name that repeats on its page gets its section's title added."""

    default_priority = 710
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        raws = [raw for raw in self.document.findall(nodes.raw)
                if "html" in raw.get("format", "").split() and "crps-table-wrap" in raw.astext()]
        names = Counter(m.group(2) for raw in raws for m in _REGION_LABEL.finditer(raw.astext()))
        if all(count == 1 for count in names.values()):
            return
        used: Counter[str] = Counter()
        for raw in raws:
            section = _section_title(raw)

            def rename(match: re.Match[str], section: str = section) -> str:
                label = match.group(2)
                if names[label] == 1:
                    return match.group(0)
                new = f"{label} ({section})" if section else label
                used[new] += 1
                if used[new] > 1:
                    new = f"{new}, table {used[new]}"
                return match.group(1) + new + match.group(3)

            text = raw.astext()
            new_text = _REGION_LABEL.sub(rename, text)
            if new_text != text:
                raw.replace_self(nodes.raw("", new_text, format=raw["format"],
                                           classes=raw.get("classes", [])))
        # A label made of "<label> (<section>)" could still meet the same text elsewhere;
        # the number added above keeps the renamed ones apart from each other.


def _is_notice(node: nodes.Node) -> bool:
    return node.astext().lstrip().startswith(NOTICE_START)


class OneNoticePerPage(SphinxPostTransform):
    """Drop the notebooks' in-text notice (the banner says it); keep a handout's for paper."""

    default_priority = 720
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        handout = self.env.docname.startswith("handouts/")
        for box in list(self.document.findall(
                lambda n: isinstance(n, nodes.block_quote | nodes.Admonition))):
            if not _is_notice(box) or box.parent is None:
                continue
            if handout:
                box["classes"].append(PRINTED_NOTICE_CLASS)
                continue
            cell = box.parent
            while cell is not None and cell.get("nb_element") != "cell_code" \
                    and not isinstance(cell, nodes.section):
                cell = cell.parent
            if cell is not None and cell.get("nb_element") == "cell_code" \
                    and _is_notice(cell):
                cell.parent.remove(cell)  # the whole nb.notice() cell
            else:
                box.parent.remove(box)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the fixes."""
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.connect("html-page-context", name_navigation_toggles, priority=900)
    app.add_post_transform(UniqueTableNames)
    app.add_post_transform(OneNoticePerPage)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
