"""Running the recorded searches again (``crps-evidence update``), all or nothing.

For each treatment of ``searches.csv`` (or those asked for), :func:`run_update`:

1. asks PubMed (E-utilities ``esearch``, every page) for the records that entered PubMed
   from the search's ``last_run`` to today, both days included (every record up to today
   when it never ran), then ``esummary`` for the ones not already known;
2. queues each record that is neither in ``references.bib`` (same PMID or DOI) nor already
   in ``screening.csv`` for that treatment;
3. asks ClinicalTrials.gov (API v2, every page) for the treatment's registrations and
   compares them with the stored snapshot (``data/trials/<treatment>.json``): new ones,
   status changes, and ones no longer found.

The clients' throttling (NCBI's 3 requests a second, 10 with an API key), retries (HTTP
429 with ``Retry-After``, 5xx) and cache apply; PubMed answers are cached under a key that
holds the day, ClinicalTrials.gov is asked afresh so the snapshot is today's.

Nothing is written until every treatment asked for is done. Then the snapshots, the queue,
``searches.csv`` (``last_run`` of exactly those treatments), ``search_log.csv`` (a row per
treatment searched: what was asked, how many records came back and what became of them; a
second run on the same day replaces its rows) and the report, if one was asked for, are
replaced together (:func:`crps_evidence._files.replace_together`). A failure or an
interruption (Ctrl+C) writes nothing and raises :class:`UpdateFailed`, which says which
treatments were done, which one failed and which were not reached; running the command
again repeats the done ones from the HTTP cache.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .._files import csv_style, csv_text, data_lock, read_csv_rows, replace_together
from ..errors import ClientError, CRPSEvidenceError, DataError
from ..evidence.paths import project_root
from ..evidence.references import load_references
from ..evidence.tables import load_screening, load_search_log, load_searches
from .screening import COLUMNS, known_identifiers, new_row
from .searches import UPDATE, pubmed_url
from .trials import load_trials, snapshot_path, snapshot_text, trials_dir

__all__ = [
    "Registration",
    "TreatmentUpdate",
    "UpdateFailed",
    "UpdateResult",
    "plan_lines",
    "report_lines",
    "report_markdown",
    "run_update",
]

PAGE_SIZE = 1000
"""PMIDs asked for per ``esearch`` page."""


@dataclass(frozen=True)
class Registration:
    """One registration the update reports.

    Attributes
    ----------
    nct_id, title : str
    status : str or None
        Its overall status now (for one no longer found: in the old snapshot).
    before : str or None
        Its status in the old snapshot (status changes only).
    """

    nct_id: str
    title: str
    status: str | None
    before: str | None = None


@dataclass
class TreatmentUpdate:
    """What the searches of one treatment found.

    Attributes
    ----------
    treatment_id : str
    since : datetime.date or None
        First day of the PubMed date range (the last run); ``None``: first search.
    until : datetime.date
        Last day of the range (the day of the run).
    pubmed_count : int
        Records the PubMed search found in the range.
    new_records : list of dict
        The rows added to the screening queue (:data:`~crps_evidence.current.screening.COLUMNS`).
    in_bibliography : int
        Records found that ``references.bib`` already holds (by PMID or DOI).
    already_queued : int
        Records found that were already in the queue for this treatment.
    notes : list of str
        PubMed's remarks on the query (e.g. a phrase it did not find).
    registrations : int
        Registrations ClinicalTrials.gov returned.
    first_snapshot : bool
        There was no snapshot to compare with (every registration is new).
    new_registrations, status_changes, gone : list of Registration
        Compared with the old snapshot: new, with another status, no longer found.
    """

    treatment_id: str
    since: date | None
    until: date
    pubmed_count: int = 0
    new_records: list[dict[str, str]] = field(default_factory=list)
    in_bibliography: int = 0
    already_queued: int = 0
    notes: list[str] = field(default_factory=list)
    registrations: int = 0
    first_snapshot: bool = False
    new_registrations: list[Registration] = field(default_factory=list)
    status_changes: list[Registration] = field(default_factory=list)
    gone: list[Registration] = field(default_factory=list)


@dataclass
class UpdateResult:
    """A completed update.

    Attributes
    ----------
    run_on : datetime.date
        The day (UTC) recorded as ``last_run``.
    treatments : list of TreatmentUpdate
        In the order they were searched.
    written : list of Path
        The files replaced.
    """

    run_on: date
    treatments: list[TreatmentUpdate]
    written: list[Path] = field(default_factory=list)


class UpdateFailed(CRPSEvidenceError):
    """An update that stopped before the end; nothing was written.

    Attributes
    ----------
    done : list of TreatmentUpdate
        Treatments searched completely before the failure (their findings were not saved).
    failed : str or None
        The treatment being searched when it stopped (``None``: it stopped while writing).
    not_run : list of str
        Treatments not reached.
    interrupted : bool
        Stopped by Ctrl+C rather than by a failure.
    cause : BaseException
        What stopped it.
    """

    def __init__(self, done: list[TreatmentUpdate], failed: str | None, not_run: list[str],
                 cause: BaseException, interrupted: bool = False) -> None:
        self.done, self.failed, self.not_run = done, failed, not_run
        self.cause, self.interrupted = cause, interrupted
        where = f"while searching {failed!r}" if failed else "while writing"
        why = "" if interrupted else f" ({str(cause).rstrip('.')})"
        done_ids = ", ".join(t.treatment_id for t in done) or "none"
        left = ", ".join(not_run) or "none"
        super().__init__(
            f"update {'interrupted' if interrupted else 'stopped'} {where}{why}; nothing "
            f"written. Done (not saved): {done_ids}. Not reached: {left}. Running it again "
            "today asks PubMed nothing new for the done ones (cached)")


def _utc_today() -> date:
    return datetime.now(UTC).date()


def _data_folder(root: str | Path | None) -> Path:
    base = Path(root) if root is not None else project_root()
    return base / "data" if (base / "data" / "searches.csv").is_file() else base


def _selected(searches: pd.DataFrame, treatments: Sequence[str] | None) -> list[int]:
    ids = list(searches["treatment_id"])
    if not treatments:
        return list(range(len(ids)))
    unknown = [t for t in treatments if t not in ids]
    if unknown:
        raise ValueError(f"no recorded search for {', '.join(map(repr, unknown))}; "
                         f"searches.csv has: {', '.join(ids)}")
    wanted = set(treatments)
    return [i for i, t in enumerate(ids) if t in wanted]


def _since(value: object) -> date | None:
    return None if pd.isna(value) else date.fromisoformat(str(value))


def _compare(old: pd.DataFrame | None, new: pd.DataFrame, result: TreatmentUpdate) -> None:
    result.registrations = len(new)
    result.first_snapshot = old is None
    before: dict[str, Any] = {} if old is None else dict(zip(old["nct_id"], old["status"],
                                                             strict=True))
    for row in new.itertuples(index=False):
        status = None if pd.isna(row.status) else str(row.status)
        title = "" if pd.isna(row.title) else str(row.title)
        if row.nct_id not in before:
            if old is not None:
                result.new_registrations.append(Registration(row.nct_id, title, status))
            continue
        was = before[row.nct_id]
        was = None if pd.isna(was) else str(was)
        if was != status:
            result.status_changes.append(Registration(row.nct_id, title, status, was))
    if old is not None:
        now = set(new["nct_id"])
        for row in old.itertuples(index=False):
            if row.nct_id not in now:
                result.gone.append(Registration(
                    row.nct_id, "" if pd.isna(row.title) else str(row.title),
                    None if pd.isna(row.status) else str(row.status)))


#: The columns of ``search_log.csv`` (for a project that has none yet).
LOG_COLUMNS = ("treatment_id", "searched_on", "searched_by", "where", "query", "years",
               "records_looked_at", "records_included", "included", "excluded", "note")
LIVE_SERVICES = ("PubMed (NCBI E-utilities, records by the date they were entered) and "
                 "ClinicalTrials.gov (API v2), asked live by crps-evidence update")
#: PubMed's first day, the start of a treatment's first search.
EARLIEST = date(1800, 1, 1)


class _Run:
    """The state of one update: what was read, what will be written."""

    def __init__(self, folder: Path, bib_path: Path, clients: Any, today: date,
                 page_size: int) -> None:
        self.folder, self.clients, self.today, self.page_size = folder, clients, today, page_size
        self.searches_path = folder / "searches.csv"
        self.screening_path = folder / "screening.csv"
        self.searches = load_searches(self.searches_path)
        load_screening(self.screening_path)  # report a broken queue before any request
        self.pmids, self.dois = known_identifiers(load_references(bib_path))
        self.search_header, self.search_rows = read_csv_rows(self.searches_path)
        self.queue_header, self.queue_rows = read_csv_rows(self.screening_path)
        if tuple(self.queue_header) != COLUMNS:
            raise ValueError(f"{self.screening_path}: expected the columns "
                             f"{', '.join(COLUMNS)}")
        self.queued = {(r["pmid"], r["treatment_id"]) for r in self.queue_rows}
        self.seen = {r["pmid"]: r for r in self.queue_rows}
        self.log_path = folder / "search_log.csv"
        if self.log_path.is_file():
            load_search_log(self.log_path)  # a broken log stops the run before any request
            self.log_header, self.log_rows = read_csv_rows(self.log_path)
        else:
            self.log_header, self.log_rows = list(LOG_COLUMNS), []
        self.originals: dict[Path, bytes | None] = {
            self.searches_path: self.searches_path.read_bytes(),
            self.screening_path: self.screening_path.read_bytes(),
            self.log_path: self.log_path.read_bytes() if self.log_path.is_file() else None,
        }
        self.snapshots: dict[Path, str] = {}
        self.old: dict[str, pd.DataFrame | None] = {}

    def prepare(self, order: Sequence[int]) -> None:
        """Read the old snapshots of the treatments to search (a broken one stops it here)."""
        for index in order:
            treatment = str(self.searches.iloc[index]["treatment_id"])
            since = _since(self.searches.iloc[index]["last_run"])
            if since is not None and since > self.today:
                raise DataError(self.searches_path, f"last run after the day of this run "
                                f"({self.today}); a date nobody has reached cannot be a run",
                                line=index + 2, field="last_run", value=since.isoformat())
            path = snapshot_path(treatment, self.folder / "trials")
            self.old[treatment] = load_trials(treatment, directory=trials_dir(path.parent))
            self.originals[path] = path.read_bytes() if path.is_file() else None

    def treatment(self, index: int) -> TreatmentUpdate:
        row = self.searches.iloc[index]
        treatment = str(row["treatment_id"])
        result = TreatmentUpdate(treatment, _since(row["last_run"]), self.today)
        self._pubmed(str(row["pubmed_query"]), result)
        self._registry(str(row["ctgov_condition"]), str(row["ctgov_intervention"]),
                       self.old[treatment], snapshot_path(treatment, self.folder / "trials"),
                       result)
        return result

    def _pubmed(self, query: str, result: TreatmentUpdate) -> None:
        hits = self.clients.pubmed.search(query, mindate=result.since, maxdate=self.today,
                                          page_size=self.page_size)
        result.pubmed_count, result.notes = hits.count, hits.notes
        fresh = []
        for pmid in hits.pmids:
            if pmid in self.pmids:
                result.in_bibliography += 1
            elif (pmid, result.treatment_id) in self.queued:
                result.already_queued += 1
            else:
                fresh.append(pmid)
        wanted = [p for p in fresh if p not in self.seen]
        summaries = self.clients.pubmed.esummary(wanted) if wanted else {}
        for pmid in fresh:
            if pmid in self.seen:  # queued for another treatment: same record, no request
                row = {**self.seen[pmid], "treatment_id": result.treatment_id,
                       "found": self.today.isoformat(), "status": "to screen", "reason": "",
                       "screened": ""}
            else:
                row = new_row(pmid, summaries.get(pmid), result.treatment_id, self.today)
            if row["doi"] and row["doi"] in self.dois:
                result.in_bibliography += 1
                continue
            result.new_records.append(row)

    def _registry(self, condition: str, intervention: str, old: pd.DataFrame | None,
                  path: Path, result: TreatmentUpdate) -> None:
        from .clients import studies_frame

        studies = self.clients.trials.search_studies(condition, intervention, refresh=True)
        frame = studies_frame(studies)
        _compare(old, frame, result)
        query = self.clients.trials.query_params(condition, intervention)
        self.snapshots[path] = snapshot_text(
            result.treatment_id, frame, query=query,
            endpoint=f"{self.clients.trials.settings.ctgov_url}/studies")

    def record(self, result: TreatmentUpdate) -> None:
        """Keep a finished treatment's findings for the final write."""
        for row in result.new_records:
            self.queue_rows.append(row)
            self.queued.add((row["pmid"], row["treatment_id"]))
            self.seen.setdefault(row["pmid"], row)
        for row in self.search_rows:
            if row["treatment_id"] == result.treatment_id:
                row["last_run"] = self.today.isoformat()
        self._log(result)

    def _log(self, result: TreatmentUpdate) -> None:
        """The run's row of ``search_log.csv`` for this treatment (a same-day run replaces it)."""
        search = next(r for r in self.search_rows if r["treatment_id"] == result.treatment_id)
        first = (result.since or EARLIEST).year
        row = {
            "treatment_id": result.treatment_id, "searched_on": self.today.isoformat(),
            "searched_by": UPDATE, "where": LIVE_SERVICES,
            "query": f"PubMed: {search['pubmed_query']} ; ClinicalTrials.gov: condition "
                     f"{search['ctgov_condition']}; intervention {search['ctgov_intervention']}",
            "years": f"{first}-{self.today.year}",
            "records_looked_at": str(result.pubmed_count), "records_included": "0",
            "included": "",
            "excluded": f"{result.in_bibliography} already in references.bib; "
                        f"{result.already_queued} already in the screening queue; "
                        f"{len(result.new_records)} new, waiting to be screened",
            "note": f"PubMed records entered {_range(result)}. ClinicalTrials.gov: "
                    f"{_registry_summary(result)}. Records are included when screened "
                    "(crps-evidence screen), not by this run.",
        }
        key = (row["treatment_id"], row["searched_on"], row["searched_by"])
        self.log_rows = [r for r in self.log_rows
                         if (r["treatment_id"], r["searched_on"], r["searched_by"]) != key]
        self.log_rows.append(row)

    def texts(self) -> dict[Path, str]:
        """Every file to write, the queue before the search dates (see replace_together)."""
        texts = dict(self.snapshots)
        texts[self.screening_path] = csv_text(self.queue_header, self.queue_rows,
                                              csv_style(self.screening_path))
        texts[self.searches_path] = csv_text(self.search_header, self.search_rows,
                                             csv_style(self.searches_path))
        texts[self.log_path] = csv_text(self.log_header, self.log_rows,
                                        csv_style(self.log_path) if self.log_path.is_file()
                                        else None)
        self._validate(texts)
        return texts

    def _validate(self, texts: dict[Path, str]) -> None:
        """Load the new tables from a scratch copy first: a bad row is never written."""
        with tempfile.TemporaryDirectory(prefix="crps-evidence-update-") as tmp:
            scratch = Path(tmp)
            for name in ("datapackage.json", "treatments.csv"):
                shutil.copyfile(self.folder / name, scratch / name)
            (scratch / "screening.csv").write_text(texts[self.screening_path], encoding="utf-8")
            (scratch / "searches.csv").write_text(texts[self.searches_path], encoding="utf-8")
            (scratch / "search_log.csv").write_text(texts[self.log_path], encoding="utf-8")
            load_screening(scratch / "screening.csv")
            load_searches(scratch / "searches.csv")
            load_search_log(scratch / "search_log.csv")


