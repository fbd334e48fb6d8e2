"""Loading the curated tables, validated against ``data/datapackage.json``.

Every table is validated against the Table Schema in the data package (types, required
fields, enumerations, primary and foreign keys): by an exact column-wise check
(:mod:`crps_evidence.evidence.tableschema`) and, when that cannot show a table valid, by
`frictionless <https://framework.frictionlessdata.io>`_; the first problem found is raised
as a :class:`~crps_evidence.errors.DataError` naming the file, line, field and value. A
table outside ``data/`` (no ``datapackage.json`` beside it) is checked against the
project's schema and its foreign keys against the project's tables
(:mod:`crps_evidence.evidence.validation`).
"""

from __future__ import annotations

import codecs
import hashlib
import json
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import DataError
from . import validation
from .paths import data_dir
from .references import Bibliography, load_references
from .tableschema import FALSE_VALUES, TRUE_VALUES, CsvTable
from .validation import make_plan, validate, warn_unchecked

TABLES = (
    "treatments",
    "studies",
    "outcomes",
    "reference_sources",
    "registry_records",
    "certainty",
    "published_analyses",
    "analyses",
    "searches",
    "screening",
    "risk_of_bias",
    "search_log",
)
DESCRIPTOR = "datapackage.json"

_PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "float64", "boolean": "boolean"}
_TRUTH = {**dict.fromkeys(TRUE_VALUES, True), **dict.fromkeys(FALSE_VALUES, False)}


@cache
def _read_descriptor(path: Path, mtime: float) -> dict[str, Any]:
    """The data package descriptor; :class:`DataError` with file and line when it is not JSON."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        raise DataError(path, "the file starts with a byte-order mark; save it as UTF-8 "
                        "without one (JSON does not allow it)", line=1)
    try:
        descriptor = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(path, "not UTF-8 text; save it as UTF-8",
                        line=data[:exc.start].count(b"\n") + 1) from None
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON: {exc.msg} (column {exc.colno})",
                        line=exc.lineno) from None
    if not isinstance(descriptor, dict):
        raise DataError(path, "not a data package: expected a JSON object", line=1)
    return descriptor


def _descriptor_for(csv_path: Path) -> tuple[Path, dict[str, Any]]:
    """The data package descriptor beside ``csv_path``, else the project's own."""
    candidate = csv_path.parent / DESCRIPTOR
    if not candidate.is_file():
        candidate = data_dir() / DESCRIPTOR
    return candidate, _read_descriptor(candidate, candidate.stat().st_mtime)


def schema_fields(name: str) -> list[dict[str, Any]]:
    """Return the Table Schema fields of table ``name`` from the project's data package."""
    _, descriptor = _descriptor_for(data_dir() / f"{name}.csv")
    return _resource_descriptor(descriptor, name, data_dir() / DESCRIPTOR)["schema"]["fields"]


def _resource_descriptor(descriptor: dict[str, Any], name: str, where: Path) -> dict[str, Any]:
    for resource in descriptor.get("resources", []):
        if resource.get("name") == name:
            return resource
    raise DataError(where, f"no resource named {name!r} in the data package")


def validate_table(name: str, path: str | Path | None = None) -> Path:
    """Validate one table against the data package schema.

    The schema is the ``datapackage.json`` beside ``path``, else the project's. Foreign
    keys are checked against the tables beside ``path``, else against the project's
    ``data/`` tables; a key whose table is in neither place is not checked, and a
    :class:`~crps_evidence.errors.ForeignKeyNotCheckedWarning` says so.

    Parameters
    ----------
    name : str
        Table to validate, one of :data:`TABLES`.
    path : str or Path, optional
        The CSV file; defaults to ``data/<name>.csv`` of the project.

    Returns
    -------
    Path
        The validated file.

    Raises
    ------
    DataError
        Naming file, line, field and value of the first problem.

    Examples
    --------
    >>> validate_table("treatments").name
    'treatments.csv'
    """
    return _validated(name, path)[0]


def _project_data() -> Path | None:
    try:
        return data_dir()
    except FileNotFoundError:
        return None


