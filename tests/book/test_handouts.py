"""The printable handouts and the print stylesheet, checked in the browser test run.

``make test-book`` builds the book, prints the handouts (``scripts/make_handouts.py``, A4,
into ``_build/handouts``) and then runs these tests: every PDF is there, fits its page count,
names its treatment, its certainty and the notice, lists its sources' addresses and shows no
placeholder or raw citation key. The treatment pages and the home page link to their
handouts, the handouts also fit on Letter paper, and any page of the book prints without
menus, buttons or folded code, with the addresses of its references. Images to look at are
saved in ``_build/screenshots/handout-*.png``.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import subprocess
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from crps_evidence import load_all
from crps_evidence.book.handouts import HANDOUT_NOTICE, make_handouts

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
HTML_DIR = ROOT / "_build" / "html"
PDF_DIR = ROOT / "_build" / "handouts"
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"
SUMMARY = "all-treatments"
#: A treatment's handout is one sheet; the summary of every treatment is a table that grows
#: with the data, so its budget is in rows: at least this many treatments to a printed page.
SUMMARY_ROWS_PER_PAGE = 12
NOTICE = "Educational material, not medical advice."
#: Text that must never reach paper: placeholders, missing-value markers, MyST or Markdown
#: that was not rendered, escapes that leaked.
LEAKS = ("REPLACE-WITH", "github.com/OWNER", "<NA>", "NaN", "n.d.", "{container}",
         "{important}", "](", "**", "\\$", "\\*", "Show the code", "Click to")


def _load_script():
    spec = importlib.util.spec_from_file_location("make_handouts",
                                                  ROOT / "scripts" / "make_handouts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _keys() -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(map(re.escape, load_all().references)) + r")\b")


@cache
def _handouts():
    return {h.treatment_id: h for h in make_handouts(load_all())}


def _summary_max_pages() -> int:
    """The summary's page budget: every treatment at SUMMARY_ROWS_PER_PAGE rows a page."""
    return -(-len(_treatments()) // SUMMARY_ROWS_PER_PAGE)


def _treatments() -> list[dict]:
    with (ROOT / "data" / "treatments.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


#: Sphinx's "smart quotes" curl the quotes of the data's text.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _words(text: str) -> str:
    """Text as a reader sees it: ligatures split, quotes straight, words broken at a hyphen
    joined again, any run of spaces as one."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = re.sub(r"-[ \t]*\n\s*", "-", text)  # "N-" at a line's end, "acetylcysteine" next
    return " ".join(text.split())


@cache
def _pdf(name: str) -> tuple[int, str, list[str]]:
    """Page count, text and link addresses of ``_build/handouts/NAME.pdf``."""
    from pypdf import PdfReader

    path = PDF_DIR / f"{name}.pdf"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make handouts` (make test-book prints them)")
    reader = PdfReader(path)
    links = [str(a.get_object().get("/A", {}).get("/URI", "")) for page in reader.pages
             for a in (page.get("/Annots") or [])]
    return len(reader.pages), _words("\n".join(p.extract_text() for p in reader.pages)), links


def test_a_pdf_for_every_treatment_and_the_summary() -> None:
    if not PDF_DIR.is_dir():
        pytest.fail(f"{PDF_DIR} is missing: run `make handouts`")
    expected = {t["id"] for t in _treatments()} | {SUMMARY}
    assert {p.stem for p in PDF_DIR.glob("*.pdf")} == expected


@pytest.mark.parametrize("treatment_id", [t["id"] for t in _treatments()])
def test_treatment_handout_is_one_page_with_name_certainty_and_notice(treatment_id) -> None:
    pages, text, links = _pdf(treatment_id)
    handout = _handouts()[treatment_id]
    assert pages == 1, f"{treatment_id}.pdf has {pages} pages"
    assert _words(handout.name) in text
    certainty = _words(re.sub(r"\*\*", "", handout.certainty))
    assert certainty in text, f"certainty sentence missing: {certainty!r}"
    assert ("No studies found" in text if handout.level == "no studies found"
            else f"{handout.level.capitalize()} certainty" in text)
    assert _words(re.sub(r"\*\*", "", HANDOUT_NOTICE)) in text
    assert f"Evidence last reviewed: {handout.reviewed}." in text
    assert "Questions to ask your clinician" in text
    squeezed = text.replace(" ", "")
    for source in handout.sources:
        if source.url:
            assert source.url in squeezed, f"{treatment_id}: {source.url} not printed"
            assert source.url in links, f"{treatment_id}: {source.url} not a link"
    assert not [link for link in links if "127.0.0.1" in link], "links to the local server"


def test_summary_lists_every_treatment_within_its_page_limit() -> None:
    pages, text, _ = _pdf(SUMMARY)
    assert 1 <= pages <= _summary_max_pages()
    missing = [t["name"] for t in _treatments() if _words(t["name"]) not in text]
    assert not missing, f"treatments missing from the summary: {missing}"
    assert NOTICE in text and "Every treatment at a glance" in text
    assert "Our assessment" in text and "(our assessment)" in text


@pytest.mark.parametrize("name", [SUMMARY, *(t["id"] for t in _treatments())])
def test_no_placeholder_raw_key_or_unrendered_markup(name) -> None:
    _, text, _ = _pdf(name)
    hit = _keys().search(text)
    assert hit is None, f"{name}.pdf shows the citation key {hit.group(0)!r}"
    leaked = [leak for leak in LEAKS if leak in text]
    assert not leaked, f"{name}.pdf shows {leaked}"


def test_handout_pdfs_are_deterministic(new_page, book_url: str, tmp_path: Path) -> None:
    """Printing again (another server port) gives the same bytes: no dates, no local links."""
    script = _load_script()
    external: list[str] = []
    page = new_page(external)
    for name in ("hbot", SUMMARY):
        again = script.print_handout(page, book_url, name, tmp_path / f"{name}.pdf", "A4")
        assert again.read_bytes() == (PDF_DIR / f"{name}.pdf").read_bytes(), name
    page.close()
    assert not external


def test_handouts_fit_one_letter_page_too(new_page, book_url: str, tmp_path: Path) -> None:
    from pypdf import PdfReader

    script = _load_script()
    external: list[str] = []
    page = new_page(external)
    over = []
    for treatment in _treatments():
        target = script.print_handout(page, book_url, treatment["id"],
                                      tmp_path / f"{treatment['id']}.pdf", "Letter")
        if len(PdfReader(target).pages) != 1:
            over.append(treatment["id"])
    summary = script.print_handout(page, book_url, SUMMARY, tmp_path / "summary.pdf", "Letter")
    page.close()
    assert not over, f"handouts longer than one Letter page: {over}"
    assert len(PdfReader(summary).pages) <= _summary_max_pages()
    assert not external


def test_look_at_some_handouts(new_page, book_url: str) -> None:
    """Save images of three handouts and the summary as printed (print media, A4 width)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    names = ["ketamine", "pool-therapy", "sympathetic-block", SUMMARY]
    external: list[str] = []
    page = new_page(external)
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.emulate_media(media="print")
    saved = []
    for name in names:
        page.goto(f"{book_url}handouts/{name}.html", wait_until="load")
        target = SCREENSHOT_DIR / f"handout-{name}.png"
        page.screenshot(path=str(target), full_page=True)
        saved.append(target)
        if shutil.which("pdftoppm"):  # the PDF itself, when poppler-utils is installed
            subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile",
                            str(PDF_DIR / f"{name}.pdf"),
                            str(SCREENSHOT_DIR / f"handout-{name}-pdf")], check=True)
    page.close()
    assert all(path.stat().st_size > 10_000 for path in saved)
    assert not external


