"""Sphinx extension: links to notebooks inside HTML cell outputs point at the book's pages.

Tables made by ``crps_evidence.book.display`` link a treatment to its notebook
(``href="03-ketamine.ipynb"``), which works in Jupyter. In the book that file is a page,
``03-ketamine.html``; Sphinx does not look inside raw HTML outputs, so this post-transform
rewrites such links, when the notebook is a page of the book, to the page's address (an
``#anchor`` is kept). Links to anything else are left alone.

Where several treatments share a page (``treatments.notebook``), a table row's link to the
page (a cell ``data-label="Treatment"``) also gets the anchor of that treatment's own section:
the first heading of the page (level 2 or 3) whose name agrees with the treatment's (the words
before any bracket, one starting with the other), else the innermost section whose code first
names the treatment's id. The treatment the page is named after keeps the top of the page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

#: href="NAME.ipynb" or href="NAME.ipynb#anchor" (relative addresses only).
IPYNB_HREF = re.compile(r'href="(?P<doc>[A-Za-z0-9_][A-Za-z0-9_./-]*)\.ipynb(?P<anchor>#[^"]*)?"')


#: A table row's treatment link: ``<td data-label="Treatment"><a href="NAME.ipynb">Text</a>``.
ROW_LINK = re.compile(r'(<td data-label="Treatment"><a href=")(?P<doc>[A-Za-z0-9_][A-Za-z0-9_./-]*)'
                      r'\.ipynb(")>(?P<name>[^<]+)</a>')


def _core(name: str) -> str:
    """The words of a name before any bracket, lower case: "Pool (aquatic) therapy" -> "pool"."""
    return " ".join(html.unescape(name).split(" (")[0].lower().split())


def _agree(a: str, b: str) -> bool:
    a, b = _core(a), _core(b)
    return bool(a and b) and (a == b or a.startswith(b + " ") or b.startswith(a + " "))


def _first_own_heading(source: Path, treatment_id: str, page_ids: set[str]) -> list[str]:
    """The headings (levels 2 and 3, outermost first) above the first code cell of the
    notebook that names this treatment's id and no other treatment of the page."""
    import json

    cells = json.loads(source.read_text(encoding="utf-8")).get("cells", [])
    headings: dict[int, str] = {}
    for cell in cells:
        text = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            for line in text.splitlines():
                found = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
                if found:
                    level = len(found.group(1))
                    headings = {k: v for k, v in headings.items() if k < level}
                    headings[level] = found.group(2)
        elif cell.get("cell_type") == "code":
            named = {tid for tid in page_ids if f'"{tid}"' in text or f"'{tid}'" in text}
            if named == {treatment_id}:
                return [headings[level] for level in sorted(headings) if 2 <= level <= 3]
    return []


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[*_`]", "", text).split()).lower()


def section_anchor(doctree: nodes.document, name: str, treatment_id: str | None = None,
                   source: Path | None = None, page_ids: set[str] | None = None) -> str:
    """The id of the section of ``doctree`` about treatment ``name``, or "" for the top."""
    sections = [s for s in doctree.findall(nodes.section)
                if s.get("ids") and s.children and isinstance(s[0], nodes.title)]
    if not sections or _agree(sections[0][0].astext(), name):
        return ""

    def depth(section: nodes.section) -> int:
        level, parent = 0, section.parent
        while parent is not None:
            level += isinstance(parent, nodes.section)
            parent = parent.parent
        return level

    headed = [s for s in sections[1:] if depth(s) <= 2]
    for section in headed:
        if _agree(section[0].astext(), name):
            return section["ids"][0]
    # The name in a heading's brackets: "Infliximab" under "Anti-TNF drugs (infliximab, ...)".
    word = re.compile(rf"\b{re.escape(_core(name))}\b")
    for section in headed:
        if word.search(section[0].astext().lower()):
            return section["ids"][0]
    if treatment_id and source is not None and source.suffix == ".ipynb":
        path = _first_own_heading(source, treatment_id, page_ids or {treatment_id})
        # The level-2 section: a stable, readable anchor ("#the-evidence-3" would not be).
        found = next((s for s in headed if depth(s) == 1 and path
                      and _plain(s[0].astext()) == _plain(path[0])), None)
        if found is not None:
            return found["ids"][0]
    return ""


class RowsToTheirSections(SphinxPostTransform):
    """Point a table row's link to a shared page at the row's own section of that page."""

    # Before NotebookLinksToPages (700), which keeps the anchor when it rewrites the link.
    default_priority = 690
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        covered = getattr(self.app, "crps_handouts_covered", {})
        if not covered:
            return
        cache: dict[str, nodes.document] = {}
        for raw in list(self.document.findall(nodes.raw)):
            if "html" not in raw.get("format", "").split():
                continue
            text = raw.astext()
            if 'data-label="Treatment"><a href="' not in text:
                continue

            def anchor(match: re.Match[str]) -> str:
                doc = match.group("doc")
                treatments = covered.get(f"{doc}.ipynb", [])
                if len(treatments) < 2 or doc not in self.env.found_docs:
                    return match.group(0)
                if doc not in cache:
                    cache[doc] = self.env.get_doctree(doc)
                name = html.unescape(match.group("name"))
                ids = [tid for tid, tname in treatments if tname == name]
                target = section_anchor(cache[doc], name, ids[0] if ids else None,
                                        Path(self.env.doc2path(doc)),
                                        {tid for tid, _ in treatments})
                if not target:
                    return match.group(0)
                return (f'{match.group(1)}{doc}.ipynb#{target}{match.group(3)}>'
                        f'{match.group("name")}</a>')

            new = ROW_LINK.sub(anchor, text)
            if new != text:
                raw.replace_self(nodes.raw("", new, format=raw["format"],
                                           classes=raw.get("classes", [])))


class NotebookLinksToPages(SphinxPostTransform):
    """Rewrite ``.ipynb`` links in raw HTML outputs to the pages built from them."""

    default_priority = 700
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        docname = self.env.docname
        for raw in list(self.document.findall(nodes.raw)):
            if "html" not in raw.get("format", "").split():
                continue
            text = raw.astext()
            new = IPYNB_HREF.sub(lambda m: self._page_href(docname, m), text)
            if new != text:
                raw.replace_self(nodes.raw("", new, format=raw["format"],
                                           classes=raw.get("classes", [])))

    def _page_href(self, docname: str, match: re.Match[str]) -> str:
        target = match.group("doc")
        if target not in self.env.found_docs:
            return match.group(0)
        uri = self.app.builder.get_relative_uri(docname, target)
        return f'href="{uri}{match.group("anchor") or ""}"'


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the post-transforms."""
    app.add_post_transform(RowsToTheirSections)
    app.add_post_transform(NotebookLinksToPages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
