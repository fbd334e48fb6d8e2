"""Validating one CSV table against the data package: which schema, which tables its foreign
keys are checked against, the fast exact check, and frictionless as judge and explainer.

The schema is the ``datapackage.json`` beside the table, else the project's own
(``data/datapackage.json``), so a table copied anywhere is checked against the project's
rules. Each foreign key is checked against the referenced table beside the file, else the
project's; when neither exists the key is not checked and a
:class:`ForeignKeyNotCheckedWarning` says so.

:mod:`crps_evidence.evidence.tableschema` checks the table first; only when it cannot show the
table valid is frictionless imported and run (on a private copy of the files, so tables
from two folders can be checked together), and its first error is raised as a
:class:`~crps_evidence.errors.DataError` naming file, line, field and value.
"""

from __future__ import annotations

import codecs
import json
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, ForeignKeyNotCheckedWarning
from . import tableschema
from .tableschema import CsvTable

__all__ = ["Plan", "check_structure", "make_plan", "validate", "warn_unchecked"]


@dataclass(frozen=True)
class Plan:
    """What validating one table involves.

    Attributes
    ----------
    name : str
        The table (resource) name.
    csv_path : Path
        The file validated.
    descriptor_path : Path
        The ``datapackage.json`` whose schema applies.
    package : dict
        That descriptor, reduced to the table (its ``path`` the file's name) and the
        resources its checked foreign keys point to.
    references : dict
        Resource name to the file its key values are read from.
    unchecked : list of str
        Foreign keys that are not checked, described for people.
    """

    name: str
    csv_path: Path
    descriptor_path: Path
    package: dict[str, Any]
    references: dict[str, Path] = field(default_factory=dict)
    unchecked: list[str] = field(default_factory=list)

    @property
    def target(self) -> dict[str, Any]:
        """The resource descriptor of the table."""
        return resource(self.package, self.name, self.descriptor_path)

    @property
    def inputs(self) -> list[Path]:
        """Every file the outcome depends on: the table, then the referenced tables."""
        return [self.csv_path, *self.references.values()]


def resource(package: dict[str, Any], name: str, where: Path) -> dict[str, Any]:
    """The resource called ``name`` in a package descriptor, or :class:`DataError`."""
    for item in package.get("resources", []):
        if item.get("name") == name:
            return item
    raise DataError(where, f"no resource named {name!r} in the data package")


def make_plan(name: str, csv_path: Path, descriptor_path: Path, descriptor: dict[str, Any],
              project_data: Path | None) -> Plan:
    """Decide the schema and the foreign-key tables for validating ``csv_path``.

    Parameters
    ----------
    name : str
        Table name (a resource of the descriptor).
    csv_path : Path
        The file.
    descriptor_path, descriptor : Path, dict
        The data package that applies (not modified).
    project_data : Path or None
        The project's ``data/`` folder, where referenced tables are looked for when they are
        not beside ``csv_path``; ``None`` if there is no project.
    """
    package = json.loads(json.dumps(descriptor))  # a private copy; frictionless mutates it
    target = resource(package, name, descriptor_path)
    target["path"] = csv_path.name
    schema = target.setdefault("schema", {})
    kept_keys, references, unchecked = [], {}, []
    for fk in schema.get("foreignKeys", []):
        other = (fk.get("reference") or {}).get("resource")
        if other in ("", name) or not isinstance(other, str):
            kept_keys.append(fk)
            continue
        referenced = resource(package, other, descriptor_path)
        candidates = [csv_path.parent / referenced["path"]]
        if project_data is not None:
            candidates.append(project_data / referenced["path"])
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            own = fk.get("fields")
            own = ", ".join([own] if isinstance(own, str) else own or [])
            folders = " or ".join(str(p.parent) for p in candidates)
            unchecked.append(f"{own} -> {other} (no {referenced['path']} in {folders})")
            continue
        kept_keys.append(fk)
        references[other] = found.resolve()
    if "foreignKeys" in schema:
        schema["foreignKeys"] = kept_keys
    package["resources"] = [r for r in package["resources"]
                            if r is target or r.get("name") in references]
    return Plan(name, csv_path, descriptor_path, package, references, unchecked)


