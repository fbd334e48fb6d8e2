"""Every page of the book and every handout passes an axe-core audit, at phone and desktop width.

axe-core runs in the pages as they are loaded for the other browser checks (conftest.py's
``Visitor``: one tab, each page audited at 1280 px and again at 390 px), through the registry
package ``axe-playwright-python`` (it ships axe-core; nothing of axe is copied into this
repository). Its default rule set is used: WCAG 2.0, 2.1 and 2.2 levels A and AA and axe's best
practices. No page may have a critical or serious violation; a moderate or minor one must be
fixed or listed in :data:`ACCEPTED` with the reason it is accepted.

The audit's findings, page by page, are written to ``_build/axe-report.json`` for people to
read. The keyboard checks below press Tab and Enter as a keyboard-only reader would.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import WIDTHS, book_pages

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "_build" / "axe-report.json"

#: Impacts that fail the audit whatever the page.
BLOCKING = {"critical", "serious"}

#: Moderate or minor findings accepted, by axe rule id, each with the reason. A rule listed
#: here is accepted on every page; anything else below "serious" fails like a serious one.
ACCEPTED: dict[str, str] = {}


def _audited(visits) -> dict:
    if not any(v.axe for v in visits.values()):
        pytest.skip("the axe-playwright-python package is not installed (pip install -e '.[test]')")
    return visits


def _findings(visits, width: int) -> list[tuple[str, dict]]:
    return [(page, v) for page, visit in visits.items() for v in visit.axe.get(width, [])]


def _describe(page: str, violation: dict) -> str:
    nodes = violation["nodes"]
    first = nodes[0]
    return (f"{page}: {violation['id']} ({violation['impact']}, {len(nodes)} element(s)): "
            f"{violation['help']} - e.g. {first['target']} {first['html']!r} "
            f"{first['summary']!r}")


def _counts(visits) -> dict[str, dict[str, int]]:
    """Elements with each rule's violation, at each width (for the report)."""
    counts = {}
    for width in WIDTHS:
        tally: Counter[str] = Counter()
        for _, v in _findings(visits, width):
            tally[f"{v['id']} ({v['impact']})"] += len(v["nodes"])
        counts[str(width)] = dict(sorted(tally.items()))
    return counts


@pytest.fixture(scope="module")
def audited(visits) -> dict:
    """The visits, with axe's findings written to ``_build/axe-report.json``."""
    visits = _audited(visits)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({
        "elements_by_rule": _counts(visits),
        "pages": {page: {str(w): v.axe.get(w, []) for w in WIDTHS} for page, v in visits.items()},
    }, indent=1), encoding="utf-8")
    return visits


def test_every_page_and_handout_is_audited_at_both_widths(audited) -> None:
    pages = book_pages()
    assert "index.html" in pages
    assert any(p.startswith("handouts/") for p in pages), "no handout page in the build"
    missing = [f"{page} at {width} px" for page in pages for width in WIDTHS
               if width not in audited[page].axe]
    assert not missing, f"pages axe did not audit: {missing}"


@pytest.mark.parametrize("width", WIDTHS)
def test_no_critical_or_serious_violations(audited, width: int) -> None:
    found = [_describe(page, v) for page, v in _findings(audited, width)
             if v["impact"] in BLOCKING]
    assert not found, (f"{len(found)} critical or serious axe violation(s) at {width} px "
                       f"(details in {REPORT}):\n" + "\n".join(found))


@pytest.mark.parametrize("width", WIDTHS)
def test_lesser_violations_are_fixed_or_justified(audited, width: int) -> None:
    found = [_describe(page, v) for page, v in _findings(audited, width)
             if v["impact"] not in BLOCKING and v["id"] not in ACCEPTED]
    assert not found, (f"{len(found)} moderate or minor axe violation(s) at {width} px, neither "
                       f"fixed nor listed in ACCEPTED with a reason:\n" + "\n".join(found))


def test_accepted_rules_have_reasons_and_still_occur(audited) -> None:
    """Every accepted rule says why, and is dropped from the list once no page needs it."""
    assert all(reason.strip() for reason in ACCEPTED.values())
    seen = {v["id"] for width in WIDTHS for _, v in _findings(audited, width)}
    stale = sorted(set(ACCEPTED) - seen)
    assert not stale, f"accepted axe rules no page breaks any more (remove them): {stale}"


# ------------------------------------------------------------------------------ the keyboard

_FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  return {tag: el.tagName.toLowerCase(), label: el.getAttribute('aria-label') || '',
          cls: el.className || '',
          text: (el.innerText || '').trim().split('\\n')[0],
          fold: !!el.closest('.cell.crps-folded-input'), nav: !!el.closest('nav.bd-docs-nav'),
          open: el.tagName === 'SUMMARY' ? el.parentElement.open : null};
}
"""


def _tab_to(page, wanted, limit: int = 400) -> dict:
    """Press Tab until the focused element is ``wanted`` (a predicate); fail after ``limit``."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED_JS)
        if focused and wanted(focused):
            return focused
        seen.append(focused)
    raise AssertionError(f"Tab never reached the element; the last ones focused: {seen[-5:]}")


@pytest.fixture
def keyboard_page(new_page, book_url: str):
    external: list[str] = []
    page = new_page(external)
    yield page
    page.close()
    assert not external


def test_code_folds_open_and_close_with_the_keyboard(keyboard_page, book_url: str) -> None:
    """A folded "Show the code" is reached by Tab, opens and closes with Enter, and is named
    by its visible text (no aria-label that differs from it)."""
    page = keyboard_page
    page.goto(book_url + "03-ketamine.html", wait_until="load")
    focused = _tab_to(page, lambda f: f["tag"] == "summary" and f["fold"])
    assert focused["text"] == "Show the code" and not focused["label"], focused
    assert focused["open"] is False
    page.keyboard.press("Enter")
    assert page.evaluate(_FOCUSED_JS)["open"] is True
    assert page.evaluate(_FOCUSED_JS)["text"] == "Hide the code"
    page.keyboard.press("Enter")
    assert page.evaluate(_FOCUSED_JS)["open"] is False


def test_navigation_works_with_the_keyboard(keyboard_page, book_url: str) -> None:
    """The sidebar's folded list of pages is reached by Tab, has a name and opens with Enter;
    Tab then reaches its first page, and Enter follows the link."""
    page = keyboard_page
    page.goto(book_url + "index.html", wait_until="load")
    focused = _tab_to(page, lambda f: f["tag"] == "summary" and f["nav"])
    assert focused["label"].startswith("Pages under "), focused
    assert focused["open"] is False
    page.keyboard.press("Enter")
    assert page.evaluate(_FOCUSED_JS)["open"] is True
    page.keyboard.press("Tab")
    link = page.evaluate(_FOCUSED_JS)
    assert link["tag"] == "a" and link["nav"], link
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url != book_url + "index.html"


def test_site_menu_opens_with_the_keyboard_on_a_phone(keyboard_page, book_url: str) -> None:
    """At 390 px the navigation sits behind the menu button above the article; Tab and Enter
    open it (the theme left that button unwired: notebooks/_static/sidebar-toggles.js)."""
    page = keyboard_page
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(book_url + "03-ketamine.html", wait_until="load")
    _tab_to(page, lambda f: f["tag"] == "button" and "primary-toggle" in f["cls"], limit=30)
    page.keyboard.press("Enter")
    page.locator("#pst-primary-sidebar-modal[open] nav.bd-docs-nav").wait_for(timeout=5_000)
    assert page.locator("#pst-primary-sidebar-modal[open] nav.bd-docs-nav a").count() > 5
