"""Registry snapshots: ClinicalTrials.gov studies per treatment, stored under ``data/trials/``.

A snapshot is ``data/trials/<treatment>.json``::

    {
      "treatment": "ketamine",
      "source": "ClinicalTrials.gov API v2",
      "endpoint": "https://clinicaltrials.gov/api/v2/studies",
      "fetched": "2026-11-23T19:30:00Z",
      "query": {"query.cond": "...", "query.intr": "..."},
      "count": 12,
      "records": [{"nct_id": "...", "title": "...", ...}, ...]
    }

No API snapshot is shipped: the registry must be queried (``crps-evidence trials <id> --refresh``)
by someone who can reach it. :func:`load_trials` returns ``None`` until then. Meanwhile
``data/registry_records.csv`` holds registrations someone read by hand on stored copies of
registry pages (:func:`read_records`); the notebooks show those, labelled as such.
The search terms are a starting point for a *search*: registry hits still
need reading before they are cited.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .._files import atomic_write_text, data_lock
from ..errors import DataError
from ..evidence.paths import data_dir
from .clients import TRIAL_COLUMNS, ClinicalTrialsClient, is_valid_nct_id, studies_frame

__all__ = [
    "CRPS_CONDITION",
    "INTERVENTION_TERMS",
    "fetch_trials",
    "load_trials",
    "read_records",
    "refresh_trials",
    "save_trials",
    "snapshot_path",
    "snapshot_text",
    "trial_query",
    "trials_dir",
]

CRPS_CONDITION = (
    '"complex regional pain syndrome" OR "reflex sympathetic dystrophy" OR causalgia'
)
"""``query.cond`` used for every treatment (CRPS and its older names)."""

INTERVENTION_TERMS: dict[str, tuple[str, ...]] = {
    "ketamine": ("ketamine", "esketamine"),
    "ketamine-topical": (
        "topical ketamine",
        "ketamine cream",
        "ketamine gel",
        "ketamine ointment",
    ),
    "lidocaine": ("lidocaine", "lignocaine"),
    "magnesium": ("magnesium",),
    "ivig": ("intravenous immunoglobulin", "immunoglobulin", "IVIG"),
    "plasma-exchange": ("plasma exchange", "plasmapheresis", "immunoadsorption"),
    "hbot": ("hyperbaric oxygen",),
    "physical-therapy": ("physical therapy", "physiotherapy", "exercise therapy"),
    "graded-motor-imagery": ("graded motor imagery", "motor imagery"),
    "mirror-therapy": ("mirror therapy", "mirror visual feedback"),
    "pain-exposure-pt": ("pain exposure physical therapy", "pain exposure"),
    "psychological-therapy": (
        "cognitive behavioral therapy",
        "psychotherapy",
        "psychological intervention",
        "acceptance and commitment therapy",
        "mindfulness",
    ),
    "pain-education": (
        "pain education",
        "pain neuroscience education",
        "patient education",
        "self-management",
    ),
    "interdisciplinary-programme": (
        "interdisciplinary",
        "multidisciplinary",
        "pain management program",
        "pain rehabilitation",
    ),
    "tens": ("transcutaneous electrical nerve stimulation", "TENS"),
    "sympathetic-block": (
        "sympathetic block",
        "sympathetic blockade",
        "stellate ganglion block",
        "lumbar sympathetic block",
    ),
    "scs": ("spinal cord stimulation", "spinal cord stimulator"),
    "drg-stimulation": ("dorsal root ganglion stimulation", "dorsal root ganglion"),
    "scrambler-therapy": ("scrambler therapy", "Calmare"),
    "pool-therapy": ("aquatic therapy", "aquatic exercise", "hydrotherapy", "pool therapy"),
    "desensitisation": (
        "desensitization",
        "desensitisation",
        "tactile discrimination",
        "sensory discrimination",
    ),
    "bisphosphonates": (
        "bisphosphonate",
        "neridronate",
        "neridronic acid",
        "clodronate",
        "pamidronate",
        "alendronate",
        "zoledronic acid",
        "zoledronate",
        "ibandronate",
        "risedronate",
    ),
    "calcitonin": ("calcitonin", "elcatonin"),
    "corticosteroids": (
        "corticosteroid",
        "glucocorticoid",
        "steroid",
        "prednisolone",
        "prednisone",
        "methylprednisolone",
        "dexamethasone",
    ),
    "vitamin-c": ("vitamin C", "ascorbic acid", "ascorbate"),
    "free-radical-scavengers": (
        "dimethyl sulfoxide",
        "DMSO",
        "acetylcysteine",
        "N-acetylcysteine",
        "free radical scavenger",
    ),
    "gabapentin": ("gabapentin",),
    "pregabalin": ("pregabalin",),
    "tadalafil": ("tadalafil",),
    "memantine": ("memantine",),
    "lenalidomide": ("lenalidomide", "thalidomide"),
    "anti-tnf-drugs": (
        "infliximab",
        "adalimumab",
        "etanercept",
        "certolizumab",
        "golimumab",
        "TNF inhibitor",
        "anti-TNF",
    ),
    "infliximab": ("infliximab",),
    "mycophenolate": ("mycophenolate", "mycophenolic acid"),
    "botulinum-toxin": (
        "botulinum toxin",
        "onabotulinumtoxinA",
        "abobotulinumtoxinA",
        "incobotulinumtoxinA",
        "Botox",
    ),
    "low-dose-naltrexone": ("naltrexone", "low dose naltrexone"),
    "intrathecal-baclofen": ("baclofen",),
    "parecoxib": ("parecoxib",),
    "epidural-clonidine": ("clonidine",),
    "intrathecal-clonidine": ("clonidine",),
}
"""Treatment id to the ClinicalTrials.gov intervention terms (joined with ``OR``).

