"""Where the project's data and bibliography live.

The search order is: the ``CRPS_EVIDENCE_ROOT`` environment variable; the working directory
and its parents (a checkout, e.g. a notebook run from ``notebooks/``); the checkout that holds
this source file (editable installs); and the copy shipped inside the installed package.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_MARKER = Path("data") / "datapackage.json"
_PACKAGE = Path(__file__).resolve().parents[1]  # the crps_evidence folder


def _is_root(path: Path) -> bool:
    return (path / _MARKER).is_file() and (path / "references.bib").is_file()


@cache
def _root_from(cwd: str, env: str | None) -> Path:
    if env:
        root = Path(env).expanduser().resolve()
        if not _is_root(root):
            raise FileNotFoundError(
                f"CRPS_EVIDENCE_ROOT={env!r} has no {_MARKER} and references.bib"
            )
        return root
    here = Path(cwd).resolve()
    for candidate in (here, *here.parents):
        if _is_root(candidate):
            return candidate
    source_checkout = _PACKAGE.parents[1]
    if _is_root(source_checkout):
        return source_checkout
    shipped = _PACKAGE / "_data"
    if _is_root(shipped):
        return shipped
    raise FileNotFoundError(
        "cannot find the project's data: set CRPS_EVIDENCE_ROOT to a checkout of the "
        "collection (the folder that holds data/datapackage.json and references.bib)"
    )


def project_root() -> Path:
    """Return the folder holding ``data/`` and ``references.bib``."""
    return _root_from(os.getcwd(), os.environ.get("CRPS_EVIDENCE_ROOT"))


def data_dir() -> Path:
    """Return the ``data/`` folder."""
    return project_root() / "data"


def bibliography_path() -> Path:
    """Return the path of ``references.bib``."""
    return project_root() / "references.bib"


def notebooks_dir() -> Path:
    """Return the ``notebooks/`` folder (may not exist in an installed copy)."""
    return project_root() / "notebooks"