# ------------------------------------------------------------------------- links

def _hrefs(html: str, css_class: str) -> list[str]:
    block = re.search(rf'<p class="{css_class}">(.*?)</p>', html, re.S)
    return re.findall(r'href="([^"]+)"', block.group(1)) if block else []


def test_each_treatment_page_links_its_handouts() -> None:
    by_page: dict[str, list[str]] = {}
    for treatment in _treatments():
        if treatment["notebook"]:
            by_page.setdefault(Path(treatment["notebook"]).stem, []).append(treatment["id"])
    problems = []
    for stem, ids in by_page.items():
        page = HTML_DIR / f"{stem}.html"
        hrefs = _hrefs(page.read_text(encoding="utf-8"), "crps-handout-link")
        targets = [urlsplit(urljoin(f"/{stem}.html", href)).path for href in hrefs]
        if targets != [f"/handouts/{i}.html" for i in ids]:
            problems.append(f"{stem}: {targets}")
        problems += [f"{stem}: {t} not built" for t in targets
                     if not (HTML_DIR / t.lstrip("/")).is_file()]
    assert not problems, problems
    # Pages that are not about a treatment carry no such line.
    assert not _hrefs((HTML_DIR / "20-methods.html").read_text(encoding="utf-8"),
                      "crps-handout-link")


