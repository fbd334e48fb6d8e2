"""Writing files so that a failure never leaves a half-written one.

:func:`atomic_write_text` replaces one file (temporary file in the same folder, flush, fsync,
:func:`os.replace`). :func:`replace_together` replaces several: every new text is staged and
fsynced before the first original is touched, each file is checked to be unchanged since it
was read, and if anything fails (or the user presses Ctrl+C) while the files are swapped,
the ones already replaced get their original bytes back. :func:`csv_text` and
:func:`read_csv_rows` read and write the tables the commands edit, cell text kept as is.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["atomic_write_text", "csv_text", "read_csv_rows", "replace_together"]


def new_file_mode() -> int:
    """Permissions a new file gets from ``open()``: ``0o666`` less the process umask."""
    umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entry list to disk (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a fsynced temporary file beside ``path`` with ``path``'s mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = new_file_mode()
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` (UTF-8, ``\\n`` line ends) atomically, keeping its mode.

    ``mkstemp`` creates the temporary file as ``0600``; before it replaces the target it
    gets the target's mode, or for a new file what ``open()`` would have given it.
    """
    tmp = _stage(path, text.encode("utf-8"))
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def replace_together(texts: Mapping[Path, str],
                     originals: Mapping[Path, bytes | None] | None = None) -> None:
    """Replace several files, all or none.

    Parameters
    ----------
    texts : mapping
        Path to its new text, replaced in this order (put the file that records "done"
        last, so an interruption between two replacements errs on the side of doing the
        work again).
    originals : mapping, optional
        Path to the bytes it had when it was read (``None``: it did not exist). A file that
        no longer has them was changed by someone else meanwhile: nothing is written.

    Raises
    ------
    OSError
        A file changed since it was read, or could not be staged or replaced; every file
        is as it was before the call.
    """
    originals = dict(originals or {})
    for path in texts:
        if path in originals and _read_or_none(path) != originals[path]:
            raise OSError(f"{path} changed while this command ran; nothing written "
                          "(run the command again)")
    staged: dict[Path, Path] = {}
    replaced: list[tuple[Path, bytes | None]] = []
    try:
        for path, text in texts.items():
            staged[path] = _stage(path, text.encode("utf-8"))
        for path, tmp in staged.items():
            before = _read_or_none(path)
            os.replace(tmp, path)
            replaced.append((path, before))
    except BaseException:
        for path, before in reversed(replaced):
            _restore(path, before)
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    for folder in {path.parent for path in texts}:
        fsync_dir(folder)


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _restore(path: Path, before: bytes | None) -> None:
    if before is None:
        path.unlink(missing_ok=True)
        return
    tmp = _stage(path, before)
    os.replace(tmp, path)


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a CSV file, every cell as the text it holds."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [dict(zip(header, row, strict=False)) for row in reader if any(row)]
    return header, rows


def csv_text(header: Sequence[str], rows: Sequence[Mapping[str, object]]) -> str:
    """CSV text in the project's style: comma, minimal double quotes, ``\\n`` line ends.

    >>> print(csv_text(["id", "note"], [{"id": "a", "note": 'say "hi", twice'}]), end="")
    id,note
    a,"say ""hi"", twice"
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(name) is None else str(row.get(name)) for name in header])
    return buffer.getvalue()
