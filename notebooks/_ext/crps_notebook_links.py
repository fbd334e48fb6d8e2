"""Sphinx extension: links to notebooks inside HTML cell outputs point at the book's pages.

Tables made by ``crps_evidence.book.display`` link a treatment to its notebook
(``href="03-ketamine.ipynb"``), which works in Jupyter. In the book that file is a page,
``03-ketamine.html``; Sphinx does not look inside raw HTML outputs, so this post-transform
rewrites such links, when the notebook is a page of the book, to the page's address (an
``#anchor`` is kept). Links to anything else are left alone.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

#: href="NAME.ipynb" or href="NAME.ipynb#anchor" (relative addresses only).
IPYNB_HREF = re.compile(r'href="(?P<doc>[A-Za-z0-9_][A-Za-z0-9_./-]*)\.ipynb(?P<anchor>#[^"]*)?"')


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
    """Register the post-transform."""
    app.add_post_transform(NotebookLinksToPages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
