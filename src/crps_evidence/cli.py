"""The ``crps-evidence`` command line.

Subcommands
-----------
``add-reference DOI [--bib PATH] [--key KEY] [--pmid]``
    Fetch a work's BibTeX by DOI, key it in the project's style and append it to
    ``references.bib`` atomically; duplicates are refused. ``--pmid`` also adds the PubMed
    id when exactly one PubMed record carries the DOI.
``check [--online] [--bib PATH]``
    Run the offline integrity checks; with ``--online`` also compare every entry's title,
    year and journal with Crossref (by DOI) and PubMed (by PMID).
``trials TREATMENT [--refresh] [--snapshot-dir DIR]``
    Print a treatment's ClinicalTrials.gov snapshot; ``--refresh`` fetches it anew.
``analyses [ID ...] [--format json]``
    Every pooled analysis the book shows.
``findings [TREATMENT ...] [--format table|json|csv]``
    The summary of findings (:mod:`crps_evidence.stats.findings`): per treatment, comparison
    and outcome, the studies and participants, the effect, the certainty and what it means.
``update [TREATMENT ...] [--report FILE] [--dry-run]``
    Run the recorded searches again (:mod:`crps_evidence.current.update`): new PubMed records go to
    the screening queue, registrations are compared with the snapshots; all or nothing.
``screen [PMID] [--include | --exclude --reason TEXT | --undo] [--treatment TREATMENT]``
    List the screening queue, or record one decision (:mod:`crps_evidence.current.screening`).

Exit codes: 0 success; 1 problems found, duplicate refused, no snapshot or a PMID not in the
queue; 2 bad input or bad data (usage, malformed DOI, unknown treatment, unreadable
bibliography, a fetched record without the author, year or title a key needs, an exclusion
without reason); 3 a service failed (``update``: nothing written); 4 a file could not be
written; 130 interrupted. ``add-reference --pmid`` still writes the entry when only the
PubMed lookup fails, and warns that the pmid field is missing.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._files import data_lock, remove_stale_temporaries
from ._files import fsync_dir as _fsync_dir
from .config import get_settings, package_version
from .errors import ClientError, DataError
from .evidence.references import (
    Reference,
    doi_problem,
    is_valid_doi,
    load_references,
    make_key,
    normalize_doi,
)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_INPUT = 2
EXIT_SERVICE = 3
EXIT_WRITE = 4

BIB_FIELDS = (
    "author",
    "title",
    "journal",
    "booktitle",
    "publisher",
    "year",
    "volume",
    "number",
    "pages",
    "doi",
    "pmid",
)
"""Fields kept from a fetched entry, in the order they are written."""

ARTICLE_SKIP = frozenset({"booktitle", "publisher"})
"""Fields not written for journal articles (the project's entries do not carry them)."""

MAX_AUTHORS = 10


def _err(message: str) -> None:
    print(f"crps-evidence: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- add-reference


def _format_authors(raw: str) -> str:
    names = [a.strip() for a in re.split(r"\s+and\s+", raw) if a.strip()]
    if len(names) > MAX_AUTHORS:
        names = [*names[:MAX_AUTHORS], "others"]
    return " and ".join(names)


def _format_pages(raw: str) -> str:
    return re.sub(r"\s*(?:--|-|\u2013|\u2014)\s*", "--", raw.strip())


def format_entry(entry_type: str, key: str, fields: dict[str, str]) -> str:
    """Format a BibTeX entry in the project's style.

    Parameters
    ----------
    entry_type : str
        e.g. ``article``.
    key : str
        Citation key.
    fields : dict
        Field values; only :data:`BIB_FIELDS` are written, in that order (for an
        ``article`` without ``booktitle`` and ``publisher``). Authors beyond the tenth
        become ``and others``; page ranges use ``--``; the DOI is normalised.

    Returns
    -------
    str
        The entry, ending with a newline.

    Examples
    --------
    >>> print(format_entry("article", "doe2020trial", {"title": "A trial", "year": "2020",
    ...                    "doi": "10.1000/X1", "url": "dropped"}), end="")
    @article{doe2020trial,
      title = {A trial},
      year = {2020},
      doi = {10.1000/x1}
    }
    """
    body = []
    for name in BIB_FIELDS:
        if entry_type == "article" and name in ARTICLE_SKIP:
            continue
        value = fields.get(name, "").strip()
        if not value:
            continue
        if name == "author":
            value = _format_authors(value)
        elif name == "pages":
            value = _format_pages(value)
        elif name == "doi":
            value = normalize_doi(value)
        body.append(f"  {name} = {{{value}}}")
    return f"@{entry_type}{{{key},\n" + ",\n".join(body) + "\n}\n"


def append_entry(path: str | Path, entry: str, *, verify: Callable[[Path], None] | None = None
                 ) -> None:
    """Append a BibTeX entry to a file atomically, keeping its text byte for byte.

    The new content (old bytes, a blank-line separator, the entry, in the file's own line
    endings) goes to a temporary file in the same folder, which is flushed, fsynced,
    optionally checked by ``verify`` and then moved over the original with
    :func:`os.replace`. On any error the temporary file is removed and the original is
    untouched.

    Parameters
    ----------
    path : str or Path
        The ``.bib`` file (a symlink is followed, so the link stays a link).
    entry : str
        The entry text.
    verify : callable, optional
        Called with the temporary file's path before it replaces the original; raise to
        abort.

    Raises
    ------
    OSError
        The file could not be read or written, or changed while this ran.
    """
    target = Path(path).resolve()
    original = target.read_bytes()
    newline = "\r\n" if b"\r\n" in original else "\n"
    body = entry.replace("\r\n", "\n").replace("\n", newline).encode("utf-8")
    nl = newline.encode()
    if not body.endswith(nl):
        body += nl
    if not original or original.endswith(nl + nl):
        sep = b""
    elif original.endswith(nl):
        sep = nl
    else:
        sep = nl + nl
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(original + sep + body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, target.stat().st_mode & 0o7777)
        if verify is not None:
            verify(tmp)
        if target.read_bytes() != original:
            raise OSError(f"{target} changed while the entry was being added; nothing written")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _bib_path(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    from .evidence.paths import bibliography_path

    return bibliography_path()


def cmd_add_reference(args: argparse.Namespace) -> int:
    """Run ``add-reference``."""
    doi = normalize_doi(args.doi)
    problem = doi_problem(doi)
    if problem:
        shown = args.doi if len(args.doi) <= 80 else args.doi[:80] + "..."
        _err(f"malformed DOI {shown!r}: {problem}; expected '10.<registrant>/<suffix>'; "
             "nothing fetched")
        return EXIT_INPUT
    if args.key is not None and not re.fullmatch(r"[a-z0-9]+", args.key):
        _err(f"--key {args.key!r}: use lower-case letters and digits only")
        return EXIT_INPUT
    path = _bib_path(args.bib)
    refused = _not_bibtex(path)
    if refused:
        _err(f"--bib {path}: {refused}; nothing fetched")
        return EXIT_INPUT
    # One writer at a time: a second add-reference waits, then reads what the first added.
    with data_lock(path):
        remove_stale_temporaries(path.resolve(), older_than=0)  # left by a killed run
        return _add_reference(args, doi, path)


def _not_bibtex(path: Path) -> str | None:
    """Why ``path`` cannot take a new entry (not BibTeX), or ``None``."""
    if path.suffix.lower() != ".bib":
        return "expected a BibTeX file ending in .bib"
    if not path.is_file():
        return "file not found (give the path of an existing .bib file)"
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not UTF-8 text, so not a BibTeX file this tool writes"
    content = "".join(line for line in text.splitlines(keepends=True)
                      if not line.lstrip().startswith("%"))  # BibTeX comment lines
    if content.strip() and not re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", content, re.MULTILINE):
        return "holds no BibTeX entry (no line starting with @type{), so it is not BibTeX"
    return None


#: What a citation key may be: the project's style, and short.
SANE_KEY = re.compile(r"[a-z0-9]{1,64}")


def _add_reference(args: argparse.Namespace, doi: str, path: Path) -> int:
    from .current.clients import Clients, parse_bibtex_entry

    bib = load_references(path)
    for ref in bib.values():
        if ref.doi and normalize_doi(ref.doi) == doi:
            _err(f"{path}: DOI {doi} is already there as '{ref.key}' (line {ref.line}); "
                 "nothing written")
            return EXIT_PROBLEMS
    pmid_failure: ClientError | None = None
    with Clients(get_settings()) as api:
        text = api.crossref.bibtex(doi)
        pmid = None
        if args.pmid:
            try:
                pmid = api.pubmed.pmid_for_doi(doi)
            except ClientError as exc:  # the BibTeX is good: keep it, say what is missing
                pmid_failure = exc
    entry_type, _, fields = parse_bibtex_entry(text)
    first_author = re.split(r"\s+and\s+", fields.get("author", ""))[0].strip()
    year, title = fields.get("year", "").strip(), fields.get("title", "").strip()
    if args.key is None and not (first_author and year and title):
        missing = [n for n, v in (("author", first_author), ("year", year), ("title", title))
                   if not v]
        _err(f"the BibTeX for DOI {doi} has no {' or '.join(missing)}, so no key can be made; "
             "add the entry by hand (or give --key); nothing written")
        return EXIT_INPUT
    key = args.key or make_key(first_author, year, title)
    if not SANE_KEY.fullmatch(key):
        _err(f"the BibTeX for DOI {doi} gives the key {key[:80]!r}"
             + ("..." if len(key) > 80 else "")
             + ", not 1 to 64 lower-case letters and digits; give one with --key; "
             "nothing written")
        return EXIT_INPUT
    clash = next((k for k in bib if k.lower() == key.lower()), None)
    if clash is not None:
        _err(f"{path}: key '{clash}' is already used (line {bib[clash].line}) by another "
             "work; choose one with --key; nothing written")
        return EXIT_PROBLEMS
    fields["doi"] = doi
    fields.pop("pmid", None)
    if pmid:
        fields["pmid"] = pmid
    elif pmid_failure is not None:
        _err(f"warning: the PubMed lookup failed ({pmid_failure}); the entry is written "
             f"without a pmid field: add it by hand, or look it up later with "
             f"`crps-evidence check --online`")
    elif args.pmid:
        _err(f"PubMed has no single record with DOI {doi}; no pmid field added")
    entry = format_entry(entry_type, key, fields)

    def verify(tmp: Path) -> None:
        try:
            new = load_references(tmp)
        except DataError as exc:
            raise ClientError(f"the fetched entry would break {path.name}: {exc}") from None
        if key not in new or len(new) != len(bib) + 1:
            raise ClientError(f"the fetched entry did not parse as one new entry '{key}'")

    append_entry(path, entry, verify=verify)
    print(f"added '{key}' to {path}:")
    print(entry, end="")
    print(f"next: check these fields against the abstract or publisher page and record that "
          f"page for '{key}' in data/reference_sources.csv (`crps-evidence check` asks for it)",
          file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- check


def _plain(text: str) -> str:
    """Lower-case ASCII letters and digits only (no markup, accents, punctuation)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"\\[a-zA-Z]+\s*", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


_JOURNAL_STOP = frozenset({"of", "the", "and", "for", "in", "on", "de", "la", "und", "et"})


def _journal_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", html.unescape(text)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", text.lower().replace("&", " and "))
    return [w for w in words if w not in _JOURNAL_STOP]


def journal_matches(name: str, candidates: Sequence[str]) -> bool:
    """Whether a journal name equals, or abbreviates word by word, one of ``candidates``.

    >>> journal_matches("N Engl J Med", ["The New England Journal of Medicine"])
    True
    >>> journal_matches("Pain", ["Pain Medicine"])
    False
    """
    mine = _journal_words(name)
    if not mine:
        return True
    for candidate in candidates:
        theirs = _journal_words(candidate)
        if mine == theirs:
            return True
        if len(mine) == len(theirs) and all(
            t.startswith(m) for m, t in zip(mine, theirs, strict=True)
        ):
            return True
        if len(theirs) == len(mine) and all(
            m.startswith(t) for m, t in zip(mine, theirs, strict=True)
        ):
            return True
    return False


def _crossref_years(message: dict[str, Any]) -> set[str]:
    years = set()
    for name in ("issued", "published-print", "published-online", "published"):
        parts = (message.get(name) or {}).get("date-parts") or []
        if parts and parts[0] and parts[0][0]:
            years.add(str(parts[0][0]))
    return years


def crossref_mismatches(ref: Reference, message: dict[str, Any]) -> list[str]:
    """Differences between a bibliography entry and its Crossref record.

    Compares the title (ignoring case, accents, markup and punctuation), the year (any of
    Crossref's issued/print/online years) and the journal (full or abbreviated).

    Returns
    -------
    list of str
        One message per differing field, naming the entry and both values.
    """
    problems = []
    titles = [t for t in message.get("title") or [] if t]
    if ref.get("title") and titles and _plain(ref.get("title")) not in {_plain(t) for t in titles}:
        problems.append(f"{ref.key}: title differs from Crossref: {ref.get('title')!r} vs "
                        f"{titles[0]!r}")
    years = _crossref_years(message)
    if ref.year and not years:
        problems.append(f"{ref.key}: year {ref.year} could not be checked: Crossref's record "
                        "has no year (issued, print or online); check it by hand")
    elif ref.year and ref.year not in years:
        problems.append(f"{ref.key}: year {ref.year} but Crossref has {'/'.join(sorted(years))}")
    journals = [*(message.get("container-title") or []),
                *(message.get("short-container-title") or [])]
    if ref.get("journal") and journals and not journal_matches(ref.get("journal"), journals):
        problems.append(f"{ref.key}: journal {ref.get('journal')!r} but Crossref has "
                        f"{journals[0]!r}")
    return problems


def pubmed_mismatches(ref: Reference, summary: dict[str, Any]) -> list[str]:
    """Differences between a bibliography entry and its PubMed summary (esummary).

    Compares title, year (publication or electronic publication date), journal (NLM
    abbreviation or full name) and, when both have one, the DOI.

    Returns
    -------
    list of str
        One message per differing field.
    """
    problems = []
    title = summary.get("title") or ""
    if ref.get("title") and title and _plain(ref.get("title")) != _plain(title):
        problems.append(f"{ref.key}: title differs from PubMed {ref.pmid}: "
                        f"{ref.get('title')!r} vs {title!r}")
    years = {m.group(0) for d in (summary.get("pubdate"), summary.get("epubdate"))
             if d and (m := re.match(r"\d{4}", d))}
    if ref.year and not years:
        problems.append(f"{ref.key}: year {ref.year} could not be checked: PubMed {ref.pmid} "
                        "gives no publication date; check it by hand")
    elif ref.year and ref.year not in years:
        problems.append(f"{ref.key}: year {ref.year} but PubMed {ref.pmid} has "
                        f"{'/'.join(sorted(years))}")
    journals = [j for j in (summary.get("source"), summary.get("fulljournalname")) if j]
    if ref.get("journal") and journals and not journal_matches(ref.get("journal"), journals):
        problems.append(f"{ref.key}: journal {ref.get('journal')!r} but PubMed {ref.pmid} has "
                        f"{journals[0]!r}")
    dois = [a.get("value", "") for a in summary.get("articleids") or []
            if isinstance(a, dict) and a.get("idtype") == "doi"]
    if ref.doi and dois and normalize_doi(ref.doi) not in {normalize_doi(d) for d in dois}:
        problems.append(f"{ref.key}: DOI {ref.doi} but PubMed {ref.pmid} gives {dois[0]}")
    return problems


def check_online(bib_path: Path, problems: list[str] | None = None) -> list[str]:
    """Compare every entry with Crossref (by DOI) and PubMed (by PMID).

    A tqdm progress bar goes to stderr.

    Parameters
    ----------
    bib_path : Path
        The bibliography.
    problems : list of str, optional
        List the findings are appended to as they are made, so a caller keeps those made
        before a service failure; a new list by default.

    Returns
    -------
    list of str
        ``problems``: mismatches, values that could not be checked, and records the
        services do not know.

    Raises
    ------
    ClientError
        A service could not be reached (the check stops: the answer would be incomplete).
    """
    from tqdm import tqdm

    from .current.clients import Clients, NotFoundError
    from .evidence.references import is_valid_pmid

    refs = list(load_references(bib_path).values())
    problems = [] if problems is None else problems
    with Clients(get_settings()) as api:
        pmids = [r.pmid for r in refs if r.pmid and is_valid_pmid(r.pmid)]
        for ref in refs:
            if ref.pmid and not is_valid_pmid(ref.pmid):
                problems.append(f"{ref.key}: malformed PMID {ref.pmid!r}")
            if ref.doi and not is_valid_doi(normalize_doi(ref.doi)):
                problems.append(f"{ref.key}: malformed DOI {ref.doi!r}")
        summaries = api.pubmed.esummary(pmids) if pmids else {}
        for ref in tqdm(refs, desc="checking references", unit="entry", file=sys.stderr,
                        disable=None):
            doi = normalize_doi(ref.doi) if ref.doi else ""
            if doi and is_valid_doi(doi):
                try:
                    problems.extend(crossref_mismatches(ref, api.crossref.work(doi)))
                except NotFoundError:
                    problems.append(f"{ref.key}: DOI {doi} not found in Crossref")
            if ref.pmid and is_valid_pmid(ref.pmid):
                if ref.pmid in summaries:
                    problems.extend(pubmed_mismatches(ref, summaries[ref.pmid]))
                else:
                    problems.append(f"{ref.key}: PMID {ref.pmid} not found in PubMed")
    return problems


def cmd_check(args: argparse.Namespace) -> int:
    """Run ``check``."""
    problems: list[str] = []
    failed = False
    try:
        from .checks import check_integrity
    except ImportError as exc:
        _err(f"the offline checks are unavailable ({exc})")
        failed = True
    else:
        broken = _schema_problems()
        if broken:  # every file that fails its schema, each with all its problems
            for problem in broken:
                _err(problem)
            _err(f"{len(broken)} file(s) fail their schema; the cross-file checks run "
                 "once they pass")
            return EXIT_INPUT
        problems.extend(check_integrity())
    if args.online:
        try:
            check_online(_bib_path(args.bib), problems)
        except ClientError as exc:  # show what was found, then why the check is incomplete
            for problem in problems:
                print(problem)
            found = f"{len(problems)} problem(s) found so far; " if problems else ""
            _err(f"{found}the online check stopped: {exc}")
            return EXIT_SERVICE
    for problem in problems:
        print(problem)
    if failed:
        return EXIT_INPUT
    if problems:
        _err(f"{len(problems)} problem(s) found")
        return EXIT_PROBLEMS
    print("no problems found" + (" (offline and online checks)" if args.online else ""))
    return EXIT_OK


def _schema_problems() -> list[str]:
    """Every table and the bibliography that fail to load, one message each (all problems)."""
    from .evidence import tables
    from .evidence.paths import data_dir
    from .evidence.references import load_references

    found = []
    for table in tables.TABLES:
        path = data_dir() / f"{table}.csv"
        if not path.is_file():  # the checks that need it say so
            continue
        try:
            getattr(tables, f"load_{table}")(path)
        except DataError as exc:
            found.append(str(exc))
    try:
        load_references()
    except DataError as exc:
        found.append(str(exc))
    return found


# --------------------------------------------------------------------------- trials


def cmd_trials(args: argparse.Namespace) -> int:
    """Run ``trials``."""
    import pandas as pd

    from .current.clients import ClinicalTrialsClient
    from .current.trials import INTERVENTION_TERMS, load_trials, refresh_trials

    treatment = args.treatment
    if treatment not in INTERVENTION_TERMS:
        _err(f"unknown treatment {treatment!r}; registry searches exist for: "
             f"{', '.join(INTERVENTION_TERMS)}")
        return EXIT_INPUT
    if args.refresh:
        path = refresh_trials(treatment, ClinicalTrialsClient(get_settings()),
                              directory=args.snapshot_dir)
        print(f"wrote {path}", file=sys.stderr)
    frame = load_trials(treatment, directory=args.snapshot_dir)
    if frame is None:
        shown = _registrations_read_by_hand(treatment)
        _err(f"no registry snapshot for '{treatment}' yet"
             + (" (above: the registrations read by hand)" if shown else "")
             + f"; fetch one with `crps-evidence trials {treatment} --refresh` (needs access "
             "to clinicaltrials.gov)")
        return EXIT_OK if shown else EXIT_PROBLEMS
    query = frame.attrs["query"]
    print(f"# {frame.attrs['source']}, fetched {frame.attrs['fetched']}")
    for name, value in query.items():
        print(f"# {name} = {value}")
    print(f"# {len(frame)} stud{'y' if len(frame) == 1 else 'ies'}; registry entries, "
          "not results: read each record before citing it")
    if len(frame):
        with pd.option_context("display.max_colwidth", 60, "display.width", 200):
            shown = frame.astype(object).where(frame.notna(), "-")
            print(shown.to_string(index=False))
    return EXIT_OK


def _registrations_read_by_hand(treatment: str) -> int:
    """Print the treatment's rows of ``registry_records.csv``; return how many there were."""
    import pandas as pd

    from .evidence.tables import load_registry_records

    records = load_registry_records()
    records = records[records["treatment_id"] == treatment]
    if records.empty:
        return 0
    print(f"# {len(records)} registration(s) of '{treatment}' read by hand on registry pages "
          "or their copies (data/registry_records.csv); statuses as shown on the day read")
    table = records[["registry_id", "status_as_shown", "seen", "title"]].assign(
        title=records["title"].str.slice(0, 70))
    with pd.option_context("display.max_colwidth", 70, "display.width", 200):
        print(table.astype(object).where(table.notna(), "-").to_string(index=False))
    return len(records)


# --------------------------------------------------------------------------- analyses


def cmd_export(args: argparse.Namespace) -> int:
    """Run ``export``: the tables, the analyses for metafor, or the references, into a folder."""
    from .export import export

    written = export(args.to, args.folder)
    for path in written:
        print(_shown_path(path))
    return EXIT_OK


def _shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def cmd_analyses(args: argparse.Namespace) -> int:
    """Run ``analyses``: every pooled analysis of ``data/analyses.csv``, as the book shows it."""
    import json

    import pandas as pd

    from .errors import AnalysisError
    from .evidence.tables import load_all
    from .stats.analyses import analyses_table, run_all

    try:
        results = run_all(load_all())
    except AnalysisError as exc:
        _err(f"an analysis could not be computed: {exc}")
        return EXIT_PROBLEMS
    if args.id:
        results = [r for r in results if r.id in set(args.id)]
        missing = sorted(set(args.id) - {r.id for r in results})
        if missing:
            _err(f"unknown analysis {', '.join(missing)}; see `crps-evidence analyses`")
            return EXIT_INPUT
    if args.format == "json":
        def plain(value: object) -> object:
            if isinstance(value, float) and value != value:  # NaN is not JSON
                return None
            return value.item() if hasattr(value, "item") else value

        payload = json.loads(json.dumps([r.to_json() for r in results], default=plain),
                             parse_constant=lambda _c: None)
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=plain))
        return EXIT_OK
    table = analyses_table(results)
    if table.empty:
        print("no pooled analyses defined in data/analyses.csv")
        return EXIT_OK
    shown = table[["id", "measure", "method", "k", "participants", "estimate", "ci_low",
                   "ci_high", "tau2", "i2", "pi_low", "pi_high"]]
    print("# ratios (RR, OR) on their natural scale; differences as treatment minus control")
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(shown.astype(object).where(shown.notna(), "-").to_string(index=False))
    return EXIT_OK


# --------------------------------------------------------------------------- findings


def _quiet_broken_pipe() -> None:
    """A reader closed our stdout (``| head``): send the rest nowhere, exit quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def cmd_findings(args: argparse.Namespace) -> int:
    """Run ``findings``: the summary of findings, one row per treatment, comparison, outcome."""
    import dataclasses
    import json

    from .errors import AnalysisError
    from .evidence.references import short_citation
    from .evidence.tables import load_all
    from .stats.findings import findings_table, summary_of_findings

    evidence = load_all()
    known = set(evidence.treatments["id"])
    unknown = sorted(set(args.treatment) - known)
    if unknown:
        _err(f"unknown treatment {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return EXIT_INPUT
    try:
        rows = summary_of_findings(evidence)
    except AnalysisError as exc:
        _err(f"the summary of findings could not be computed: {exc}")
        return EXIT_PROBLEMS
    if args.treatment:
        rows = [r for r in rows if r.treatment_id in set(args.treatment)]
    try:
        if args.format == "json":
            def plain(value: object) -> object:
                if isinstance(value, float) and value != value:
                    return None
                return value.item() if hasattr(value, "item") else value

            payload = [{**dataclasses.asdict(r), "studies_text": r.studies_text} for r in rows]
            print(json.dumps(payload, indent=2, ensure_ascii=False, default=plain))
        elif args.format == "csv":
            sys.stdout.write(findings_table(rows).to_csv(index=False, lineterminator="\n"))
        else:
            if not rows:
                print("no findings: no treatment asked for has studies")
            for r in rows:
                entry = evidence.references.get(r.certainty_by)
                rated = ("ours" if r.certainty_by == "this collection"
                         else short_citation(entry) if entry is not None else r.certainty_by)
                print(f"{r.treatment_id} | {r.domain} | {r.comparison}")
                print(f"  studies:   {r.studies_text}; counted: {', '.join(r.scope)}")
                print(f"  effect:    {r.effect_text}")
                print(f"  absolute:  {r.absolute_text}")
                other = f"; other rating {r.other_rating}: {r.why_differ}" if r.other_rating \
                    else ""
                print(f"  certainty: {r.certainty} ({rated}){other}")
                print(f"  statement: {r.statement}")
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    return EXIT_OK


# --------------------------------------------------------------------------- update


def cmd_update(args: argparse.Namespace) -> int:
    """Run ``update``: the recorded searches again, all or nothing."""
    from .current.update import UpdateFailed, plan_lines, report_lines, run_update

    treatments = args.treatment or None
    if args.dry_run:
        for line in plan_lines(treatments=treatments):
            print(line)
        print("dry run: nothing was asked and nothing written", file=sys.stderr)
        return EXIT_OK
    from .current.clients import Clients

    try:
        with Clients(get_settings()) as api:
            result = run_update(treatments=treatments, clients=api, report=args.report)
    except UpdateFailed as exc:
        if exc.done:
            print("found before the update stopped (NOT saved):")
            for line in report_lines(exc.done):
                print(line)
        _err(str(exc))
        return 130 if exc.interrupted else EXIT_SERVICE
    print(f"Search update of {result.run_on}")
    for line in report_lines(result):
        print(line)
    queued = sum(len(t.new_records) for t in result.treatments)
    print(f"saved: {len(result.written)} files (searches.csv last_run = {result.run_on} for "
          f"{len(result.treatments)} treatment(s); {queued} row(s) added to screening.csv; "
          "the runs recorded in search_log.csv"
          + (f"; report in {args.report}" if args.report else "") + ")", file=sys.stderr)
    if queued:
        print("next: `crps-evidence screen` lists the records that wait", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- screen


def _cell(value: object) -> str:
    """A table cell as text, missing values as ``""``."""
    import pandas as pd

    return "" if pd.isna(value) else str(value)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _print_queue(rows: Any, total: int, path: Path) -> None:
    cell = _cell
    print(f"{total} record(s) wait to be screened ({_shown(path)}):")
    for treatment, group in rows.groupby("treatment_id", sort=False):
        print(f"\n{treatment}: {len(group)}")
        for row in group.itertuples(index=False):
            print(f"  {row.pmid}  {cell(row.year) or '----'}  {cell(row.publication_types)}")
            print(f"      {cell(row.title) or '(no summary from PubMed)'}")
            where = [cell(row.journal), f"doi:{row.doi}" if cell(row.doi) else "",
                     f"https://pubmed.ncbi.nlm.nih.gov/{row.pmid}/"]
            print("      " + " | ".join(w for w in where if w))
    print('\nmark one: crps-evidence screen PMID --include | --exclude --reason "..."')


def cmd_screen(args: argparse.Namespace) -> int:
    """Run ``screen``: list the queue, or record one decision."""
    from .current.screening import mark, waiting
    from .evidence.paths import data_dir
    from .evidence.tables import load_screening, load_searches

    path = Path(_shown(data_dir() / "screening.csv"))
    status = ("included" if args.include else "excluded" if args.exclude
              else "to screen" if args.undo else None)
    if args.pmid is None:
        if status is not None:
            _err("say which record: crps-evidence screen PMID --include")
            return EXIT_INPUT
        queue = load_screening(path)
        rows = waiting(queue, args.treatment)
        if rows.empty:
            never = load_searches()["last_run"].isna().all()
            print("no records wait to be screened" + (
                " (no search has been run yet: `crps-evidence update`)" if never else ""))
            return EXIT_OK
        _print_queue(rows, len(rows), path)
        return EXIT_OK
    if status is None:
        queue = load_screening(path)
        mine = queue[queue["pmid"] == args.pmid]
        if mine.empty:
            _err(f"PMID {args.pmid} is not in {path}")
            return EXIT_PROBLEMS
        for row in mine.itertuples(index=False):
            reason = f" ({_cell(row.reason)})" if _cell(row.reason) else ""
            print(f"{row.pmid} {row.treatment_id}: {row.status}{reason}: {_cell(row.title)}")
        print("decide with --include, or --exclude --reason \"...\"", file=sys.stderr)
        return EXIT_OK
    try:
        decision = mark(path, args.pmid, status, reason=args.reason or "",
                        treatment_id=args.treatment)
    except ValueError as exc:
        _err(f"{exc}; nothing written")
        return EXIT_PROBLEMS if "not in the queue" in str(exc) else EXIT_INPUT
    print(f"{decision.pmid} {decision.treatment_id}: {decision.before} -> {decision.after} "
          f"(screening.csv line {decision.line}): {decision.title}")
    if status == "included":
        print("next: add the record to references.bib (`crps-evidence add-reference DOI "
              "--pmid`) and a studies.csv row; `crps-evidence check` lists what is left",
              file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one subparser per command, each with ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="crps-evidence",
        description="Tools for the CRPS evidence notebooks: add and check references, "
        "show clinical-trial registry snapshots, list the pooled analyses, run the recorded "
        "searches again and screen what they find.",
        epilog="Set CRPS_EVIDENCE_CONTACT to your e-mail address (sent to Crossref and NCBI) "
        "and optionally NCBI_API_KEY. Exit codes: 0 ok, 1 problems found, 2 bad input or "
        "bad data, 3 service failure, 4 write failure.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = sub.add_parser(
        "add-reference",
        help="fetch a DOI's BibTeX and append it to references.bib",
        description="Fetch the BibTeX of a DOI (DOI content negotiation), give it a key in the "
        "project's style (surname + year + first significant title word) and append it to "
        "references.bib atomically. A DOI or key already present is refused; on any error "
        "the file is left byte-identical. Check the new entry against the article.",
    )
    add.add_argument("doi", metavar="DOI", help="bare DOI (10.xxxx/...) or https://doi.org/ URL")
    add.add_argument("--bib", metavar="PATH", help="bibliography file (default: the project's "
                     "references.bib)")
    add.add_argument("--key", metavar="KEY", help="use this citation key instead of the "
                     "generated one")
    add.add_argument("--pmid", action="store_true", help="also look the DOI up in PubMed and "
                     "add the pmid field when exactly one record carries that DOI (if PubMed "
                     "cannot be asked, the entry is written without it, with a warning)")
    add.set_defaults(func=cmd_add_reference)

    check = sub.add_parser(
        "check",
        help="run the integrity checks (optionally against Crossref and PubMed)",
        description="Run the offline integrity checks of data and references. With --online, "
        "also compare each entry's title, year and journal with Crossref (by DOI) and PubMed "
        "(by PMID) and report every mismatch.",
    )
    check.add_argument("--online", action="store_true",
                       help="also compare entries with Crossref and PubMed (network)")
    check.add_argument("--bib", metavar="PATH", help="bibliography for --online (default: the "
                       "project's references.bib)")
    check.set_defaults(func=cmd_check)

    trials = sub.add_parser(
        "trials",
        help="show (or refresh) a treatment's ClinicalTrials.gov snapshot",
        description="Print the ClinicalTrials.gov snapshot of a treatment (data/trials/"
        "<treatment>.json). With --refresh, query the registry (CRPS and the treatment's "
        "intervention terms, all pages) and rewrite the snapshot with the date and query.",
    )
    trials.add_argument("treatment", metavar="TREATMENT", help="treatment id, e.g. ketamine")
    trials.add_argument("--refresh", action="store_true",
                        help="fetch from ClinicalTrials.gov and rewrite the snapshot")
    trials.add_argument("--snapshot-dir", metavar="DIR", default=None,
                        help="snapshot folder (default: the project's data/trials)")
    trials.set_defaults(func=cmd_trials)

    analyses = sub.add_parser(
        "analyses",
        help="list every pooled analysis the book shows",
        description="Compute every pooled analysis of data/analyses.csv (the same function the "
        "book's pages call) and print treatment, measure, method, number of trials, estimate "
        "with its 95% CI, tau², I² and the prediction interval. --format json adds the "
        "question, the per-study effects and variances that went in (for re-analysis in "
        "another tool such as R's metafor), the sensitivity checks and the published "
        "meta-analyses of the same question.",
    )
    analyses.add_argument("id", nargs="*", metavar="ID", help="only these analyses")
    analyses.add_argument("--format", choices=("table", "json"), default="table",
                          help="output format (default: table)")
    analyses.set_defaults(func=cmd_analyses)

    export = sub.add_parser(
        "export",
        help="write the data, the analyses or the references for another tool",
        description="Write into FOLDER: csv (every table, validated, with datapackage.json), "
        "json (every table as rows), metafor (per analysis, the per-study effects and variances "
        "and an R script that re-runs it in metafor and compares the estimates), ris or "
        "csl-json (references.bib for reference managers). Files of the same names are "
        "replaced; nothing is dated, so unchanged data exports identically.",
    )
    export.add_argument("--to", required=True,
                        choices=("csv", "json", "metafor", "ris", "csl-json"))
    export.add_argument("folder", metavar="FOLDER", type=Path, help="created if missing")
    export.set_defaults(func=cmd_export)

    findings = sub.add_parser(
        "findings",
        help="print the summary of findings: effect, certainty and what it means",
        description="One row per treatment, comparison and main outcome, computed from the "
        "tables by crps_evidence.stats.findings (the rules are in its docstring): the "
        "studies and participants counted and which treatments they belong to, the relative "
        "effect with its 95% CI and where it comes from (or why no size could be read), the "
        "anticipated absolute effect, the certainty by the headline rule with the other "
        "rating, and the GRADE statement (Santesso et al. 2020).",
    )
    findings.add_argument("treatment", nargs="*", metavar="TREATMENT",
                          help="only these treatments (default: all)")
    findings.add_argument("--format", choices=("table", "json", "csv"), default="table",
                          help="output format (default: table)")
    findings.set_defaults(func=cmd_findings)

    update = sub.add_parser(
        "update",
        help="run the recorded searches again (PubMed and ClinicalTrials.gov)",
        description="Run each treatment's recorded searches (data/searches.csv) from the day "
        "they last ran: PubMed records that entered PubMed since then go to the screening "
        "queue (data/screening.csv) unless references.bib or the queue already has them; "
        "ClinicalTrials.gov registrations are compared with the stored snapshot "
        "(data/trials/) for new ones and status changes. Prints a short report per "
        "treatment. Nothing is written unless every treatment asked for completes; then "
        "the queue, the snapshots, the search dates (last_run) and the report are written "
        "together.",
    )
    update.add_argument("treatment", nargs="*", metavar="TREATMENT",
                        help="only these treatments (default: every recorded search)")
    update.add_argument("--report", metavar="FILE", help="also write the report as Markdown")
    update.add_argument("--dry-run", action="store_true",
                        help="print the date ranges and queries; ask nothing, write nothing")
    update.set_defaults(func=cmd_update)

    screen = sub.add_parser(
        "screen",
        help="list the screening queue, or include or exclude a record",
        description="Without PMID: list the records that wait to be screened. With PMID and "
        "--include or --exclude --reason: record the decision in data/screening.csv "
        "(one line changes). `crps-evidence check` lists included records that have no "
        "study row yet.",
    )
    screen.add_argument("pmid", nargs="?", metavar="PMID", help="the record to decide on")
    decision = screen.add_mutually_exclusive_group()
    decision.add_argument("--include", action="store_true", help="include the record")
    decision.add_argument("--exclude", action="store_true",
                          help="exclude the record (needs --reason)")
    decision.add_argument("--undo", action="store_true", help="put the record back in the queue")
    screen.add_argument("--reason", metavar="TEXT", help="why (required with --exclude)")
    screen.add_argument("--treatment", metavar="TREATMENT",
                        help="only this treatment's rows (needed when a record waits under "
                        "several)")
    screen.set_defaults(func=cmd_screen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``crps-evidence``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code (see the module docstring).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    try:
        return int(args.func(args))
    except ClientError as exc:
        _err(f"{exc}; nothing written")
        return EXIT_SERVICE
    except DataError as exc:
        _err(str(exc))
        return EXIT_INPUT
    except ValueError as exc:
        _err(str(exc))
        return EXIT_INPUT
    except FileNotFoundError as exc:
        _err(str(exc))
        return EXIT_INPUT
    except BrokenPipeError:  # the reader of our output went away (`... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is quiet too
        return EXIT_OK
    except OSError as exc:
        _err(f"cannot write: {exc}; the original file is unchanged")
        return EXIT_WRITE
    except KeyboardInterrupt:
        _err("interrupted; nothing written")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
