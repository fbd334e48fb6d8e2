"""Writing files so that a failure never leaves a half-written one.

:func:`atomic_write_text` replaces one file (temporary file in the same folder, flush, fsync,
:func:`os.replace`). :func:`replace_together` replaces several: every new text is staged and
fsynced before the first original is touched, each file is checked to be unchanged since it
was read, and if anything fails (or the user presses Ctrl+C) while the files are swapped,
the ones already replaced get their original bytes back. :func:`csv_text` and
:func:`read_csv_rows` read and write the tables the commands edit, cell text kept as is, and
the line endings and byte-order mark kept as found (:func:`csv_style`).

:func:`data_lock` serialises the commands that write the data: each takes the lock of the
folder it writes in (``.crps-evidence.lock``, with the :mod:`filelock` library), reads the
file under it and writes before letting go, so two runs at once wait for each other (or,
after :data:`LOCK_TIMEOUT` seconds, refuse with a clear message) and never lose a change.
:func:`remove_stale_temporaries` deletes the temporary files a killed run left behind.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOCK_TIMEOUT", "CsvStyle", "atomic_write_text", "csv_style", "csv_text",
           "data_lock", "read_csv_rows", "remove_stale_temporaries", "replace_together"]

#: Seconds a command waits for another one writing the same folder before it refuses.
LOCK_TIMEOUT = 120.0
#: Name of the lock file in a folder the commands write in.
LOCK_NAME = ".crps-evidence.lock"
#: A temporary file older than this (seconds) was left by a run that was killed.
STALE_AFTER = 3600.0


class LockTimeout(OSError):
    """Another command held the lock for longer than this one was willing to wait."""


@contextmanager
def data_lock(path: Path, timeout: float | None = None) -> Iterator[Path]:
    """Hold the write lock of the folder of ``path`` (its ``.crps-evidence.lock``).

    Parameters
    ----------
    path : Path
        A file the caller will read and write (the lock covers its whole folder).
    timeout : float, optional
        Seconds to wait for another command to finish; default :data:`LOCK_TIMEOUT`
        (``CRPS_EVIDENCE_LOCK_TIMEOUT`` overrides it).

    Raises
    ------
    LockTimeout
        The lock was not free in time; nothing was read or written.
    """
    from filelock import FileLock, Timeout

    if timeout is None:
        timeout = float(os.environ.get("CRPS_EVIDENCE_LOCK_TIMEOUT", LOCK_TIMEOUT))
    lock_path = Path(path).resolve().parent / LOCK_NAME
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockTimeout(
            f"{path}: another crps-evidence command is writing in {lock_path.parent} (it "
            f"holds {lock_path.name}); waited {timeout:g} s. Nothing was written: run this "
            "again when it has finished") from None
    try:
        yield lock_path
    finally:
        lock.release()


def remove_stale_temporaries(path: Path, older_than: float = STALE_AFTER) -> list[Path]:
    """Delete ``.<name>.*.tmp`` files beside ``path`` that a killed run left behind.

    Call it while holding :func:`data_lock`, so a temporary file of a run in progress is
    never touched; files younger than ``older_than`` seconds are kept all the same.
    """
    path = Path(path)
    removed = []
    now = time.time()
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - tmp.stat().st_mtime >= older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed


@dataclass(frozen=True)
class CsvStyle:
    """How a CSV file was written: byte-order mark or not, and its line ending."""

    bom: bool = False
    newline: str = "\n"


def csv_style(path: Path) -> CsvStyle:
    """The byte-order mark and line ending of ``path`` (``\n`` for a file without one)."""
    data = Path(path).read_bytes()
    bom = data.startswith(codecs.BOM_UTF8)
    first = data.find(b"\n")
    newline = "\r\n" if first > 0 and data[first - 1:first] == b"\r" else "\n"
    return CsvStyle(bom, newline)


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
    """The header and the rows of a CSV file, every cell as the text it holds.

    A byte-order mark is not part of the first column's name (see :func:`csv_style`).
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = [dict(zip(header, row, strict=False)) for row in reader if any(row)]
    return header, rows


def csv_text(header: Sequence[str], rows: Sequence[Mapping[str, object]],
             style: CsvStyle | None = None) -> str:
    """CSV text in the project's style: comma, minimal double quotes, ``\\n`` line ends.

    ``style`` (from :func:`csv_style`) keeps a file's ``\\r\\n`` line ends and its
    byte-order mark.

    >>> print(csv_text(["id", "note"], [{"id": "a", "note": 'say "hi", twice'}]), end="")
    id,note
    a,"say ""hi"", twice"
    >>> csv_text(["id"], [{"id": "a"}], CsvStyle(bom=True, newline="\\r\\n"))
    '\\ufeffid\\r\\na\\r\\n'
    """
    style = style or CsvStyle()
    buffer = io.StringIO()
    if style.bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator=style.newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(name) is None else str(row.get(name)) for name in header])
    return buffer.getvalue()
