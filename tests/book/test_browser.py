"""The rendered book works in a real headless browser, offline.

Run after building the book: ``pytest -m book tests/book`` (see conftest.py for how the
browser and the local server are set up and when these tests are skipped).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from docutils.nodes import make_id

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
HTML_DIR = ROOT / "_build" / "html"
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"

NOTICE = "Educational material, not medical advice."
BIBLIOGRAPHY_PAGE = "bibliography.html"
#: Notebooks about one treatment (03-ketamine ... 14-hyperbaric-oxygen).
TREATMENT_PAGE = re.compile(r"^(0[3-9]|1[0-4])-[a-z0-9-]+\.html$")
IMAGE_FILE_ALT = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)


def _problems(visits, attribute: str) -> dict[str, list]:
    return {page: getattr(v, attribute) for page, v in visits.items() if getattr(v, attribute)}


def test_book_has_the_expected_pages(visits) -> None:
    pages = set(visits)
    assert {"index.html", "search.html", BIBLIOGRAPHY_PAGE} <= pages
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    missing = [name for name in notebooks if f"{name}.html" not in pages]
    assert not missing, f"notebooks without a rendered page: {missing}"


def test_no_console_errors(visits) -> None:
    problems = _problems(visits, "console_errors")
    assert not problems, f"console errors by page: {problems}"


def test_no_failed_requests(visits) -> None:
    problems = _problems(visits, "failed_requests")
    assert not problems, f"failed requests (or HTTP >= 400) by page: {problems}"


def test_no_request_leaves_localhost(visits) -> None:
    problems = _problems(visits, "external_requests")
    assert not problems, f"requests to hosts other than 127.0.0.1 by page: {problems}"


def test_notice_on_every_page(visits) -> None:
    missing = [page for page, v in visits.items() if NOTICE not in v.notice]
    assert not missing, f"pages without the not-medical-advice notice banner: {missing}"


def test_images_load_and_have_alt_text(visits) -> None:
    broken, no_alt = [], []
    for page, v in visits.items():
        for img in v.images:
            if not img["complete"] or img["naturalWidth"] == 0:
                broken.append(f"{page}: {img['src']}")
            alt = (img["alt"] or "").strip()
            # myst-nb falls back to the image's file path when a cell sets no alt text.
            if not alt or IMAGE_FILE_ALT.search(alt):
                no_alt.append(f"{page}: {img['src']} (alt={img['alt']!r})")
    assert not broken, f"images that did not load: {broken}"
    assert not no_alt, (
        "images without real alt text (set it in the cell metadata: "
        f'"mystnb": {{"image": {{"alt": "..."}}}}): {no_alt}'
    )


def test_exercises_render_and_solutions_fold(visits) -> None:
    """``{exercise}`` / ``{solution}`` (sphinx-exercise) render; dropdown solutions start folded."""
    problems = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        source = path.read_text(encoding="utf-8")
        v = visits.get(f"{path.stem}.html")
        if v is None:  # reported by test_book_has_the_expected_pages
            continue
        if "{exercise}" in source and v.exercises == 0:
            problems.append(f"{path.name}: exercise directive not rendered")
        if "{solution}" in source and v.solutions == 0:
            problems.append(f"{path.name}: solution directive not rendered")
        if ":class: dropdown" in source and v.folded_solutions == 0:
            problems.append(f"{path.name}: dropdown solution is not folded (sphinx-togglebutton?)")
    assert not problems, problems


def test_citation_links_land_on_bibliography_entries(visits) -> None:
    bibliography_ids = visits[BIBLIOGRAPHY_PAGE].ids
    dangling = []
    count = 0
    for page, v in visits.items():
        for href in v.citation_hrefs:
            count += 1
            parts = urlsplit(href)
            if not parts.path.endswith("/" + BIBLIOGRAPHY_PAGE):
                dangling.append(f"{page}: {href} (not on the bibliography page)")
            elif parts.fragment not in bibliography_ids:
                dangling.append(f"{page}: {href} (no element with that id)")
    assert not dangling, f"citation links that land nowhere: {dangling}"
    cites_in_sources = any(
        "{cite:" in path.read_text(encoding="utf-8")
        for path in (ROOT / "notebooks").glob("*.ipynb")
    )
    if cites_in_sources:
        assert count > 0, "the notebooks use {cite:...} roles but no page links to #cite-KEY"


def test_every_reference_has_a_stable_anchor(visits) -> None:
    """Each entry of references.bib is on the bibliography page at id ``cite-KEY``."""
    bib = ROOT / "references.bib"
    keys = re.findall(r"^\s*@\s*\w+\s*\{\s*([^,\s]+)\s*,", bib.read_text(encoding="utf-8"), re.M)
    ids = visits[BIBLIOGRAPHY_PAGE].ids
    missing = [key for key in keys if make_id(f"cite-{key}") not in ids]
    assert not missing, f"references.bib entries without a cite-KEY anchor: {missing}"


def test_download_link_for_each_notebook(book_url: str) -> None:
    """Each notebook page offers its .ipynb (theme download button) and it is in the build."""
    missing = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        page = HTML_DIR / f"{path.stem}.html"
        if not page.is_file():  # reported by test_book_has_the_expected_pages
            continue
        html = page.read_text(encoding="utf-8")
        if (
            f'_sources/{path.name}"' not in html
            or not (HTML_DIR / "_sources" / path.name).is_file()
        ):
            missing.append(path.name)
    assert not missing, f"notebook pages without a working .ipynb download: {missing}"


def _search_word() -> str:
    if (HTML_DIR / "03-ketamine.html").is_file():
        return "ketamine"
    return "CRPS"


def test_search_returns_results(new_page, book_url: str) -> None:
    word = _search_word()
    external: list[str] = []
    page = new_page(external)
    page.goto(f"{book_url}search.html?q={word}", wait_until="load")
    results = page.locator("#search-results li")
    results.first.wait_for(state="attached", timeout=20_000)
    assert results.count() > 0, f"search for {word!r} found nothing"
    assert not external
    page.close()


def _treatment_page(pages) -> str:
    pages = sorted(p for p in pages if TREATMENT_PAGE.match(p))
    if pages:
        return pages[0]
    return "01-introduction.html" if (HTML_DIR / "01-introduction.html").is_file() else "index.html"


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("page_path", ["index.html", "treatment", "02-evidence-overview.html",
                                       BIBLIOGRAPHY_PAGE])
def test_screenshots(new_page, book_url: str, visits, page_path: str, width: int) -> None:
    """Save NAME-WIDTH.png (first screen; index-WIDTH-full.png: whole page) to look at."""
    if page_path == "treatment":
        page_path = _treatment_page(visits)
    if page_path not in visits:
        pytest.skip(f"{page_path} is not in this book")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    external: list[str] = []
    page = new_page(external)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(book_url + page_path, wait_until="load")
    page.wait_for_load_state("networkidle", timeout=10_000)
    stem = f"{Path(page_path).stem}-{width}"
    targets = [SCREENSHOT_DIR / f"{stem}.png"]
    page.screenshot(path=str(targets[0]))
    if page_path == "index.html":  # whole pages are slow to capture: the home page only
        targets.append(SCREENSHOT_DIR / f"{stem}-full.png")
        page.screenshot(path=str(targets[1]), full_page=True)
    page.close()
    assert all(t.stat().st_size > 0 for t in targets)
    assert not external


# ------------------------------------------------------------- the book as a reader sees it

BIB_KEYS = re.findall(r"^\s*@\s*\w+\s*\{\s*([^,\s]+)\s*,",
                      (ROOT / "references.bib").read_text(encoding="utf-8"), re.M)
#: Placeholders that must never reach a reader.
PLACEHOLDERS = ("REPLACE-WITH", "REPLACE_WITH", "github.com/OWNER", "example.com/")


def _treatments() -> list[dict]:
    import csv

    with (ROOT / "data" / "treatments.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_scrolls_sideways(visits, width: int) -> None:
    """The document is never wider than the screen (phone and desktop)."""
    wide = {page: (v.layout[width]["scrollWidth"], v.layout[width]["bodyScrollWidth"])
            for page, v in visits.items()
            if max(v.layout[width]["scrollWidth"], v.layout[width]["bodyScrollWidth"])
            > v.layout[width]["width"]}
    assert not wide, f"pages wider than {width} px (document, body scrollWidth): {wide}"


@pytest.mark.parametrize("width", [390, 1280])
def test_tables_fit_or_scroll_in_their_own_box(visits, width: int) -> None:
    problems = {page: v.layout[width]["tableProblems"] for page, v in visits.items()
                if v.layout[width]["tableProblems"]}
    assert not problems, f"tables cut off or pushing the page wider at {width} px: {problems}"


def test_no_missing_value_markers_or_pandas_index(visits) -> None:
    na = [page for page, v in visits.items()
          if re.search(r"<NA>|\bNaN\b", v.reader["text"]) or "&lt;NA&gt;" in v.reader["html"]]
    assert not na, f"pages showing <NA> or NaN: {na}"
    index = {page: v.reader["indexCells"] for page, v in visits.items() if v.reader["indexCells"]}
    assert not index, f"pandas index columns (row numbers, empty corner cells): {index}"


def test_no_placeholder_repository_or_url(visits) -> None:
    found = {page: [p for p in PLACEHOLDERS if p in v.reader["html"]]
             for page, v in visits.items()}
    found = {page: hits for page, hits in found.items() if hits}
    assert not found, f"placeholders in the rendered HTML: {found}"


def test_citations_show_names_never_keys_or_nd(visits) -> None:
    keys = re.compile(r"\b(" + "|".join(map(re.escape, BIB_KEYS)) + r")\b")
    bad = []
    for page, v in visits.items():
        for text in v.reader["citations"] + v.reader["bibliography"]:
            if keys.search(text) or "n.d." in text or " and others" in text:
                bad.append(f"{page}: {text[:80]!r}")
        text = v.reader["text"]  # visible text only: hrefs and ids are not in it
        hit = keys.search(text)
        if hit:
            context = text[max(hit.start() - 40, 0):hit.end() + 40]
            bad.append(f"{page}: raw key {hit.group(0)!r} in {context!r}")
    assert not bad, f"raw citation keys or 'n.d.' shown to readers: {bad}"
    assert sum(len(v.reader["citations"]) for v in visits.values()) > 0


def test_bibliography_entries_link_doi_and_pubmed(visits) -> None:
    from crps_evidence import load_references

    html = visits[BIBLIOGRAPHY_PAGE].reader["html"]
    missing = []
    for key, ref in load_references(ROOT / "references.bib").items():
        entry = re.search(rf'id="{re.escape(make_id("cite-" + key))}"(.*?)</div>', html, re.S)
        if entry is None:
            missing.append(f"{key}: no entry")
            continue
        if ref.doi and f'href="https://doi.org/{ref.doi}"' not in entry.group(1):
            missing.append(f"{key}: no DOI link")
        if ref.pmid and f'href="https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/"' not in entry.group(1):
            missing.append(f"{key}: no PubMed link")
    assert not missing, missing


def test_code_inputs_are_folded(visits) -> None:
    """Every code cell's input is folded away (or removed) for readers."""
    unfolded = {page: v.reader["unfoldedInputs"] for page, v in visits.items()
                if v.reader["unfoldedInputs"] or v.reader["openedInputs"]}
    assert not unfolded, f"pages with code inputs in the reading path: {unfolded}"
    assert sum(v.reader["codeInputs"] for v in visits.values()) > 0, "no code cell at all?"


def test_landing_table_has_a_row_per_treatment(visits) -> None:
    rows = visits["index.html"].reader["landingRows"]
    names = [row["name"] for row in rows]
    expected = [t["name"] for t in _treatments()]
    assert names == expected, "the home page's table must list every row of treatments.csv"
    broken = [row for row in rows
              if row["href"] and not (HTML_DIR / urlsplit(row["href"]).path).is_file()]
    assert not broken, f"treatment links to pages that were not built: {broken}"
    assert all(row["href"] for row in rows if row["name"] in
               {t["name"] for t in _treatments() if t["notebook"]})


def test_about_and_reference_pages_are_in_the_book(visits) -> None:
    for page in ("about.html", "data-dictionary.html", "contributing.html",
                 "using-the-package.html"):
        assert page in visits, f"{page} missing"
    about = visits["about.html"].reader["text"]
    for words in ("Who wrote it", "conflicts of interest", "Reporting an error",
                  "see each page"):
        assert words in about, words