def _validated(name: str, path: str | Path | None) -> tuple[Path, CsvTable | None]:
    """Validate; return the file and, when it was parsed to validate it, its rows."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
    csv_path = Path(path) if path is not None else data_dir() / f"{name}.csv"
    if not csv_path.is_file():
        raise DataError(csv_path, f"{name} table not found")
    where, descriptor = _descriptor_for(csv_path)
    plan = make_plan(name, csv_path, where, descriptor, _project_data())
    warn_unchecked(plan, stacklevel=4)  # caller of load_<name>()
    marker = _validation_marker(plan.package, plan.inputs)
    if marker is not None and marker.is_file():
        return csv_path, None  # these exact bytes already passed: pandas reads them fastest
    table = validate(plan)
    _remember_valid(marker)
    return csv_path, table


#: Bumped when the checks change, so markers of tables validated by older checks expire.
VALIDATION_VERSION = "3"


def _validation_marker(descriptor: dict[str, Any], inputs: list[Path]) -> Path | None:
    """Cache file standing for "these inputs passed this schema", or ``None`` (cache off).

    The key hashes the checks' version (this module's and frictionless'), the descriptor
    as validated and the bytes of the table and of every table its foreign keys point to,
    so any change means a new validation. Set ``CRPS_EVIDENCE_NO_CACHE=1`` to validate
    every time.
    """
    from ..config import get_settings

    try:
        cache_dir = get_settings().cache_dir  # CRPS_EVIDENCE_CACHE_DIR, _NO_CACHE
    except ValueError:  # a malformed HTTP setting must not stop the data loading
        return None
    if cache_dir is None:
        return None
    digest = hashlib.sha256(f"{VALIDATION_VERSION}/{_frictionless_version()}".encode())
    digest.update(json.dumps(descriptor, sort_keys=True).encode())
    for path in inputs:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return cache_dir / "validated" / digest.hexdigest()


@cache
def _frictionless_version() -> str:
    try:
        return metadata.version("frictionless")
    except metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "absent"


def _remember_valid(marker: Path | None) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only or full disk only costs the next load a validation
        pass


def _forget_valid(csv_path: Path, name: str) -> None:
    """Remove the validation marker of ``csv_path`` (the file was refused after all)."""
    where, descriptor = _descriptor_for(csv_path)
    plan = make_plan(name, csv_path, where, descriptor, _project_data())
    marker = _validation_marker(plan.package, plan.inputs)
    if marker is not None:
        marker.unlink(missing_ok=True)


def _read(name: str, path: str | Path | None) -> pd.DataFrame:
    csv_path, table = _validated(name, path)
    fields = _resource_descriptor(_descriptor_for(csv_path)[1], name, csv_path)["schema"]["fields"]
    types = {f["name"]: f.get("type", "string") for f in fields}
    if table is not None and table.header == list(types):
        return _frame(table, types)
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
        # Never trust a cache over the file: forget it, and let validation say what is wrong.
        _forget_valid(csv_path, name)
        validation.check_structure(csv_path)
        raise DataError(csv_path, f"cannot be read as CSV: {exc}") from None
    for column, kind in types.items():
        if kind == "boolean":
            frame[column] = frame[column].map(_TRUTH).astype("boolean")
        else:
            frame[column] = frame[column].astype(_PANDAS_TYPES.get(kind, "string"))
    return frame


def _frame(table: CsvTable, types: dict[str, str]) -> pd.DataFrame:
    """The DataFrame of a validated table: empty cells missing, columns typed by the schema.

    Each distinct cell is converted once, as frictionless reads it (integers stripped,
    booleans from any of its true/false spellings).
    """
    columns: dict[str, Any] = {}
    for i, (column, kind) in enumerate(types.items()):
        cells = table.column(i)
        if kind == "integer":
            ints = {v: int(v.strip()) for v in set(cells) if v}
            columns[column] = pd.array([ints.get(v) for v in cells], dtype="Int64")
        elif kind == "number":
            floats = {v: float(v.strip()) for v in set(cells) if v}
            columns[column] = np.array([floats.get(v, np.nan) for v in cells], dtype="float64")
        elif kind == "boolean":
            columns[column] = pd.array([_TRUTH.get(v) for v in cells], dtype="boolean")
        else:
            columns[column] = pd.array([v or None for v in cells],
                                       dtype=_PANDAS_TYPES.get(kind, "string"))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(table.rows)))


def load_table(name: str, path: str | Path | None = None) -> pd.DataFrame:
    """Load any table of :data:`TABLES` by name (validated like ``load_<name>``).

    Examples
    --------
    >>> load_table("treatments")["id"].is_unique
    True
    """
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
    return _read(name, path)


def load_treatments(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``treatments.csv``: one row per treatment or sub-modality.

    Examples
    --------
    >>> t = load_treatments()
    >>> t["id"].is_unique
    True
    """
    return _read("treatments", path)