def run_update(
    root: str | Path | None = None,
    treatments: Sequence[str] | None = None,
    *,
    clients: Any = None,
    today: date | None = None,
    page_size: int = PAGE_SIZE,
    report: str | Path | None = None,
    progress: bool | None = None,
) -> UpdateResult:
    """Run the recorded searches again and save what they found, all or nothing.

    Parameters
    ----------
    root : str or Path, optional
        Project root (holding ``data/`` and ``references.bib``) or its ``data/`` folder;
        defaults to the project.
    treatments : sequence of str, optional
        Treatment ids to search; defaults to every row of ``searches.csv``.
    clients : crps_evidence.current.clients.Clients, optional
        Defaults to new clients with :func:`~crps_evidence.config.get_settings`.
    today : datetime.date, optional
        The day of the run (last day of the PubMed range, the new ``last_run``); defaults
        to today (UTC).
    page_size : int
        PMIDs per ``esearch`` page.
    report : str or Path, optional
        Also write :func:`report_markdown` to this file, with the data.
    progress : bool, optional
        Show a progress bar across treatments on stderr; by default only on a terminal.

    Returns
    -------
    UpdateResult

    Raises
    ------
    ValueError
        A treatment without a recorded search (nothing is asked).
    DataError
        A table, the bibliography or a snapshot fails its checks (nothing is asked).
    UpdateFailed
        A service failed or the run was interrupted; nothing was written.
    OSError
        The files could not be written, or changed while the update ran; they are as
        they were.

    Examples
    --------
    >>> from crps_evidence.current.update import run_update
    >>> result = run_update(treatments=["ketamine"])                # doctest: +SKIP
    >>> print("\\n".join(report_lines(result)))                      # doctest: +SKIP
    """
    folder = _data_folder(root)
    bib_path = folder.parent / "references.bib"
    today = today or _utc_today()
    # The data folder stays locked from the first read to the last write: a `screen` run at
    # the same time waits for this one (or refuses after a while) and then reads its result.
    with data_lock(folder / "screening.csv"):
        run = _Run(folder, bib_path, clients, today, page_size)
        order = _selected(run.searches, treatments)
        run.prepare(order)
        if clients is None:
            from .clients import Clients

            with Clients() as own:
                run.clients = own
                return _search_and_save(run, order, report, progress)
        return _search_and_save(run, order, report, progress)


