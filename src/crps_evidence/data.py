"""Loading the curated tables, validated against ``data/datapackage.json``.

Validation is done by `frictionless <https://framework.frictionlessdata.io>`_ against the
Table Schema in the data package (types, required fields, enumerations, primary and foreign
keys); the first problem found is raised as a :class:`~crps_evidence.errors.DataError` naming
the file, line, field and value.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import frictionless
import pandas as pd
from frictionless import Package

from .errors import DataError
from .paths import data_dir
from .references import Bibliography, load_references

TABLES = (
    "treatments",
    "studies",
    "outcomes",
    "reference_sources",
    "registry_records",
    "certainty",
    "published_analyses",
    "analyses",
)
DESCRIPTOR = "datapackage.json"

_PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "float64", "boolean": "boolean"}


@cache
def _read_descriptor(path: Path, mtime: float) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


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


def _raise_first(report: Any, csv_path: Path) -> None:
    errors = [error for task in report.tasks for error in task.errors] + list(report.errors)
    if not errors:
        return
    first = errors[0].to_descriptor()
    more = f" ({len(errors) - 1} more problem(s) in this file)" if len(errors) > 1 else ""
    field = first.get("fieldName") or ", ".join(first.get("fieldNames", [])) or None
    value = first.get("cell")
    if value is None and first.get("fieldCells"):
        value = ", ".join(str(c) for c in first["fieldCells"])
    kind = first.get("type", "error")
    line = first.get("rowNumber")
    if kind.endswith("-label"):
        line = 1
        value = first.get("label") or value
    raise DataError(csv_path, f"{kind}: {first.get('note') or first.get('message')}{more}",
                    line=line, field=field, value=value)


def validate_table(name: str, path: str | Path | None = None) -> Path:
    """Validate one table against the data package schema.

    Foreign keys are checked against the tables that stand beside ``path``.

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
    """
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
    csv_path = Path(path) if path is not None else data_dir() / f"{name}.csv"
    if not csv_path.is_file():
        raise DataError(csv_path, f"{name} table not found")
    where, descriptor = _descriptor_for(csv_path)
    descriptor = json.loads(json.dumps(descriptor))  # frictionless mutates what it is given
    target = _resource_descriptor(descriptor, name, where)
    target["path"] = csv_path.name
    referenced = {fk["reference"]["resource"] for fk in target["schema"].get("foreignKeys", [])}
    kept = []
    for resource in descriptor["resources"]:
        if resource["name"] != name and not (csv_path.parent / resource["path"]).is_file():
            if resource["name"] not in referenced:
                continue  # not needed to validate this table
            resource["path"] = str((data_dir() / resource["path"]).resolve())
        kept.append(resource)
    descriptor["resources"] = kept
    inputs = [csv_path] + [
        csv_path.parent / r["path"] for r in kept if r["name"] in referenced and r["name"] != name
    ]
    marker = _validation_marker(descriptor, inputs)
    if marker is not None and marker.is_file():
        return csv_path  # these exact bytes already passed this exact schema
    package = Package(descriptor, basepath=str(csv_path.parent))
    _raise_first(package.get_resource(name).validate(), csv_path)
    _remember_valid(marker)
    return csv_path


def _validation_marker(descriptor: dict[str, Any], inputs: list[Path]) -> Path | None:
    """Cache file standing for "these inputs passed this schema", or ``None`` (cache off).

    The key hashes the frictionless version, the descriptor as validated and the bytes of the
    table and of every table its foreign keys point to, so any change means a new validation.
    Set ``CRPS_EVIDENCE_NO_CACHE=1`` to validate every time.
    """
    from .config import get_settings

    try:
        cache_dir = get_settings().cache_dir  # CRPS_EVIDENCE_CACHE_DIR, _NO_CACHE
    except ValueError:  # a malformed HTTP setting must not stop the data loading
        return None
    if cache_dir is None:
        return None
    digest = hashlib.sha256(frictionless.__version__.encode())
    digest.update(json.dumps(descriptor, sort_keys=True).encode())
    for path in inputs:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return cache_dir / "validated" / digest.hexdigest()


def _remember_valid(marker: Path | None) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only or full disk only costs the next load a validation
        pass


def _read(name: str, path: str | Path | None) -> pd.DataFrame:
    csv_path = validate_table(name, path)
    fields = _resource_descriptor(_descriptor_for(csv_path)[1], name, csv_path)["schema"]["fields"]
    types = {f["name"]: f.get("type", "string") for f in fields}
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_values=[""],
                        encoding="utf-8")
    for column, kind in types.items():
        if kind == "boolean":
            frame[column] = frame[column].map({"true": True, "false": False}).astype("boolean")
        else:
            frame[column] = frame[column].astype(_PANDAS_TYPES.get(kind, "string"))
    return frame


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


class Evidence(NamedTuple):
    """All curated data, loaded and validated together."""

    treatments: pd.DataFrame
    studies: pd.DataFrame
    outcomes: pd.DataFrame
    references: Bibliography
    certainty: pd.DataFrame
    published_analyses: pd.DataFrame
    analyses: pd.DataFrame


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
    )
