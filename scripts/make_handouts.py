#!/usr/bin/env python3
"""Print the book's handout pages to PDF with headless Chromium (no LaTeX).

Reads the built book (``_build/html``, made by ``make book``), whose ``handouts/`` pages
``notebooks/_ext/crps_handouts.py`` generated from the data, and writes one PDF per row of
``data/treatments.csv`` plus ``all-treatments.pdf`` into ``_build/handouts/``. The pages are
served from 127.0.0.1 and printed by Debian's ``/usr/bin/chromium`` through Playwright
(``page.pdf()``), with the book's print stylesheet; a request to any other host is refused.

The PDFs are deterministic: Chromium's creation and modification dates are removed, and so
are the links to the local server (they would point nowhere once printed); links to DOIs and
other addresses stay. Re-running on the same book gives the same bytes.

Usage::

    python scripts/make_handouts.py                    # A4, into _build/handouts
    python scripts/make_handouts.py --paper Letter --out _build/handouts-letter
    python scripts/make_handouts.py --only ketamine --only hbot
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from urllib.parse import urlsplit

from crps_evidence.book.headless import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOST, serve

ROOT = Path(__file__).resolve().parent.parent
HTML_DIR = ROOT / "_build" / "html"
OUT_DIR = ROOT / "_build" / "handouts"
PAPERS = ("A4", "Letter")


def handout_pages(data_dir: Path) -> list[str]:
    """The handout pages to print (names without ``.html``): the summary, then each treatment."""
    import csv

    from crps_evidence.book.handout_pages import SUMMARY

    with (data_dir / "treatments.csv").open(encoding="utf-8", newline="") as handle:
        return [SUMMARY, *(row["id"] for row in csv.DictReader(handle))]


def clean_pdf(data: bytes, local_prefix: str) -> bytes:
    """Drop the PDF's dates and its links to ``local_prefix``; the same input, the same bytes.

    Parameters
    ----------
    data : bytes
        A PDF as Chromium printed it.
    local_prefix : str
        Links whose address starts with this (the local server) are removed.

    Returns
    -------
    bytes
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, NameObject

    def local(annotation: object) -> bool:
        action = annotation.get_object().get("/A", {})
        return str(action.get("/URI", "")).startswith(local_prefix)

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    for page in reader.pages:
        annotations = page.get("/Annots")
        if annotations is not None:
            kept = ArrayObject(a for a in annotations.get_object() if not local(a))
            if kept:
                page[NameObject("/Annots")] = kept
            else:
                del page[NameObject("/Annots")]
        writer.add_page(page)  # copies what the page uses, and nothing else
    writer.add_metadata({k: v for k, v in (reader.metadata or {}).items()
                         if k not in ("/CreationDate", "/ModDate")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_handout(page, base: str, name: str, target: Path, paper: str) -> Path:
    """Print ``handouts/<name>.html`` of the book served at ``base`` to ``target``.

    Parameters
    ----------
    page : playwright.sync_api.Page
        A page of a Chromium that may reach ``base``.
    base : str
        The book's address, e.g. ``http://127.0.0.1:8000/``.
    name : str
        A treatment id or ``all-treatments``.
    target : Path
        The PDF to write.
    paper : {"A4", "Letter"}
        Paper size.

    Returns
    -------
    Path
        ``target``.
    """
    from crps_evidence.book.handout_pages import FOLDER

    page.goto(f"{base}{FOLDER}/{name}.html", wait_until="load")
    # Everything is local; wait for the web fonts, not for "network idle" (the theme's
    # scripts can keep that from ever coming).
    page.evaluate("() => document.fonts.ready.then(() => true)")
    data = page.pdf(format=paper, print_background=True)
    target.write_bytes(clean_pdf(data, base.rstrip("/")))
    return target


def print_pages(pages: list[str], html_dir: Path, out_dir: Path, paper: str) -> list[Path]:
    """Serve ``html_dir`` and print each handout page to ``out_dir/<name>.pdf``."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    with serve(html_dir, "handouts-http") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        context = browser.new_context()
        outside: list[str] = []

        def route(route, request) -> None:
            local = urlsplit(request.url).hostname == LOCAL_HOST
            if request.url.startswith(("data:", "blob:")) or local:
                route.continue_()
            else:
                outside.append(request.url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        written = [print_handout(page, base, name, out_dir / f"{name}.pdf", paper)
                   for name in pages]
        browser.close()
    if outside:
        raise RuntimeError(f"handout pages asked for other hosts (refused): {outside[:5]}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html-dir", type=Path, default=HTML_DIR,
                        help="the built book (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT_DIR,
                        help="where the PDFs go (default: %(default)s)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data",
                        help="folder holding treatments.csv (default: %(default)s)")
    parser.add_argument("--paper", choices=PAPERS, default="A4", help="paper size (A4)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="print only this handout (a treatment id or all-treatments); "
                             "may be repeated")
    args = parser.parse_args(argv)
    from crps_evidence.book.handout_pages import FOLDER

    pages = handout_pages(args.data_dir)
    if args.only:
        unknown = sorted(set(args.only) - set(pages))
        if unknown:
            print(f"error: no handout named {', '.join(unknown)}; known: {', '.join(pages)}",
                  file=sys.stderr)
            return 2
        pages = [name for name in pages if name in args.only]
    missing = [name for name in pages if not (args.html_dir / FOLDER / f"{name}.html").is_file()]
    if missing:
        print(f"error: {args.html_dir / FOLDER} has no page for {', '.join(missing[:5])}: "
              "build the book first (make book)", file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} is missing (bash scripts/ensure-chromium.sh installs it)",
              file=sys.stderr)
        return 2
    written = print_pages(pages, args.html_dir, args.out, args.paper)
    if not args.only:  # a treatment that left treatments.csv leaves no PDF behind
        for stale in sorted(set(args.out.glob("*.pdf")) - set(written)):
            stale.unlink()
            print(f"removed {stale.name} (no such handout any more)")
    print(f"wrote {len(written)} handout PDF(s) ({args.paper}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