def _search_and_save(run: _Run, order: Sequence[int], report: str | Path | None,
                     progress: bool | None) -> UpdateResult:
    from tqdm import tqdm

    ids = [str(run.searches.iloc[i]["treatment_id"]) for i in order]
    done: list[TreatmentUpdate] = []
    bar = tqdm(order, desc="searching", unit="treatment", file=sys.stderr,
               disable=None if progress is None else not progress)
    current: str | None = None
    try:
        for index in bar:
            current = ids[len(done)]
            bar.set_postfix_str(current)
            result = run.treatment(index)
            run.record(result)
            done.append(result)
        current = None
        texts = run.texts()
        outcome = UpdateResult(run.today, done)
        if report is not None:
            texts = {Path(report): report_markdown(outcome), **texts}
        replace_together(texts, run.originals)
    except ClientError as exc:
        raise UpdateFailed(done, current, ids[len(done) + (current is not None):], exc
                           ) from exc
    except KeyboardInterrupt as exc:
        raise UpdateFailed(done, current, ids[len(done) + (current is not None):], exc,
                           interrupted=True) from None
    finally:
        bar.close()
    outcome.written = list(texts)
    return outcome


# ----------------------------------------------------------------------------- reports


def _range(result: TreatmentUpdate) -> str:
    if result.since is None:
        return f"first search, every record up to {result.until}"
    return f"records entered {result.since} to {result.until}"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _registry_summary(result: TreatmentUpdate) -> str:
    text = f"ClinicalTrials.gov: {_count(result.registrations, 'registration')}"
    if result.first_snapshot:
        return text + " (first snapshot: nothing to compare with)"
    return (f"{text}; {_count(len(result.new_registrations), 'new', 'new')}, "
            f"{_count(len(result.status_changes), 'status change')}, "
            f"{len(result.gone)} no longer found")


