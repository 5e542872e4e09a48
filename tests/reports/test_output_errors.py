"""A report that cannot be written is one OutputError line naming the file, and leaves no file behind.

The tests run as root, where chmod blocks nothing, so a read-only location and a full disk are
simulated where the OS would report them (the final rename, the writer's own file writes); the
missing folder is real.
"""

from __future__ import annotations

import errno
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from qc.errors import OutputError, QCError, ReportError
from qc.reports.examples import build_examples
from qc.reports.examples_write import write_examples
from qc.reports.sampling import sample_calls, write_sample
from qc.reports.write import write_monthly_csv, write_monthly_xlsx
from tests.reports.frames import hit_rows, month_frames, monthly

Writer = Callable[[Path], object]


def _writers() -> dict[str, Writer]:
    report = monthly([("1001", "赵敏"), ("1002", "钱进")])
    examples = build_examples(hit_rows())
    calls, _ = month_frames([("1001", "赵敏")])
    picked = sample_calls(calls, per_agent=2)
    return {
        "monthly.xlsx": lambda p: write_monthly_xlsx(report, p),
        "monthly.csv": lambda p: write_monthly_csv(report, p),
        "examples.xlsx": lambda p: write_examples(examples, p),
        "examples.csv": lambda p: write_examples(examples, p),
        "examples.jsonl": lambda p: write_examples(examples, p),
        "examples.html": lambda p: write_examples(examples, p),
        "sample.xlsx": lambda p: write_sample(picked, p),
        "sample.csv": lambda p: write_sample(picked, p),
    }


WRITERS = _writers()


def _fails_in_one_line(write: Writer, path: Path, *words: str) -> OutputError:
    with pytest.raises(OutputError) as caught:
        write(path)
    message = str(caught.value)
    assert "\n" not in message and str(path.with_suffix("")) in message, message  # the file, or its _明细 sibling
    error = caught.value  # nothing chained that a traceback would show
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    for word in words:
        assert word in message, message
    return caught.value


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("name", WRITERS)
def test_missing_folder(tmp_path, name):
    path = tmp_path / "missing" / name
    _fails_in_one_line(WRITERS[name], path, "does not exist")
    assert _files(tmp_path) == []


@pytest.mark.parametrize("name", WRITERS)
@pytest.mark.parametrize(
    "code,words", [(errno.ENOSPC, ("no space left",)), (errno.EROFS, ("read-only",)), (errno.EACCES, ("permission",))]
)
def test_full_or_read_only_disk_keeps_the_old_file(tmp_path, monkeypatch, name, code, words):
    path = tmp_path / name
    path.write_text("last month's file", encoding="utf-8")

    def refuse(src: object, dst: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "replace", refuse)
    _fails_in_one_line(WRITERS[name], path, *words)
    assert path.read_text(encoding="utf-8") == "last month's file"
    assert _files(tmp_path) == [name]  # no temporary file left beside it


@pytest.mark.parametrize("name", ["monthly.xlsx", "examples.xlsx", "sample.xlsx"])
def test_xlsxwriter_file_create_error_becomes_output_error(tmp_path, monkeypatch, name):
    """xlsxwriter saves the workbook in close() and wraps the OSError in its own FileCreateError."""

    def disk_full(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", disk_full)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    _fails_in_one_line(WRITERS[name], tmp_path / name, "no space left")
    assert _files(tmp_path) == []


@pytest.mark.parametrize("name", ["monthly.csv", "examples.csv", "sample.csv"])
def test_disk_full_while_writing_csv(tmp_path, monkeypatch, name):
    real = pd.DataFrame.to_csv

    def half_then_full(self: pd.DataFrame, path: object, *args: object, **kwargs: object) -> None:
        real(self.head(1), path, *args, **kwargs)  # a partial file on disk …
        raise OSError(errno.ENOSPC, "No space left on device")  # … then the disk is full

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_full)
    _fails_in_one_line(WRITERS[name], tmp_path / name, "no space left")
    assert _files(tmp_path) == []


def test_monthly_csv_writes_both_files_or_neither(tmp_path, monkeypatch):
    real = pd.DataFrame.to_csv
    calls: list[object] = []

    def second_fails(self: pd.DataFrame, path: object, *args: object, **kwargs: object) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", second_fails)
    _fails_in_one_line(WRITERS["monthly.csv"], tmp_path / "m.csv", "m_明细.csv", "no space left")
    assert _files(tmp_path) == []


def test_a_folder_in_the_way_and_an_unknown_format(tmp_path):
    (tmp_path / "m.xlsx").mkdir()
    _fails_in_one_line(WRITERS["monthly.xlsx"], tmp_path / "m.xlsx", "is a folder")
    with pytest.raises(ReportError, match="listening list"):
        WRITERS["sample.csv"](tmp_path / "listen.txt")
    with pytest.raises(ReportError, match="unknown format"):
        WRITERS["examples.csv"](tmp_path / "ex.docx")
    assert issubclass(OutputError, QCError) and _files(tmp_path) == ["m.xlsx"]
