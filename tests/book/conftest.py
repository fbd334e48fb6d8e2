"""Fixtures for the browser checks of the rendered book (``pytest -m book tests/book``).

The book must be built first (``make book``, i.e. ``sphinx-build -W --keep-going -b html
notebooks _build/html``). The checks serve ``_build/html`` from a local ``http.server`` on
127.0.0.1 and drive Debian's ``/usr/bin/chromium`` headless through Playwright's Python
package (no ``playwright install``: it needs the internet). Every request to another host is
blocked and reported. Each page is visited once in a run (see ``visits``); the tests assert on
what the visit recorded.

Tests are skipped, with the reason, when the book is not built, Chromium is missing or
Playwright is not installed.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crps_evidence.book.headless import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOST, serve

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
SCREENSHOT_DIR = BUILD_DIR / "screenshots"
#: Folders of the build that hold assets, not pages.
NON_PAGE_DIRS = {"_static", "_sources", "_images", "_downloads", ".doctrees"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "book: browser checks of the built book (needs _build/html and chromium)"
    )


def skip_reason() -> str | None:
    """Why the browser checks cannot run here, or None when they can."""
    if not (HTML_DIR / "index.html").is_file():
        return (
            f"book not built: {HTML_DIR / 'index.html'} is missing "
            "(run `make book` or `sphinx-build -W --keep-going -b html notebooks _build/html`)"
        )
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (install it with `apt-get install -y chromium`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


def book_pages() -> list[str]:
    """Every HTML page of the built book, as paths relative to ``_build/html``."""
    pages = []
    for path in sorted(HTML_DIR.rglob("*.html")):
        rel = path.relative_to(HTML_DIR)
        if rel.parts[0] in NON_PAGE_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages


@pytest.fixture(scope="session")
def book_url() -> Iterator[str]:
    """Base URL of ``_build/html`` served on 127.0.0.1 (random free port) in a thread."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with serve(HTML_DIR) as base:
        yield base