def validate(plan: Plan) -> CsvTable | None:
    """Validate the table of ``plan``; return it as read when it reads cleanly.

    Returns
    -------
    CsvTable or None
        The table (``None`` when it needed frictionless to be read, e.g. a byte-order
        mark or another dialect: load it with pandas then).

    Raises
    ------
    DataError
        The first problem, naming file, line, field and value.
    """
    check_structure(plan.csv_path, [f.get("name") for f in
                                    plan.target.get("schema", {}).get("fields", [])])
    table = tableschema.read_csv(plan.csv_path)
    if table is not None and _fast_valid(plan, table):
        return table
    _frictionless_validate(plan)
    return table


_QUOTED = re.compile(r'"(?:[^"]|"")*"')
_PLAIN = re.compile(r'[^",\r\n]*')


def _short(text: str, longest: int = 60) -> str:
    return text if len(text) <= longest else text[:longest] + "..."


def check_structure(path: Path, columns: list[str] | None = None) -> None:
    """Refuse a CSV file that readers would read differently, naming line, field and value.

    Before any other check (and before the validation cache can remember the file), the
    file must be UTF-8 (a byte-order mark is allowed), every quoted field must be closed,
    a quote may only open a field or be doubled inside a quoted one, and the header must
    name every column of the schema. Without this, Python's reader would load an unclosed
    quote silently, pandas would refuse the same bytes later, and a quote in the middle of
    a field would vanish.

    Parameters
    ----------
    path : Path
        The CSV file.
    columns : list of str, optional
        The schema's field names; a missing one is reported as the missing column.

    Raises
    ------
    DataError
        Naming the file, the line, the field (when known) and the value.
    """
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        shown = data[start:exc.end].decode("utf-8", errors="replace")
        raise DataError(path, f"byte 0x{data[exc.start]:02x} is not UTF-8 (the file looks "
                        "like Latin-1 or Windows-1252); save it as UTF-8", line=line,
                        value=_short(shown)) from None
    header: list[str] = []
    pos, line, column, field_start = 0, 1, 0, 1
    size = len(text)
    while pos < size:
        field_start = line
        if text[pos] == '"':
            match = _QUOTED.match(text, pos)
            if match is None:
                raise DataError(path, "a quoted field is never closed (a missing \" at "
                                "its end)", line=line, field=_name(header, column, line),
                                value=_short(text[pos:].split("\n", 1)[0]))
            value = match.group(0)[1:-1].replace('""', '"')
            line += match.group(0).count("\n")
            pos = match.end()
            if pos < size and text[pos] not in ",\r\n":
                raise DataError(path, "text after the closing quote of a field (write a \" "
                                "inside a quoted field as \"\")", line=line,
                                field=_name(header, column, field_start),
                                value=_short(match.group(0) + text[pos]
                                             + _PLAIN.match(text, pos + 1).group(0)))
        else:
            match = _PLAIN.match(text, pos)
            value = match.group(0)
            pos = match.end()
            if pos < size and text[pos] == '"':
                raise DataError(path, "a \" inside a field that is not quoted (quote the "
                                "field and double the \")", line=line,
                                field=_name(header, column, line),
                                value=_short(value + '"' + _PLAIN.match(text, pos + 1)
                                             .group(0)))
        if field_start == 1:
            header.append(value)
        if pos >= size:
            break
        if text[pos] == ",":
            column += 1
            pos += 1
            continue
        pos += 2 if text.startswith("\r\n", pos) else 1
        if line == 1 and columns:
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataError(path, f"column {missing[0]!r} is missing from the header "
                                f"(it has: {', '.join(header)})", line=1, field=missing[0])
        line += 1
        column = 0
    if line == 1 and columns:
        missing = [c for c in columns if c not in header]
        if missing:
            raise DataError(path, f"column {missing[0]!r} is missing from the header "
                            f"(it has: {', '.join(header)})", line=1, field=missing[0])


def _name(header: list[str], column: int, line: int) -> str | None:
    if line == 1:
        return None
    return header[column] if column < len(header) else f"column {column + 1}"


