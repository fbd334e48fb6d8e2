"""The package's exceptions: one base class, one class per kind of failure."""

from __future__ import annotations

from pathlib import Path


class CRPSEvidenceError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(CRPSEvidenceError):
    """Bad input in a data table or in ``references.bib``.

    The message names the file, the line (or row), the field and the value, so the
    problem can be found and fixed without a debugger.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.value = value
        where = f"{_shown(self.path)}" + (f", line {line}" if line is not None else "")
        parts = [where]
        if field is not None:
            parts.append(f"field '{field}'")
        if value is not None:
            parts.append(f"value {value!r}")
        super().__init__(": ".join(parts) + f": {message}")


def _shown(path: Path) -> str:
    """A path as a person types it: relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


class ClientError(CRPSEvidenceError):
    """A literature or registry service could not give a usable answer."""


class AnalysisError(CRPSEvidenceError):
    """A synthesis request that cannot be answered honestly (too few studies, mixed outcomes)."""


class ForeignKeyNotCheckedWarning(UserWarning):
    """A table's foreign key could not be checked: the table it points to was not found.

    Raised as a warning (not an error) when a table is loaded from a folder that lacks the
    referenced table and the project's ``data/`` folder lacks it too.
    """