@pytest.fixture(scope="session")
def browser(book_url: str, chromium: object) -> object:
    """Headless Debian Chromium driven by Playwright, for the built book."""
    return chromium


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """The session's one headless Chromium (Playwright's sync API allows one per thread)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install it with `apt-get install -y chromium`)")
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageVisit:
    """What loading one page recorded."""

    page: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    notice: str = ""
    citation_hrefs: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    exercises: int = 0
    solutions: int = 0
    folded_solutions: int = 0
    layout: dict = field(default_factory=dict)
    reader: dict = field(default_factory=dict)
    #: axe-core's violations at each width (see :func:`axe_violations`); empty when the
    #: axe-playwright-python package is missing.
    axe: dict = field(default_factory=dict)


@pytest.fixture(scope="session")
def new_page(browser: object, book_url: str):
    """Factory for pages in a context that blocks (and records) requests to other hosts."""
    contexts = []

    def make(external: list[str]):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)

        def route(route, request) -> None:
            host = urlsplit(request.url).hostname
            if request.url.startswith(("data:", "blob:")) or host == LOCAL_HOST:
                route.continue_()
            else:
                external.append(request.url)
                route.abort()

        context.route("**/*", route)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


_IMAGES_JS = """
async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) { img.loading = "eager"; }
  await Promise.all(imgs.map((img) => img.decode().catch(() => null)));
  return imgs.map((img) => ({
    src: img.getAttribute("src"),
    alt: img.getAttribute("alt"),
    complete: img.complete,
    naturalWidth: img.naturalWidth,
  }));
}
"""


#: Widths at which every page is checked for sideways scrolling (phone, desktop).
WIDTHS = (390, 1280)

# Sideways overflow: the document, and every visible table. A table wider than the space it
# has must sit in its own scrolling box (overflow-x auto/scroll) inside the article, not
# make the article, the page or a clipping (overflow hidden) ancestor cut it off.
_LAYOUT_JS = """
() => {
  const article = document.querySelector('.bd-article') || document.body;
  const limit = Math.min(article.getBoundingClientRect().right, window.innerWidth) + 1;
  const problems = [];
  const tables = Array.from(document.querySelectorAll('table')).filter(
    (t) => t.offsetParent !== null && !t.closest('.bd-sidebar-primary, .bd-sidebar-secondary'));
  tables.forEach((table, i) => {
    const name = (table.className || 'table') + ' #' + i;
    const right = table.getBoundingClientRect().right;
    let el = table.parentElement, scroller = null;
    while (el && el !== article && el !== document.body) {
      const ox = getComputedStyle(el).overflowX;
      if (ox === 'auto' || ox === 'scroll') { scroller = el; break; }
      if ((ox === 'hidden' || ox === 'clip') && el.scrollWidth > el.clientWidth + 1) {
        problems.push(name + ': cut off by ' + el.className);
        return;
      }
      el = el.parentElement;
    }
    if (scroller) {
      const box = scroller.getBoundingClientRect();
      if (box.right > limit) {
        problems.push(name + ': its scrolling box ' + scroller.className
                      + ' is wider than the article (' + Math.round(box.right) + ' px)');
      }
    } else if (right > limit) {
      problems.push(name + ': overflows the article (' + Math.round(right) + ' > '
                    + Math.round(limit) + ' px) without a scrolling box');
    }
  });
  return {
    width: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    tableProblems: problems,
  };
}
"""

# What a reader sees: visible text, citation texts, table headers, folded code.
_READER_JS = r"""
() => {
  // Tables of raw data for people writing code (ids, codes) are checked for layout, not
  // for reader wording: their text is left out of "text".
  let text = document.body.innerText;
  document.querySelectorAll('table.crps-table--raw').forEach((t) => {
    text = text.replace(t.innerText, '');
  });
  // Inline code names data for people writing code (a study id in an exercise), not a source.
  // (A snippet of a few characters, such as "." or "--", would cut words anywhere: skipped.)
  document.querySelectorAll('p code, li code').forEach((c) => {
    if (c.innerText.trim().length >= 4) { text = text.replace(c.innerText, ''); }
  });
  const cites = Array.from(document.querySelectorAll("a[href*='#cite-']")).map((a) => a.innerText);
  const bib = Array.from(document.querySelectorAll('div.citation')).map((d) => d.innerText);
  const indexCells = [];
  document.querySelectorAll('table').forEach((table) => {
    if (table.classList.contains('dataframe')) { indexCells.push('table.dataframe'); }
    table.querySelectorAll('thead th').forEach((th) => {
      if (!th.innerText.trim()) { indexCells.push('empty header cell'); }
    });
    table.querySelectorAll('tbody th').forEach((th) => {
      if (/^\s*\d+\s*$/.test(th.innerText)) { indexCells.push('row number ' + th.innerText); }
    });
  });
  const inputs = Array.from(document.querySelectorAll('.cell_input'));
  const landing = document.querySelector('table.crps-table caption');
  let landingRows = [];
  if (landing) {
    const rows = landing.closest('table').querySelectorAll('tbody tr');
    landingRows = Array.from(rows).map((tr) => {
      const a = tr.querySelector('td a');
      return {name: tr.querySelector('td').innerText.trim(),
              href: a ? a.getAttribute('href') : null};
    });
  }
  return {
    text: text,
    html: document.documentElement.outerHTML,
    citations: cites,
    bibliography: bib,
    indexCells: indexCells,
    codeInputs: inputs.length,
    unfoldedInputs: inputs.filter((el) => !el.closest('details')).length,
    openedInputs: inputs.filter((el) => el.closest('details') && el.closest('details').open).length,
    landingRows: landingRows,
  };
}
"""


def _axe():
    """An axe-core runner (package axe-playwright-python), or None when it is not installed."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        return None
    return Axe()


#: What axe-core runs: its default set (every rule of WCAG 2.0-2.2 A and AA and its best
#: practices) and the experimental check that a control's name contains its visible text;
#: only violations are returned. No preload: axe would fetch the style sheets again and
#: resolve the theme's ``@import "../basic.css"`` against the page, not the sheet (a 404 on
#: every page); only css-orientation-lock needs it, and the book locks no orientation.
AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False,
               "rules": {"label-content-name-mismatch": {"enabled": True}}}


def axe_violations(axe, page, injected: bool = False) -> list[dict]:
    """axe-core's violations on the page as it is now: rule, impact, help and the elements.

    ``injected``: axe-core is already in this document (audited at another width), so the
    package's runner is not made to inject its script again.
    """
    if injected:
        axe = type(axe)(axe_script="void 0")
    response = axe.run(page, options=AXE_OPTIONS).response
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [
                {"target": " ".join(map(str, node["target"])),
                 "html": node["html"][:200],
                 "summary": (node.get("failureSummary") or "")[:300]}
                for node in v["nodes"]
            ],
        }
        for v in response["violations"]
    ]


# pydata-sphinx-theme makes a box that scrolls sideways reachable by Tab (tabindex 0) when the
# page loads and 300 ms after a resize; a phone gets them at load.
_TAB_STOPS_SETTLED_JS = """
() => !Array.from(document.querySelectorAll(
    'pre, .cell_output > .output, .pst-scrollable-table-container')).some(
  (el) => el.scrollWidth > el.clientWidth && el.offsetParent !== null && el.tabIndex < 0)
"""


