"""An exact, fast check of one CSV table against its Table Schema.

frictionless builds a Python object per row and per cell; on the project's tables that is
most of the loading time. This module checks the same rules column by column, on the
distinct values of each column, for the Table Schema features the project's data package
uses, and answers only "valid" or "not shown valid":

* the descriptor (package, resource, schema, fields) may only use the keys and types listed
  in :data:`FIELD_KEYS`, :data:`CONSTRAINT_KEYS` and friends; anything else raises
  :class:`Unsupported`;
* the file must read exactly as frictionless reads it (UTF-8 without BOM, the dialect
  ``csv.Sniffer`` finds on the first 100 lines is plain comma/double-quote, a header equal
  to the field names, no blank or ragged row); otherwise :func:`read_csv` returns ``None``;
* every cell is then checked as frictionless checks it: missing values, type (``string``
  with format ``default`` or ``uri``, ``integer``, ``number``, ``boolean``, ``date``),
  ``required``, ``unique``, ``pattern``, ``enum``, ``minLength``/``maxLength``,
  ``minimum``/``maximum``, the primary key and the foreign keys.

Where this module says "not shown valid" or raises :class:`Unsupported`, the caller asks
frictionless, which stays the judge and explains the problem; so no check is ever dropped,
and a table this module accepts is one frictionless accepts. ``tests/test_tableschema.py``
compares the two on many broken tables.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from pathlib import Path
from typing import Any

__all__ = ["CsvTable", "Unsupported", "check_table", "foreign_keys", "lookup", "read_csv",
           "supported"]

PACKAGE_KEYS = {"name": str, "title": str, "description": str, "homepage": str,
                "version": str, "keywords": list, "licenses": list, "resources": list}
RESOURCE_KEYS = {"name": str, "path": str, "profile": str, "format": str, "encoding": str,
                 "title": str, "description": str, "schema": dict}
SCHEMA_KEYS = {"fields": list, "primaryKey": (list, str), "foreignKeys": list}
FIELD_KEYS = {"name": str, "type": str, "format": str, "title": str, "description": str,
              "constraints": dict}
CONSTRAINT_KEYS = {"required", "unique", "pattern", "enum", "minimum", "maximum",
                   "minLength", "maxLength"}
TYPES = {"string", "integer", "number", "boolean", "date"}
#: Constraints frictionless supports per type (others make its descriptor invalid).
TYPE_CONSTRAINTS = {
    "string": {"required", "unique", "pattern", "enum", "minLength", "maxLength"},
    "integer": {"required", "unique", "minimum", "maximum"},
    "number": {"required", "unique", "minimum", "maximum"},
    "boolean": {"required", "unique"},
    "date": {"required", "unique"},
}
NAME_PATTERN = re.compile(r"^([-a-z0-9._/])+$")  # frictionless' v1 name rule
SAMPLE_LINES = 100  # frictionless sniffs the CSV dialect on this many lines
TRUE_VALUES = frozenset({"true", "True", "TRUE", "1"})
FALSE_VALUES = frozenset({"false", "False", "FALSE", "0"})

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What frictionless' URI check (rfc3986, scheme required, passwords allowed) comes to.
_URI_FAST = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


class Unsupported(Exception):
    """The descriptor uses something this module does not check exactly: ask frictionless."""


@dataclass(frozen=True)
class CsvTable:
    """A CSV file read as frictionless reads it.

    Attributes
    ----------
    header : list of str
        The first row.
    rows : list of list of str
        The data rows, each as long as the header and none blank.
    """

    header: list[str]
    rows: list[list[str]]

    @cached_property
    def _columns(self) -> list[tuple[str, ...]]:
        return list(zip(*self.rows, strict=True)) if self.rows else [() for _ in self.header]

    def column(self, index: int) -> tuple[str, ...]:
        """The cells of column ``index`` (0-based), top to bottom."""
        return self._columns[index]


def read_csv(path: Path) -> CsvTable | None:
    """Read a UTF-8 CSV file the way frictionless does, or ``None`` if that needs judgement.

    ``None`` means: a byte-order mark, bytes that are not UTF-8, a dialect other than
    comma-separated with double quotes (as ``csv.Sniffer`` guesses it on the first
    :data:`SAMPLE_LINES` lines, like frictionless), a row that does not parse, an empty
    file, or a data row that is blank or has more or fewer cells than the header.
    """
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    sample = []
    for line in io.StringIO(text, newline=""):
        sample.append(line)
        if len(sample) >= SAMPLE_LINES:
            break
    try:
        dialect: Any = csv.Sniffer().sniff("".join(sample), ",\t;|")
    except csv.Error:
        dialect = csv.excel
    if (dialect.delimiter != "," or dialect.quotechar not in {'"', "'"}
            or dialect.escapechar is not None or dialect.skipinitialspace):
        return None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=",", quotechar='"',
                               doublequote=True, skipinitialspace=False, strict=False))
    except csv.Error:  # e.g. a cell beyond the field size limit
        return None
    if not rows:
        return None
    header, body = rows[0], rows[1:]
    width = len(header)
    if not all(len(row) == width and any(row) for row in body):
        return None
    return CsvTable(header, body)


# ----------------------------------------------------------------------------- descriptor


def _typed(value: object, kinds: type | tuple[type, ...]) -> bool:
    """``isinstance`` that keeps booleans apart from numbers (JSON does)."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, bool):
        return bool in kinds
    return isinstance(value, kinds)