def warn_unchecked(plan: Plan, stacklevel: int = 2) -> None:
    """Warn, plainly, about each foreign key of ``plan`` that is not checked.

    Warns
    -----
    ForeignKeyNotCheckedWarning
        One per foreign key whose table was found neither beside the file nor in the
        project's data folder.
    """
    for key in plan.unchecked:
        warnings.warn(f"{plan.csv_path}: foreign key {key} was NOT checked",
                      ForeignKeyNotCheckedWarning, stacklevel=stacklevel + 1)


def _fast_valid(plan: Plan, table: CsvTable) -> bool:
    try:
        tableschema.supported(plan.package, plan.package["resources"])
        target = plan.target
        lookups = {}
        for _, other, theirs in tableschema.foreign_keys(target["schema"]):
            if other in ("", plan.name):
                lookups[(other, tuple(theirs))] = tableschema.lookup(target, table, theirs)
                continue
            referenced = tableschema.read_csv(plan.references[other])
            if referenced is None:
                return False
            described = resource(plan.package, other, plan.descriptor_path)
            lookups[(other, tuple(theirs))] = tableschema.lookup(described, referenced, theirs)
        return tableschema.check_table(target, table, lookups)
    except tableschema.Unsupported:
        return False


def _frictionless_validate(plan: Plan) -> None:
    """Run frictionless on a copy of the files (table and referenced tables side by side)."""
    from frictionless import FrictionlessException, Package

    package = json.loads(json.dumps(plan.package))
    with tempfile.TemporaryDirectory(prefix="crps-evidence-") as tmp:
        folder = Path(tmp)
        copies = {plan.name: plan.csv_path, **plan.references}
        for item in package["resources"]:
            source = copies[item["name"]]
            item["path"] = f"{item['name']}{Path(item['path']).suffix or '.csv'}"
            shutil.copyfile(source, folder / item["path"])
        try:
            report = Package(package, basepath=tmp).get_resource(plan.name).validate()
        except FrictionlessException as exc:
            raise DataError(plan.descriptor_path, "the data package descriptor is not valid: "
                            f"{exc.error.message}") from None
        _raise_first(report, plan, tmp)


#: At most this many problems of one file are listed; the rest are counted.
MAX_LISTED = 20


def _problem(error: Any, plan: Plan, tmp: str) -> tuple[int | None, str | None, object, str]:
    """(line, field, value, what) of one frictionless error, named for a person."""
    found = error.to_descriptor()
    field_name = found.get("fieldName") or ", ".join(found.get("fieldNames", [])) or None
    value = found.get("cell")
    if value is None and found.get("fieldCells"):
        value = ", ".join(str(c) for c in found["fieldCells"])
    kind = found.get("type", "error")
    line = found.get("rowNumber")
    if kind.endswith("-label"):
        line = 1
        value = found.get("label") or value
    note = str(found.get("note") or found.get("message")).replace(tmp, str(plan.csv_path.parent))
    if kind == "foreign-key" and found.get("referenceName") in plan.references:
        note += f" (looked up in {plan.references[found['referenceName']]})"
    return line, field_name, value, f"{kind}: {note}"


def _raise_first(report: Any, plan: Plan, tmp: str) -> None:
    """Raise a DataError naming the first problem and listing every other one (capped)."""
    errors = [error for task in report.tasks for error in task.errors] + list(report.errors)
    if not errors:
        return
    problems = [_problem(error, plan, tmp) for error in errors]
    line, field_name, value, what = problems[0]
    others = []
    for other_line, other_field, other_value, other_what in problems[1:MAX_LISTED]:
        where = [f"line {other_line}"] if other_line is not None else []
        where += [f"field '{other_field}'"] if other_field else []
        where += [f"value {other_value!r}"] if other_value is not None else []
        others.append(f"  {': '.join([*where, other_what])}")
    if len(problems) > MAX_LISTED:
        others.append(f"  ... and {len(problems) - MAX_LISTED} more in this file")
    listed = ("\n" + f"{len(problems) - 1} more problem(s) in this file:\n"
              + "\n".join(others)) if others else ""
    raise DataError(plan.csv_path, what + listed, line=line, field=field_name, value=value)