def _pubmed_summary(result: TreatmentUpdate) -> str:
    return (f"PubMed, {_range(result)}: {_count(result.pubmed_count, 'record')}; "
            f"{len(result.new_records)} new in the screening queue, "
            f"{result.in_bibliography} already in references.bib, "
            f"{result.already_queued} already queued")


def _totals(results: Sequence[TreatmentUpdate]) -> str:
    records = sum(len(r.new_records) for r in results)
    new = sum(len(r.new_registrations) for r in results)
    changed = sum(len(r.status_changes) for r in results)
    return (f"{_count(len(results), 'treatment')} searched: "
            f"{_count(records, 'new record')} to screen, "
            f"{_count(new, 'new registration')}, {_count(changed, 'status change')}")


def report_lines(result: UpdateResult | Sequence[TreatmentUpdate]) -> list[str]:
    """The short plain-text report: per treatment, new records, registrations, statuses.

    Parameters
    ----------
    result : UpdateResult or sequence of TreatmentUpdate
        A finished update, or the treatments done before a failure.

    Returns
    -------
    list of str
        Lines to print.
    """
    results = result.treatments if isinstance(result, UpdateResult) else list(result)
    lines = []
    for item in results:
        lines.append(item.treatment_id)
        lines.append(f"  {_pubmed_summary(item)}")
        lines.extend(f"  PubMed remark: {note}" for note in item.notes)
        lines.append(f"  {_registry_summary(item)}")
        for reg in item.new_registrations:
            lines.append(f"    new: {reg.nct_id} ({reg.status or 'no status'}) {reg.title}")
        for reg in item.status_changes:
            lines.append(f"    status: {reg.nct_id} {reg.before or 'none'} -> "
                         f"{reg.status or 'none'} {reg.title}")
        for reg in item.gone:
            lines.append(f"    no longer found: {reg.nct_id} {reg.title}")
    lines.append(_totals(results))
    return lines