def _only(mapping: Mapping[str, Any], allowed: Mapping[str, Any], what: str) -> None:
    for key, value in mapping.items():
        if key not in allowed or not _typed(value, allowed[key]):
            raise Unsupported(f"{what}: {key!r}")


def _names(value: str | list[str]) -> list[str]:
    names = [value] if isinstance(value, str) else list(value)
    if not names or not all(isinstance(n, str) for n in names):
        raise Unsupported("key fields")
    return names


def supported(package: Mapping[str, Any], resources: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`Unsupported` unless every key is one this module checks exactly.

    Parameters
    ----------
    package : mapping
        The data package descriptor (its ``resources`` are not looked at).
    resources : sequence of mapping
        The resources that will be validated or looked up.
    """
    _only({k: v for k, v in package.items() if k != "resources"}, PACKAGE_KEYS, "package")
    if "name" in package and not NAME_PATTERN.match(package["name"]):
        raise Unsupported("package name")
    if not all(isinstance(k, str) for k in package.get("keywords", [])):
        raise Unsupported("keywords")
    for item in package.get("licenses", []):
        if not isinstance(item, dict):
            raise Unsupported("license")
        _only(item, {"name": str, "path": str, "title": str}, "license")
        if not (item.get("name") or item.get("path")):
            raise Unsupported("license without name or path")
    names = [r.get("name") for r in resources]
    if len(set(names)) != len(names):
        raise Unsupported("resource names")
    for resource in resources:
        _supported_resource(resource)


def _supported_resource(resource: Mapping[str, Any]) -> None:
    _only(resource, RESOURCE_KEYS, "resource")
    if not NAME_PATTERN.match(resource.get("name", "")) or "path" not in resource:
        raise Unsupported("resource name or path")
    if resource.get("profile", "tabular-data-resource") != "tabular-data-resource":
        raise Unsupported("profile")
    if resource.get("format") != "csv":
        raise Unsupported("format")
    try:
        utf8 = codecs.lookup(resource.get("encoding", "")).name == "utf-8"
    except LookupError:
        utf8 = False
    if not utf8:
        raise Unsupported("encoding")
    schema = resource.get("schema")
    if not isinstance(schema, dict):
        raise Unsupported("schema")
    _only(schema, SCHEMA_KEYS, "schema")
    fields = schema.get("fields", [])
    if not fields or not all(isinstance(f, dict) for f in fields):
        raise Unsupported("fields")
    names = [f.get("name") for f in fields]
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise Unsupported("field names")
    for field in fields:
        _supported_field(field)
    by_name = {f["name"]: f for f in fields}
    primary = _names(schema["primaryKey"]) if "primaryKey" in schema else []
    if not set(primary) <= set(by_name):
        raise Unsupported("primary key")
    for name in primary:
        if by_name[name]["type"] != "string" or by_name[name].get("format", "default") not in {
                "default", "uri"}:
            raise Unsupported("primary key type")
    for fk in schema.get("foreignKeys", []):
        if not isinstance(fk, dict) or set(fk) != {"fields", "reference"}:
            raise Unsupported("foreign key")
        reference = fk["reference"]
        if not isinstance(reference, dict) or set(reference) != {"resource", "fields"}:
            raise Unsupported("foreign key reference")
        if not isinstance(reference["resource"], str):
            raise Unsupported("foreign key resource")
        own, theirs = _names(fk["fields"]), _names(reference["fields"])
        if len(own) != len(theirs) or not set(own) <= set(by_name):
            raise Unsupported("foreign key fields")
        for name in own:
            if by_name[name]["type"] != "string" or "format" in by_name[name]:
                raise Unsupported("foreign key type")


def _supported_field(field: Mapping[str, Any]) -> None:
    _only(field, FIELD_KEYS, "field")
    kind = field.get("type")
    if kind not in TYPES:
        raise Unsupported(f"type {kind!r}")
    fmt = field.get("format", "default")
    if fmt != "default" and not (kind == "string" and fmt == "uri"):
        raise Unsupported(f"format {fmt!r}")
    constraints = field.get("constraints", {})
    if not set(constraints) <= TYPE_CONSTRAINTS[kind]:
        raise Unsupported("constraint for type")
    for name, value in constraints.items():
        ok = {
            "required": isinstance(value, bool),
            "unique": isinstance(value, bool),
            "pattern": isinstance(value, str),
            "enum": isinstance(value, list) and all(isinstance(v, str) for v in value),
            "minLength": _typed(value, int),
            "maxLength": _typed(value, int),
            "minimum": _typed(value, int) if kind == "integer" else _typed(value, (int, float)),
            "maximum": _typed(value, int) if kind == "integer" else _typed(value, (int, float)),
        }[name]
        if not ok:
            raise Unsupported(f"constraint {name}")


def foreign_keys(schema: Mapping[str, Any]) -> list[tuple[list[str], str, list[str]]]:
    """``(fields, referenced resource, referenced fields)`` of each foreign key."""
    return [(_names(fk["fields"]), fk["reference"]["resource"], _names(fk["reference"]["fields"]))
            for fk in schema.get("foreignKeys", [])]


# ----------------------------------------------------------------------------- cells


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(f"^{text}$")  # exactly as frictionless compiles it (``match``)


def _uri_ok(value: str) -> bool:
    if _URI_FAST.match(value):
        return True
    try:
        import rfc3986  # frictionless' own URI check, for the rare value the pattern leaves
    except ImportError:  # pragma: no cover - a frictionless dependency
        return False  # frictionless will judge

    validator = rfc3986.validators.Validator().require_presence_of("scheme")
    try:
        validator.validate(rfc3986.uri_reference(value))
    except rfc3986.exceptions.ValidationError:
        return False
    return True


def _date_ok(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _number(value: object) -> Decimal:
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]


def _field_ok(field: Mapping[str, Any], column: Sequence[str]) -> bool:
    """Whether every cell of one column passes the field's type and constraints."""
    constraints = field.get("constraints", {})
    values = set(column)
    present = values - {""}
    if constraints.get("required") and "" in values:
        return False
    kind = field["type"]
    if kind == "string":
        if field.get("format") == "uri" and not all(_uri_ok(v) for v in present):
            return False
    elif kind == "integer":
        if not all(_INTEGER.fullmatch(v) for v in present):
            return False
    elif kind == "number":
        if not all(_NUMBER.fullmatch(v) for v in present):
            return False
    elif kind == "boolean":
        if not present <= TRUE_VALUES | FALSE_VALUES:
            return False
    elif kind == "date" and not all(_date_ok(v) for v in present):
        return False
    if "pattern" in constraints:
        pattern = _pattern(constraints["pattern"])
        if not all(pattern.match(v) for v in present):
            return False
    if "enum" in constraints and not present <= set(constraints["enum"]):
        return False
    if "minLength" in constraints and any(len(v) < constraints["minLength"] for v in present):
        return False
    if "maxLength" in constraints and any(len(v) > constraints["maxLength"] for v in present):
        return False
    if "minimum" in constraints or "maximum" in constraints:
        try:
            numbers = [Decimal(v) for v in present]
        except InvalidOperation:
            return False
        if "minimum" in constraints and any(n < _number(constraints["minimum"])
                                            for n in numbers):
            return False
        if "maximum" in constraints and any(n > _number(constraints["maximum"])
                                            for n in numbers):
            return False
    if constraints.get("unique"):
        if kind != "string":
            return False  # typed duplicates ("1" and "01"): frictionless decides
        filled = [v for v in column if v]
        if len(set(filled)) != len(filled):
            return False
    return True


def _keys(table: CsvTable, fields: Sequence[str]) -> list[tuple[str | None, ...]]:
    columns = [[v or None for v in table.column(table.header.index(name))] for name in fields]
    return list(zip(*columns, strict=True)) if table.rows else []


def lookup(resource: Mapping[str, Any], table: CsvTable,
           fields: Sequence[str]) -> frozenset[tuple[str | None, ...]]:
    """The key values a foreign key may point to, as frictionless collects them.

    Rows whose key cells are all empty are left out.

    Parameters
    ----------
    resource : mapping
        The referenced resource (which passed :func:`supported`).
    table : CsvTable
        Its table, from :func:`read_csv`.
    fields : sequence of str
        The referenced fields.

    Raises
    ------
    Unsupported
        When the referenced fields are not plain strings or the header differs from the
        schema (frictionless would read the values differently).
    """
    by_name = {f["name"]: f for f in resource["schema"]["fields"]}
    if table.header != list(by_name):
        raise Unsupported("referenced table header")
    for name in fields:
        field = by_name.get(name)
        if field is None or field["type"] != "string" or "format" in field:
            raise Unsupported("referenced field type")
    return frozenset(k for k in _keys(table, fields) if any(v is not None for v in k))


def check_table(
    resource: Mapping[str, Any],
    table: CsvTable,
    lookups: Mapping[tuple[str, tuple[str, ...]], Iterable[tuple[str | None, ...]]],
) -> bool:
    """Whether ``table`` is valid against ``resource``'s schema, checked exactly.

    Parameters
    ----------
    resource : mapping
        A resource descriptor that passed :func:`supported`.
    table : CsvTable
        The table, from :func:`read_csv`.
    lookups : mapping
        ``(referenced resource, referenced fields) -> key values`` (:func:`lookup`) for
        every foreign key to check; a foreign key missing here is not checked.

    Returns
    -------
    bool
        ``True`` when every rule holds; ``False`` when frictionless must judge.
    """
    schema = resource["schema"]
    fields = schema["fields"]
    if table.header != [f["name"] for f in fields]:
        return False
    for i, field in enumerate(fields):
        if not _field_ok(field, table.column(i)):
            return False
    if "primaryKey" in schema:
        keys = _keys(table, _names(schema["primaryKey"]))
        if any(None in k for k in keys) or len(set(keys)) != len(keys):
            return False
    for own, target, theirs in foreign_keys(schema):
        allowed = lookups.get((target, tuple(theirs)))
        if allowed is None:
            continue
        allowed = allowed if isinstance(allowed, frozenset | set) else frozenset(allowed)
        values = {k for k in _keys(table, own) if any(v is not None for v in k)}
        if not values <= allowed:
            return False
    return True
