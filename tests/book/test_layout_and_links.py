"""What a reader and a researcher expect of the layout and the links of the built book.

The home page's table fits its column at desktop width; its rows open their own section of a
shared page; headings scale in order on phones; a page says "not medical advice" once; study
tables link their DOI or PubMed record; the data package can be downloaded from the site; a
handout prints the address of its full page.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
HTML_DIR = ROOT / "_build" / "html"
PDF_DIR = ROOT / "_build" / "handouts"
NOTICE = "Educational material, not medical advice."
TREATMENT_LINK = re.compile(r'<td data-label="Treatment"><a href="([^"]+)">([^<]+)</a>')


def _treatments() -> list[dict]:
    with (ROOT / "data" / "treatments.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _html(page: str) -> str:
    path = HTML_DIR / page
    if not path.is_file():
        pytest.skip(f"{path} is not built (make book)")
    return path.read_text(encoding="utf-8")


@pytest.fixture
def page(new_page):
    external: list[str] = []
    tab = new_page(external)
    yield tab
    tab.close()
    assert not external


# ---------------------------------------------------------------------------- the layout

_LANDING_JS = """
() => {
  const table = document.querySelector('table.crps-table caption').closest('table');
  const wrap = table.closest('.crps-table-wrap');
  const box = wrap.getBoundingClientRect();
  const cells = Array.from(table.querySelectorAll('tbody tr:first-child td'));
  return {wrapWidth: wrap.clientWidth, scrollWidth: wrap.scrollWidth,
          hidden: cells.filter((td) => td.getBoundingClientRect().right > box.right + 1)
                       .map((td) => td.dataset.label)};
}
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_home_table_fits_its_column(page, book_url: str, width: int) -> None:
    """No column of the home page's table (Handout, Up to date ...) hides behind a scroll."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(book_url + "index.html", wait_until="load")
    found = page.evaluate(_LANDING_JS)
    assert found["scrollWidth"] <= found["wrapWidth"] + 1, found
    assert not found["hidden"], f"cells out of sight at {width} px: {found['hidden']}"


def test_home_rows_open_their_own_section_of_a_shared_page() -> None:
    """Treatments that share a page link to their own section (an id that exists there);
    at most one of them (the one the page is named after) opens the page's top."""
    rows = TREATMENT_LINK.findall(_html("index.html"))
    assert rows
    by_page: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for href, name in rows:
        parts = urlsplit(href)
        by_page[parts.path].append((name, parts.fragment))
    shared = {p: links for p, links in by_page.items() if len(links) > 1}
    assert shared, "no two treatments share a page: nothing to check"
    problems = []
    for target, links in shared.items():
        ids = set(re.findall(r'\sid="([^"]+)"', _html(target)))
        tops = [name for name, fragment in links if not fragment]
        if len(tops) > 1:
            problems.append(f"{target}: {tops} all open the top of the page")
        problems += [f"{target}#{fragment} ({name}): no such id on the page"
                     for name, fragment in links if fragment and fragment not in ids]
    assert not problems, problems


def test_headings_scale_in_order_on_a_phone(page, book_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(book_url + "08-physical-therapy.html", wait_until="load")
    sizes = page.evaluate("""() => ['h1', 'h2', 'h3', 'h4'].map((tag) => {
        const el = document.querySelector('.bd-article ' + tag);
        return el ? parseFloat(getComputedStyle(el).fontSize) : null; })""")
    present = [s for s in sizes if s is not None]
    assert len(present) >= 3, sizes
    assert present == sorted(present, reverse=True), f"h1..h4 font sizes at 390 px: {sizes}"
    assert len(set(present[:3])) == 3, f"h1, h2 and h3 look the same size: {sizes}"


def test_notice_is_shown_once_per_page(visits) -> None:
    """The banner says it; no page repeats it in its text (a handout's copy is for paper)."""
    repeated = {page: v.reader["text"].count(NOTICE) for page, v in visits.items()
                if v.reader["text"].count(NOTICE) != 1}
    assert not repeated, f"pages showing the not-medical-advice notice other than once: {repeated}"


# ------------------------------------------------------------------------------ the links

def test_study_tables_link_each_studys_record() -> None:
    """On every treatment page, study names link to a DOI or a PubMed record."""
    from crps_evidence import load_all

    evidence = load_all()
    pages = sorted({t["notebook"] for t in _treatments() if t["notebook"]})
    missing = []
    for notebook in pages:
        page = _html(notebook.replace(".ipynb", ".html"))
        if 'data-label="Study"' not in page:
            continue
        keys = evidence.studies.loc[evidence.studies["treatment_id"].isin(
            [t["id"] for t in _treatments() if t["notebook"] == notebook]), "bibkey"]
        for key in keys:
            ref = evidence.references[key]
            url = (f"https://doi.org/{ref.doi}" if ref.doi else
                   f"https://pubmed.ncbi.nlm.nih.gov/{ref.pmid}/" if ref.pmid else None)
            if url and f'<td data-label="Study"><a href="{url}"' not in page:
                missing.append(f"{notebook}: {key} ({url})")
    assert not missing, f"study rows without their record's link: {missing}"


def test_data_package_can_be_downloaded_from_the_site() -> None:
    """Every table of the data package, datapackage.json and one zip of them are in the
    build, and the data dictionary links each."""
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    names = ["datapackage.json", *[r["path"] for r in package["resources"]]]
    dictionary = _html("data-dictionary.html")
    for name in names:
        built = HTML_DIR / "data" / name
        assert built.read_bytes() == (ROOT / "data" / name).read_bytes(), name
        assert f'href="data/{name}"' in dictionary, f"the data dictionary does not link {name}"
    assert 'href="data/crps-evidence-data.zip"' in dictionary
    with zipfile.ZipFile(HTML_DIR / "data" / "crps-evidence-data.zip") as archive:
        inside = {Path(n).name: archive.read(n) for n in archive.namelist()}
    for name in names:
        assert inside.get(Path(name).name) == (ROOT / "data" / name).read_bytes(), name
    rows = list(csv.DictReader(io.StringIO(inside["treatments.csv"].decode("utf-8"))))
    assert [r["id"] for r in rows] == [t["id"] for t in _treatments()]


def test_handouts_print_the_address_of_their_full_page() -> None:
    """On paper a link cannot be followed: the full page's address is printed after it."""
    from pypdf import PdfReader

    treatment = next(t for t in _treatments() if t["notebook"])
    page = treatment["notebook"].replace(".ipynb", ".html")
    html = _html(f"handouts/{treatment['id']}.html")
    assert re.search(rf'class="crps-print-address">\s*\([^)]*{re.escape(page)}', html), (
        f"handouts/{treatment['id']}.html does not print the address of {page}")
    pdf = PDF_DIR / f"{treatment['id']}.pdf"
    if not pdf.is_file():
        pytest.skip(f"{pdf} not printed (make handouts)")
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    text = re.sub(r"-[ \t]*\n\s*", "-", text)  # an address broken at its hyphen
    assert page in " ".join(text.split()), f"{pdf.name} does not print {page}"
