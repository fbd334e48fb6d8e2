"""Figures a reader can read on a phone: text big enough, or a table with the same numbers.

At 390 px (a phone), each figure of a page is measured where the page shows it: the size of its
smallest text in CSS pixels is that text's size in the PNG (the size in points and the
resolution the book writes into every figure, ``crps_evidence.book.notebook.as_image``) times
the scale at which the image is drawn. A figure whose smallest text is under
:data:`MIN_TEXT_PX` must have a table alternative: a reader table (``table.crps-table``, not a
raw data table) after it, before the next heading or figure. Every figure keeps alt text.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from conftest import HTML_DIR, book_pages
from PIL import Image

from crps_evidence.book.notebook import SMALLEST_TEXT_KEY

pytestmark = pytest.mark.book

#: Smallest figure text (CSS px) accepted at phone width without a table under the figure.
MIN_TEXT_PX = 9.0
#: The phone width the figures are checked at.
PHONE = {"width": 390, "height": 900}

_FIGURES_JS = """
() => {
  const article = document.querySelector('article') || document.body;
  const nodes = Array.from(article.querySelectorAll(
    'img, table.crps-table, h1, h2, h3, h4, h5, h6'));
  const out = [];
  nodes.forEach((el, i) => {
    if (el.tagName !== 'IMG' || !el.closest('.cell_output, .output')) { return; }
    let table = false;
    for (const next of nodes.slice(i + 1)) {
      if (next.tagName === 'IMG' || /^H[1-6]$/.test(next.tagName)) { break; }
      if (next.tagName === 'TABLE' && !next.classList.contains('crps-table--raw')) {
        table = true;
        break;
      }
    }
    out.push({src: el.getAttribute('src'), alt: el.getAttribute('alt') || '',
              width: el.getBoundingClientRect().width, natural: el.naturalWidth,
              tableAfter: table});
  });
  return out;
}
"""


def _png(page_url: str, src: str) -> Path:
    """The file of the built book an image of a page loads."""
    return HTML_DIR / unquote(urlsplit(urljoin(page_url, src)).path).lstrip("/")


def smallest_text_px(png: Path, shown_width: float) -> float | None:
    """CSS pixels of a figure's smallest text drawn ``shown_width`` px wide (None: unknown)."""
    with Image.open(png) as image:
        points = image.info.get(SMALLEST_TEXT_KEY)
        dpi = image.info.get("dpi", (96, 96))[0]
        natural = image.size[0]
    if points is None:
        return None
    return float(points) * dpi / 72 * shown_width / natural


@pytest.fixture(scope="module")
def figures(new_page, book_url: str) -> dict[str, list[dict]]:
    """Every figure of every page at phone width: size, alt text, table after it."""
    external: list[str] = []
    tab = new_page(external)
    tab.set_viewport_size(PHONE)
    found = {}
    for page in book_pages():
        url = book_url + page
        tab.goto(url, wait_until="load")
        shown = tab.evaluate(_FIGURES_JS)
        for figure in shown:
            figure["png"] = _png(url, figure["src"])
        if shown:
            found[page] = shown
    tab.close()
    return found


def test_the_book_has_figures(figures) -> None:
    assert figures, "no figure found in any page's output: the selector no longer matches"


def test_figures_are_legible_at_phone_width_or_have_a_table(figures) -> None:
    """At 390 px: smallest text >= MIN_TEXT_PX, or a table with the same numbers under it."""
    problems = []
    for page, shown in figures.items():
        for figure in shown:
            name = f"{page}: {Path(figure['src']).name}"
            if not figure["png"].is_file() or figure["png"].suffix != ".png":
                problems.append(f"{name}: not a PNG of the build ({figure['src']})")
                continue
            size = smallest_text_px(figure["png"], figure["width"])
            if size is None:
                problems.append(f"{name}: the PNG does not record its smallest text "
                                f"({SMALLEST_TEXT_KEY}; render it with nb.as_image)")
            elif size < MIN_TEXT_PX and not figure["tableAfter"]:
                problems.append(f"{name}: smallest text {size:.1f} px at 390 px wide "
                                f"(under {MIN_TEXT_PX:g}) and no table under it")
    assert not problems, "\n".join(problems)


def test_figures_keep_alt_text(figures) -> None:
    short = [f"{page}: {Path(f['src']).name}" for page, shown in figures.items()
             for f in shown if len(f["alt"].split()) < 8]
    assert not short, f"figures without alt text that states what they show: {short}"