def _md(text: str) -> str:
    """Text safe in a Markdown list item (no accidental emphasis, links or HTML)."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def report_markdown(result: UpdateResult) -> str:
    """The report as Markdown: a summary table, then each treatment with links.

    New records link to PubMed, registrations to ClinicalTrials.gov.
    """
    lines = [f"# Search update of {result.run_on}", "", _totals(result.treatments) + ".", "",
             "| Treatment | PubMed range | Records | New to screen | Registrations | New | "
             "Status changes |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for item in result.treatments:
        first = "first snapshot" if item.first_snapshot else str(len(item.new_registrations))
        since = f"{item.since} to {item.until}" if item.since else f"up to {item.until}"
        lines.append(f"| {item.treatment_id} | {since} | {item.pubmed_count} | "
                     f"{len(item.new_records)} | {item.registrations} | {first} | "
                     f"{'-' if item.first_snapshot else len(item.status_changes)} |")
    for item in result.treatments:
        lines += ["", f"## {item.treatment_id}", "", f"- {_md(_pubmed_summary(item))}."]
        for note in item.notes:
            lines.append(f"- PubMed remark: {_md(note)}")
        for row in item.new_records:
            bits = ", ".join(b for b in (row["journal"], row["year"], row["publication_types"])
                             if b)
            title = _md(row["title"]) or "(no summary from PubMed)"
            lines.append(f"  - [PMID {row['pmid']}](https://pubmed.ncbi.nlm.nih.gov/"
                         f"{row['pmid']}/) {title}" + (f" ({_md(bits)})" if bits else ""))
        lines.append(f"- {_md(_registry_summary(item))}.")
        link = "https://clinicaltrials.gov/study/"
        for reg in item.new_registrations:
            lines.append(f"  - new: [{reg.nct_id}]({link}{reg.nct_id}) {_md(reg.title)} "
                         f"({_md(reg.status or 'no status')})")
        for reg in item.status_changes:
            lines.append(f"  - status: [{reg.nct_id}]({link}{reg.nct_id}) "
                         f"{_md(reg.before or 'none')} → {_md(reg.status or 'none')}: "
                         f"{_md(reg.title)}")
        for reg in item.gone:
            lines.append(f"  - no longer found: [{reg.nct_id}]({link}{reg.nct_id}) "
                         f"{_md(reg.title)}")
    return "\n".join(lines) + "\n"


def plan_lines(root: str | Path | None = None, treatments: Sequence[str] | None = None,
               today: date | None = None) -> list[str]:
    """What an update would ask, without asking: per treatment the range and both queries.

    Examples
    --------
    >>> lines = plan_lines(treatments=["tadalafil"], today=date(2027, 1, 5))
    >>> lines[0]
    'tadalafil: never run; PubMed every record up to 2027-01-05'
    >>> lines[3].startswith("  ClinicalTrials.gov query.intr: ")
    True
    """
    folder = _data_folder(root)
    searches = load_searches(folder / "searches.csv")
    today = today or _utc_today()
    lines = []
    for index in _selected(searches, treatments):
        row = searches.iloc[index]
        since = _since(row["last_run"])
        span = (f"last run {since}; PubMed records entered {since} to {today}" if since
                else f"never run; PubMed every record up to {today}")
        lines += [f"{row['treatment_id']}: {span}",
                  f"  PubMed: {row['pubmed_query']}",
                  f"  ClinicalTrials.gov query.cond: {row['ctgov_condition']}",
                  f"  ClinicalTrials.gov query.intr: {row['ctgov_intervention']}",
                  f"  open in PubMed (no date limit): {pubmed_url(str(row['pubmed_query']))}"]
    return lines
