"""Sphinx extension: the page title the book theme prints is escaped like every other text.

sphinx-book-theme puts the page title into its print header as ``{{ pagetitle }}``, the
title's plain text, unescaped (``sphinx_book_theme.add_metadata_to_page``): a handout whose
treatment name holds ``<img src=x onerror=...>`` would run the script on load. The title is
data (a handout's title is the treatment's name from ``treatments.csv``), so this handler,
run after the theme's, escapes it (``&``, ``<``, ``>``, quotes), which is what the theme
should do; a title that is already safe prints the same.
"""

from __future__ import annotations

from typing import Any

from crps_evidence.book.display import html_text


def escape_page_title(app: Any, pagename: str, templatename: str, context: dict,
                      doctree: Any) -> None:
    """Escape ``pagetitle`` and ``root_title`` (the book theme's plain-text titles)."""
    for name in ("pagetitle", "root_title"):
        title = context.get(name)
        if isinstance(title, str):
            context[name] = html_text(title)


def setup(app: Any) -> dict[str, Any]:
    # After the theme's own handler (priority 500), which sets pagetitle.
    app.connect("html-page-context", escape_page_title, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