def load_studies(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``studies.csv``: one row per primary study.

    Examples
    --------
    >>> s = load_studies()
    >>> set(s["primary_result"]) <= {"favours_treatment", "no_difference",
    ...     "favours_control", "uncontrolled", "not_reported"}
    True
    """
    return _read("studies", path)


def load_outcomes(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``outcomes.csv``: long format, one row per study, outcome, time point and arm.

    Examples
    --------
    >>> o = load_outcomes()
    >>> set(o["role"]) <= {"treatment", "control", "contrast"}
    True
    """
    return _read("outcomes", path)


def load_reference_sources(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``reference_sources.csv``: where each ``references.bib`` entry was checked.

    Examples
    --------
    >>> r = load_reference_sources()
    >>> r["bibkey"].is_unique
    True
    """
    return _read("reference_sources", path)


def load_registry_records(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``registry_records.csv``: trial registrations read by hand, per treatment.

    Examples
    --------
    >>> r = load_registry_records()
    >>> set(r["source_kind"]) <= {"registry", "aggregator"}
    True
    """
    return _read("registry_records", path)


def load_certainty(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``certainty.csv``: GRADE ratings, published (read) and our own.

    Examples
    --------
    >>> c = load_certainty()
    >>> set(c["certainty"]) <= {"high", "moderate", "low", "very low"}
    True
    """
    return _read("certainty", path)


def load_published_analyses(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``published_analyses.csv``: pooled results of published meta-analyses.

    Examples
    --------
    >>> p = load_published_analyses()
    >>> p["id"].is_unique
    True
    """
    return _read("published_analyses", path)


def load_analyses(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``analyses.csv``: the pooled analyses the book shows, as data.

    Examples
    --------
    >>> a = load_analyses()
    >>> a["id"].is_unique
    True
    """
    return _read("analyses", path)


def load_searches(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``searches.csv``: the recorded PubMed and registry searches, one row per treatment.

    Examples
    --------
    >>> s = load_searches()
    >>> s["treatment_id"].is_unique and set(s["pubmed_filter"]) <= {"none", "trials and reviews"}
    True
    """
    return _read("searches", path)


def load_screening(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``screening.csv``: the queue of records the searches found, with decisions.

    Examples
    --------
    >>> q = load_screening()
    >>> set(q["status"]) <= {"to screen", "included", "excluded"}
    True
    """
    return _read("screening", path)


def load_risk_of_bias(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``risk_of_bias.csv``: one judgement per randomised trial and domain of its tool.

    Examples
    --------
    >>> r = load_risk_of_bias()
    >>> set(r["tool"]) <= {"RoB 2", "RoB 1"} and "overall" in set(r["domain"])
    True
    """
    return _read("risk_of_bias", path)


def load_search_log(path: str | Path | None = None) -> pd.DataFrame:
    """Load ``search_log.csv``: every literature search run for a treatment, as it was run.

    Examples
    --------
    >>> log = load_search_log()
    >>> set(log["searched_by"]) <= {"by hand", "crps-evidence update"}
    True
    """
    return _read("search_log", path)


class Evidence(NamedTuple):
    """All curated data, loaded and validated together."""

    treatments: pd.DataFrame
    studies: pd.DataFrame
    outcomes: pd.DataFrame
    references: Bibliography
    certainty: pd.DataFrame
    published_analyses: pd.DataFrame
    analyses: pd.DataFrame
    risk_of_bias: pd.DataFrame
    #: The data folder the tables came from (its ``searches.csv`` and ``screening.csv`` say
    #: how up to date each treatment is); ``None`` means the project's ``data/``.
    folder: Path | None = None


def load_all(directory: str | Path | None = None, bib: str | Path | None = None) -> Evidence:
    """Load and validate every table and the bibliography.

    Parameters
    ----------
    directory : str or Path, optional
        Folder with the CSV files and ``datapackage.json``; defaults to ``data/``.
    bib : str or Path, optional
        The ``.bib`` file; defaults to the project's ``references.bib``.
    """
    folder = Path(directory) if directory is not None else data_dir()
    return Evidence(
        load_treatments(folder / "treatments.csv"),
        load_studies(folder / "studies.csv"),
        load_outcomes(folder / "outcomes.csv"),
        load_references(bib),
        load_certainty(folder / "certainty.csv"),
        load_published_analyses(folder / "published_analyses.csv"),
        load_analyses(folder / "analyses.csv"),
        load_risk_of_bias(folder / "risk_of_bias.csv"),
        folder,
    )