def _settle_tab_stops(page) -> None:
    """Wait (at most 2 s) for the theme to give boxes that now scroll their tab stop.

    A box still without one is reported by axe (scrollable-region-focusable), not here.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(_TAB_STOPS_SETTLED_JS, timeout=2_000)
    except PlaywrightTimeout:
        pass


class Visitor:
    """One browser tab that loads page after page and records what each load did.

    The listeners are attached once and write into the visit in progress, so a page costs a
    navigation, not a new tab or browser context. A page is measured when its ``load`` event
    has fired and its images have decoded (every asset of these static pages is requested by
    then), then once more at phone width. At each width axe-core audits the page too
    (``tests/book/test_accessibility.py`` asserts on what it found).
    """

    def __init__(self, new_page) -> None:
        self.axe = _axe()
        self.external: list[str] = []
        self.record = PageVisit(page="")
        self.page = new_page(self.external)
        self.page.on("console", lambda msg: self.record.console_errors.append(msg.text)
                     if msg.type == "error" else None)
        self.page.on("pageerror",
                     lambda exc: self.record.console_errors.append(f"uncaught: {exc}"))
        self.page.on("requestfailed", lambda req: self.record.failed_requests.append(
            f"{req.url} ({req.failure})"))
        self.page.on("response", lambda resp: self.record.failed_requests.append(
            f"{resp.url} (HTTP {resp.status})") if resp.status >= 400 else None)

    def visit(self, book_url: str, page_path: str) -> PageVisit:
        """Load one page and record console errors, requests, images, notice, citations, ids."""
        record = self.record = PageVisit(page=page_path)
        self.external.clear()
        page = self.page
        page.set_viewport_size({"width": WIDTHS[1], "height": 900})
        page.goto(book_url + page_path, wait_until="load")
        record.images = page.evaluate(_IMAGES_JS)
        announcement = page.locator(".bd-header-announcement")
        record.notice = announcement.first.inner_text() if announcement.count() else ""
        record.citation_hrefs = page.eval_on_selector_all(
            "a[href*='#cite-']", "els => els.map((a) => a.href)"
        )
        record.exercises = page.locator(".exercise.admonition").count()
        record.solutions = page.locator(".solution.admonition").count()
        record.folded_solutions = page.locator(".solution.admonition.toggle-hidden").count()
        record.ids = set(page.eval_on_selector_all("[id]", "els => els.map((e) => e.id)"))
        record.layout[WIDTHS[1]] = page.evaluate(_LAYOUT_JS)
        record.reader = page.evaluate(_READER_JS)
        if self.axe is not None:
            record.axe[WIDTHS[1]] = axe_violations(self.axe, page)
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.wait_for_timeout(100)
        _settle_tab_stops(page)
        record.layout[WIDTHS[0]] = page.evaluate(_LAYOUT_JS)
        if self.axe is not None:
            record.axe[WIDTHS[0]] = axe_violations(self.axe, page, injected=True)
        # Blocked external requests also show up as failed requests; report them once.
        record.external_requests = list(self.external)
        record.failed_requests = [
            r for r in record.failed_requests if urlsplit(r.split(" ")[0]).hostname == LOCAL_HOST
        ]
        return record


#: How long a worker waits for a page another worker has claimed but not yet recorded.
CLAIM_TIMEOUT_S = 600


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this pytest run that every xdist worker of the run sees (a new one per run)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the workers' base temps (popen-gw0, ...) share this run's folder
    folder = base / "book-visits"
    folder.mkdir(exist_ok=True)
    return folder


def _recorded(path: Path, page: str) -> PageVisit:
    """The visit another worker recorded at ``path``, once it is there."""
    start = time.monotonic()
    while not path.exists():
        if time.monotonic() - start > CLAIM_TIMEOUT_S:
            raise TimeoutError(f"{page}: claimed by another worker, no visit recorded in "
                               f"{CLAIM_TIMEOUT_S} s ({path} missing; did that worker crash?)")
        time.sleep(0.2)
    return PageVisit(**pickle.loads(path.read_bytes()))


@pytest.fixture(scope="session")
def visits(request: pytest.FixtureRequest, book_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, PageVisit]:
    """Every page of the book, visited (and audited) once in the whole test run.

    Under pytest-xdist each worker that needs the visits claims the pages no one has claimed
    yet (a file created exclusively in a folder the run's workers share), visits them in its
    tab and leaves each record there; then it reads the pages the other worker recorded. Two
    workers that need the visits at the same time split the pages between them; a worker that
    comes later only reads. Without xdist one process visits every page.
    """
    shared = _shared_folder(tmp_path_factory)
    visitor = None
    pages = book_pages()
    for i, path in enumerate(pages):
        try:
            (shared / f"{i}.claim").touch(exist_ok=False)
        except FileExistsError:
            continue  # another worker visits it
        if visitor is None:
            visitor = Visitor(request.getfixturevalue("new_page"))
        record = visitor.visit(book_url, path)
        partial = shared / f"{i}.partial"
        partial.write_bytes(pickle.dumps(vars(record)))
        partial.replace(shared / f"{i}.visit")
    return {path: _recorded(shared / f"{i}.visit", path) for i, path in enumerate(pages)}