Every treatment of ``treatments.csv`` has terms; ``data/searches.csv`` records the query
they make (``ctgov_condition`` and ``ctgov_intervention``), and
:func:`crps_evidence.current.searches.check_searches` fails when the two disagree.
"""

SOURCE = "ClinicalTrials.gov API v2"
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _checked_slug(treatment_id: str) -> str:
    if not isinstance(treatment_id, str) or not _SLUG.match(treatment_id):
        raise ValueError(f"malformed treatment id {treatment_id!r} (expected a slug)")
    return treatment_id


def _checked_known(treatment_id: str) -> str:
    _checked_slug(treatment_id)
    if treatment_id not in INTERVENTION_TERMS:
        known = ", ".join(INTERVENTION_TERMS)
        raise ValueError(
            f"no registry search terms for treatment {treatment_id!r}; known: {known}"
        )
    return treatment_id


def trials_dir(directory: str | Path | None = None) -> Path:
    """Folder of the snapshots: ``directory`` or the project's ``data/trials``."""
    return Path(directory) if directory is not None else data_dir() / "trials"


def snapshot_path(treatment_id: str, directory: str | Path | None = None) -> Path:
    """Path of one treatment's snapshot (which may not exist)."""
    return trials_dir(directory) / f"{_checked_slug(treatment_id)}.json"


def trial_query(treatment_id: str) -> dict[str, str]:
    """The ``query.cond``/``query.intr`` parameters used for a treatment.

    >>> trial_query("scs")["query.intr"]
    '"spinal cord stimulation" OR "spinal cord stimulator"'
    """
    terms = INTERVENTION_TERMS[_checked_known(treatment_id)]
    return ClinicalTrialsClient.query_params(CRPS_CONDITION, terms)


def _frame_from_records(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=list(TRIAL_COLUMNS))
    frame["enrollment"] = pd.array(
        [None if pd.isna(v) else int(v) for v in frame["enrollment"]], dtype="Int64"
    )
    return frame


def load_trials(
    treatment_id: str, directory: str | Path | None = None
) -> pd.DataFrame | None:
    """Load a treatment's registry snapshot.

    Parameters
    ----------
    treatment_id : str
        Treatment slug, e.g. ``"ketamine"``.
    directory : str or Path, optional
        Snapshot folder; defaults to the project's ``data/trials``.

    Returns
    -------
    pandas.DataFrame or None
        The studies (columns :data:`~crps_evidence.current.clients.TRIAL_COLUMNS`), with
        ``frame.attrs`` holding ``treatment``, ``fetched`` (ISO 8601 UTC), ``query``,
        ``source`` and ``path``; ``None`` when no snapshot has been fetched.

    Raises
    ------
    ValueError
        Malformed treatment id.
    DataError
        The snapshot exists but is not valid JSON or lacks the expected fields.

    Examples
    --------
    >>> load_trials("scrambler-therapy", directory="/nonexistent") is None
    True
    """
    path = snapshot_path(treatment_id, directory)
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(payload, dict):
        raise DataError(path, "expected a JSON object")
    for name in ("treatment", "fetched", "query", "records"):
        if name not in payload:
            raise DataError(path, "missing key", field=name)
    if payload["treatment"] != treatment_id:
        raise DataError(path, f"snapshot is for another treatment (expected {treatment_id!r})",
                        field="treatment", value=payload["treatment"])
    records = payload["records"]
    if not isinstance(records, list):
        raise DataError(path, "expected a list", field="records")
    for i, record in enumerate(records):
        nct = record.get("nct_id") if isinstance(record, dict) else None
        if not isinstance(nct, str) or not is_valid_nct_id(nct):
            raise DataError(path, f"record {i} has no valid NCT id", field="nct_id", value=nct)
    frame = _frame_from_records(records)
    frame.attrs.update(
        {
            "treatment": treatment_id,
            "fetched": payload["fetched"],
            "query": payload["query"],
            "source": payload.get("source", SOURCE),
            "path": str(path),
        }
    )
    return frame


