"""Writing several files all or none (``crps_evidence._files``), on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from crps_evidence._files import csv_text, read_csv_rows, replace_together


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_all_files_are_replaced(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "sub" / "b.json"
    first.write_text("old\n")
    replace_together({first: "new\n", second: "{}\n"}, {first: b"old\n", second: None})
    assert first.read_text() == "new\n" and second.read_text() == "{}\n"
    assert leftovers(tmp_path) == []


def test_a_failed_replacement_puts_the_earlier_ones_back(tmp_path: Path) -> None:
    first, new, blocked = tmp_path / "a.csv", tmp_path / "new.csv", tmp_path / "b.csv"
    first.write_bytes(b"old\r\nbytes")
    blocked.mkdir()  # a folder cannot be replaced by a file: the third replacement fails
    with pytest.raises(OSError):
        replace_together({first: "new\n", new: "created\n", blocked: "x\n"})
    assert first.read_bytes() == b"old\r\nbytes"
    assert not new.exists()
    assert blocked.is_dir()
    assert leftovers(tmp_path) == []


def test_a_file_changed_meanwhile_stops_everything(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("edited by someone else\n")
    second.write_text("b\n")
    with pytest.raises(OSError, match=r"a\.csv changed while this command ran"):
        replace_together({second: "new b\n", first: "new a\n"},
                         {first: b"as read\n", second: b"b\n"})
    assert second.read_text() == "b\n"
    assert first.read_text() == "edited by someone else\n"


def test_a_file_that_appeared_meanwhile_stops_everything(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_text("someone else's\n")
    with pytest.raises(OSError, match="changed while"):
        replace_together({target: "mine\n"}, {target: None})
    assert target.read_text() == "someone else's\n"


def test_the_mode_of_a_replaced_file_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    replace_together({target: "new\n"})
    assert target.stat().st_mode & 0o777 == 0o640


def test_csv_round_trip_keeps_every_cell(tmp_path: Path) -> None:
    rows = [{"id": "a", "query": '("x"[tiab] OR y) AND z', "empty": ""},
            {"id": "b", "query": "line\nbreak, comma", "empty": ""}]
    path = tmp_path / "t.csv"
    path.write_text(csv_text(["id", "query", "empty"], rows), encoding="utf-8")
    header, back = read_csv_rows(path)
    assert header == ["id", "query", "empty"] and back == rows
    assert csv_text(header, back) == path.read_text(encoding="utf-8")