def test_home_page_table_and_handouts_page_link_every_handout() -> None:
    index = (HTML_DIR / "index.html").read_text(encoding="utf-8")
    listing = (HTML_DIR / "handouts" / "index.html").read_text(encoding="utf-8")
    for treatment in _treatments():
        href = f'href="handouts/{treatment["id"]}.html"'
        assert href in index, f"home page table: no link to {treatment['id']}'s handout"
        assert f'href="{treatment["id"]}.html"' in listing, treatment["id"]
    assert 'href="handouts/index.html"' in index
    assert f'href="{SUMMARY}.html"' in listing


# ----------------------------------------------------------- the print stylesheet

_PRINT_JS = """
() => {
  const shown = (el) => el.getClientRects().length > 0
      && getComputedStyle(el).visibility !== 'hidden';
  const chrome = ['.bd-header', '.bd-sidebar-primary', '.bd-sidebar-secondary',
    '.bd-header-article', '.bd-footer', '.prev-next-footer', 'button', 'a.headerlink',
    'details.hide', '.cell_input', '.crps-handout-link'];
  const visible = chrome.filter((sel) => Array.from(document.querySelectorAll(sel)).some(shown));
  const refs = Array.from(document.querySelectorAll(
      'ol.crps-references a[href^="http"], div.citation a[href^="http"]'));
  const after = refs.map((a) => getComputedStyle(a, '::after').content);
  return {visible: visible, refs: refs.length,
          unprinted: refs.filter((a, i) => !after[i].includes(a.getAttribute('href'))).length,
          article: shown(document.querySelector('.bd-article'))};
}
"""


@pytest.mark.parametrize("page_path", ["03-ketamine.html", "bibliography.html"])
def test_pages_print_without_chrome_and_with_reference_addresses(new_page, book_url: str,
                                                                 tmp_path: Path,
                                                                 page_path: str) -> None:
    from pypdf import PdfReader

    if not (HTML_DIR / page_path).is_file():
        pytest.skip(f"{page_path} is not in this book")
    external: list[str] = []
    page = new_page(external)
    page.goto(book_url + page_path, wait_until="load")
    page.emulate_media(media="print")
    seen = page.evaluate(_PRINT_JS)
    target = tmp_path / "page.pdf"
    page.pdf(path=str(target), format="A4")
    page.close()
    assert seen["article"], "the article itself is not printed"
    assert not seen["visible"], f"printed although it is screen chrome: {seen['visible']}"
    assert seen["refs"] > 0 and seen["unprinted"] == 0, seen
    text = _words(" ".join(p.extract_text() for p in PdfReader(target).pages))
    assert "https://doi.org/10." in text.replace(" ", "")
    assert not external
    for leak in ("Show the code", "Hide the code", "Click to show", "Click to hide"):
        assert leak not in text, f"{page_path} prints {leak!r}"