def registry_url(registry_id: str) -> str | None:
    """The registry's own address for a registration, built from its identifier.

    Examples
    --------
    >>> registry_url("NCT00579085")
    'https://clinicaltrials.gov/study/NCT00579085'
    >>> registry_url("ISRCTN63226217")
    'https://www.isrctn.com/ISRCTN63226217'
    >>> registry_url("ACTRN12619000494134p")
    'https://www.anzctr.org.au/TrialSearch.aspx#&&searchTxt=ACTRN12619000494134'
    >>> registry_url("EUCTR2009-010557-12-GB")
    'https://www.clinicaltrialsregister.eu/ctr-search/search?query=2009-010557-12'
    >>> registry_url("2012-000058-73")
    'https://www.clinicaltrialsregister.eu/ctr-search/search?query=2012-000058-73'
    >>> registry_url("DRKS-unknown") is None
    True
    """
    found = re.fullmatch(r"(NCT\d{8})|(ISRCTN\d{8})|(ACTRN\d{14})p?"
                         r"|(?:EUCTR)?(\d{4}-\d{6}-\d{2})(-\w+)?", registry_id.strip())
    if not found:
        return None
    nct, isrctn, actrn, eudract = found.group(1), found.group(2), found.group(3), found.group(4)
    if nct:
        return f"https://clinicaltrials.gov/study/{nct}"
    if isrctn:
        return f"https://www.isrctn.com/{isrctn}"
    if actrn:
        return f"https://www.anzctr.org.au/TrialSearch.aspx#&&searchTxt={actrn}"
    return f"https://www.clinicaltrialsregister.eu/ctr-search/search?query={eudract}"


#: Statuses as registry pages word them -> one vocabulary for readers (lower case words).
_STATUS = (
    (r"withdrawn", "withdrawn before anyone took part"),
    (r"terminated|stopped", "stopped early"),
    (r"suspended", "suspended"),
    (r"completed|^complete$", "completed"),
    (r"enrolling by invitation|enrolling_by_invitation", "enrolling by invitation"),
    (r"not yet recruiting|not_yet_recruiting|begins enrollment", "not yet recruiting"),
    (r"no longer recruiting|active, not|active_not", "no longer recruiting"),
    (r"\bn?ot recruiting", "not recruiting"),
    (r"recruiting", "recruiting"),
    (r"unknown", "unknown"),
)


def status_words(shown: object) -> str | None:
    """A registration's status, as a page showed it, in the collection's one vocabulary.

    Examples
    --------
    >>> status_words("This study has been completed."), status_words("COMPLETED")
    ('completed', 'completed')
    >>> status_words("ENROLLING_BY_INVITATION"), status_words("Active - Recruiting")
    ('enrolling by invitation', 'recruiting')
    >>> status_words("Terminated (Unable to recruit patients)")
    'stopped early'
    >>> status_words(None) is None
    True
    """
    if shown is None or pd.isna(shown) or not str(shown).strip():
        return None
    text = str(shown).lower().replace("-", " ")
    for pattern, words in _STATUS:
        if re.search(pattern, text):
            return words
    return text.strip(" .")


def read_records(treatment_id: str, path: str | Path | None = None) -> pd.DataFrame:
    """Registrations of a treatment that someone read by hand (``registry_records.csv``).

    Statuses are as the page showed them on the day it was read, and pages were often
    stored copies of unknown date: check the registry itself before relying on a status.

    Examples
    --------
    >>> records = read_records("scs")
    >>> records["registry_id"].is_unique
    True
    """
    from ..evidence.tables import load_registry_records

    records = load_registry_records(path)
    mine = records[records["treatment_id"] == treatment_id]
    return mine.sort_values("registry_id", kind="stable").reset_index(drop=True)


