"""A fingerprint of the data a notebook reads, so stored outputs can be told apart from stale ones.

Every notebook's first cell (``nb.notice()``) records the fingerprint of the data it was run
with in its output's metadata; :func:`stale_notebooks` compares each stored one with the data
as it is now. ``make book`` and ``make test`` refuse stale outputs and name the notebooks to
re-run with ``make execute``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .paths import bibliography_path, data_dir

#: Where the fingerprint sits in a cell output's metadata.
KEY = "crps_evidence"


def data_fingerprint(data: str | Path | None = None, bib: str | Path | None = None) -> str:
    """SHA-256 over the data package's files (tables, schema) and the bibliography.

    The names count as well as the bytes, so adding or renaming a table changes it.

    Examples
    --------
    >>> len(data_fingerprint())
    64
    """
    folder = Path(data) if data is not None else data_dir()
    files = [*sorted(folder.glob("*.csv")), folder / "datapackage.json"]
    files.append(Path(bib) if bib is not None else bibliography_path())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def recorded_fingerprint(notebook: str | Path) -> str | None:
    """The data fingerprint a notebook's stored outputs were made with, if it recorded one."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        for output in cell.get("outputs", []):
            metadata = output.get("metadata", {})
            # IPython files a display object's metadata under its MIME type
            for place in (metadata, *metadata.values()):
                found = place.get(KEY, {}).get("data") if isinstance(place, dict) else None
                if found:
                    return str(found)
    return None


def stale_notebooks(notebooks: list[Path], current: str | None = None) -> list[str]:
    """Names of the notebooks whose stored outputs were not made with the current data."""
    current = current or data_fingerprint()
    return [p.name for p in notebooks if recorded_fingerprint(p) != current]