def save_trials(
    treatment_id: str,
    frame: pd.DataFrame,
    *,
    query: dict[str, Any],
    fetched: datetime | str | None = None,
    endpoint: str | None = None,
    directory: str | Path | None = None,
) -> Path:
    """Write a snapshot atomically (temporary file, fsync, ``os.replace``).

    Parameters
    ----------
    treatment_id : str
        Treatment slug.
    frame : pandas.DataFrame
        Studies with :data:`~crps_evidence.current.clients.TRIAL_COLUMNS`.
    query : dict
        The parameters the registry was asked with.
    fetched : datetime or str, optional
        When the registry was asked; defaults to now (UTC).
    endpoint : str, optional
        The URL asked.
    directory : str or Path, optional
        Snapshot folder; defaults to the project's ``data/trials``.

    Returns
    -------
    Path
        The snapshot written.

    Raises
    ------
    ValueError
        Malformed treatment id, missing columns or an invalid NCT id.
    """
    path = snapshot_path(treatment_id, directory)
    text = snapshot_text(treatment_id, frame, query=query, fetched=fetched, endpoint=endpoint)
    with data_lock(path.parent):  # the data folder's lock, as `update` takes it
        atomic_write_text(path, text)
    return path


def snapshot_text(
    treatment_id: str,
    frame: pd.DataFrame,
    *,
    query: dict[str, Any],
    fetched: datetime | str | None = None,
    endpoint: str | None = None,
) -> str:
    """The JSON text of a snapshot, as :func:`save_trials` writes it.

    Parameters are those of :func:`save_trials` (without ``directory``).

    Raises
    ------
    ValueError
        Malformed treatment id, missing columns or an invalid NCT id.
    """
    _checked_slug(treatment_id)
    missing = [c for c in TRIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"trials table lacks column(s): {', '.join(missing)}")
    bad = [n for n in frame["nct_id"] if not isinstance(n, str) or not is_valid_nct_id(n)]
    if bad:
        raise ValueError(f"invalid NCT id(s): {bad[:5]}")
    if fetched is None:
        fetched = datetime.now(UTC)
    if isinstance(fetched, datetime):
        fetched = fetched.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = []
    for row in frame[list(TRIAL_COLUMNS)].itertuples(index=False):
        record = {}
        for name, value in zip(TRIAL_COLUMNS, row, strict=True):
            if pd.isna(value):
                value = None
            elif name == "enrollment":
                value = int(value)
            record[name] = value
        records.append(record)
    payload = {
        "treatment": treatment_id,
        "source": SOURCE,
        "endpoint": endpoint,
        "fetched": fetched,
        "query": query,
        "count": len(records),
        "records": records,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def fetch_trials(
    treatment_id: str,
    client: ClinicalTrialsClient | None = None,
    *,
    refresh: bool = True,
) -> pd.DataFrame:
    """Ask ClinicalTrials.gov for a treatment's CRPS studies (all pages).

    Parameters
    ----------
    treatment_id : str
        One of :data:`INTERVENTION_TERMS`.
    client : ClinicalTrialsClient, optional
        Defaults to a new client with :func:`~crps_evidence.config.get_settings`.
    refresh : bool
        Bypass the HTTP cache (default), so the snapshot reflects the registry today.

    Returns
    -------
    pandas.DataFrame
        The tidy table, with ``attrs`` ``treatment``, ``fetched``, ``query``, ``endpoint``.

    Raises
    ------
    ValueError
        Unknown treatment id (no request is sent).
    ClientError
        The registry could not be asked.
    """
    _checked_known(treatment_id)
    client = client or ClinicalTrialsClient()
    query = trial_query(treatment_id)
    studies = client.search_studies(
        query["query.cond"], INTERVENTION_TERMS[treatment_id], refresh=refresh
    )
    frame = studies_frame(studies)
    frame.attrs.update(
        {
            "treatment": treatment_id,
            "fetched": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "query": query,
            "endpoint": f"{client.settings.ctgov_url}/studies",
        }
    )
    return frame


def refresh_trials(
    treatment_id: str,
    client: ClinicalTrialsClient | None = None,
    *,
    directory: str | Path | None = None,
) -> Path:
    """Fetch a treatment's studies and rewrite its snapshot; nothing is written on failure.

    Returns
    -------
    Path
        The snapshot written.
    """
    frame = fetch_trials(treatment_id, client)
    return save_trials(
        treatment_id,
        frame,
        query=frame.attrs["query"],
        fetched=frame.attrs["fetched"],
        endpoint=frame.attrs["endpoint"],
        directory=directory,
    )
