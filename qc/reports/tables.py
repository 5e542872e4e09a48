"""Writing tables people open: CSV (UTF-8 with BOM, so Excel reads the Chinese) and Excel workbooks.

Every report and export goes through here, so three promises hold for all of them:

* no cell can run as a formula: text passes ``qc.reports.cells.safe_text``, and xlsxwriter is told
  never to turn a string into a formula, a link or a number (``XLSX_OPTIONS``);
* numbers stay numbers (a score is a number cell, not text that looks like one);
* nothing half-written is left behind and every failure is one line naming the file: files are
  written through ``qc.files.atomic_output``, and xlsxwriter's own ``FileCreateError`` (it wraps the
  OSError of a missing folder, a read-only disk or a full one when the workbook is saved) becomes
  ``qc.errors.OutputError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError, XlsxWriterException
from xlsxwriter.worksheet import Worksheet

from qc.errors import OutputError
from qc.files import atomic_output, describe_os_error
from qc.reports.cells import safe_cell, safe_frame

# Strings are written as strings: never a formula (=…), a hyperlink (http://…) or a number.
XLSX_OPTIONS: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

HEADER_FORMAT = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}


# --- CSV ----------------------------------------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: Path, headers: dict[str, str] | None = None) -> int:
    """One table as CSV (UTF-8 with BOM); returns the number of rows written."""
    write_csv_files([(frame, path, headers)])
    return len(frame)


def write_csv_files(tables: Sequence[tuple[pd.DataFrame, Path, dict[str, str] | None]]) -> None:
    """Several CSV files that belong together (a summary and its details): all are written in full
    before any is renamed into place, so a failure on the second leaves neither."""
    with ExitStack() as stack:
        for frame, path, headers in tables:
            tmp = stack.enter_context(atomic_output(path))
            out = safe_frame(frame)
            if headers:
                out = out.rename(columns=headers)
            out.to_csv(tmp, index=False, encoding="utf-8-sig")


# --- Excel --------------------------------------------------------------------------------------------


@contextmanager
def open_workbook(path: Path, constant_memory: bool = False) -> Iterator[xlsxwriter.Workbook]:
    """An xlsxwriter workbook saved to ``path`` when the block ends without error.

    Raises OutputError naming ``path`` (missing folder, read-only or full disk); on any error no
    file is left at ``path`` and an older file there is kept.
    """
    path = Path(path)
    with atomic_output(path) as tmp:
        workbook = xlsxwriter.Workbook(str(tmp), {**XLSX_OPTIONS, "constant_memory": constant_memory})
        yield workbook  # an error in the block leaves the workbook unsaved; atomic_output removes tmp
        try:
            workbook.close()
        except FileCreateError as err:
            cause = err.args[0] if err.args else err
            reason = describe_os_error(cause) if isinstance(cause, OSError) else str(cause)
            raise OutputError(f"cannot write {path}: {reason}") from None
        except XlsxWriterException as err:  # FileSizeError and the like: still one line, naming the file
            raise OutputError(f"cannot write {path}: {err}") from None


def write_rows(sheet: Worksheet, frame: pd.DataFrame, first_row: int = 1) -> None:
    """The frame's rows from ``first_row`` down: numbers as numbers, text made safe, gaps left empty.

    Cells go through write_number/write_string directly: 3 million cells skip write()'s per-cell
    type sniffing (a third of the time), and no string can be taken for anything but text.
    """
    frame = safe_frame(frame)
    numeric = [
        pd.api.types.is_numeric_dtype(frame.iloc[:, c]) and not pd.api.types.is_bool_dtype(frame.iloc[:, c])
        for c in range(frame.shape[1])
    ]
    write_number, write_string = sheet.write_number, sheet.write_string
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    for r, row in enumerate(rows, start=first_row):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if numeric[c]:
                write_number(r, c, value)
            elif isinstance(value, str):
                write_string(r, c, value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                write_number(r, c, value)
            else:
                write_string(r, c, str(safe_cell(value)))


def write_xlsx_table(
    frame: pd.DataFrame,
    path: Path,
    sheet_name: str,
    headers: dict[str, str] | None = None,
    widths: Sequence[float] = (),
) -> int:
    """One table as a one-sheet workbook: header row frozen, filters on; returns the rows written.

    ``headers`` maps column names to the header shown (a column not in it is shown by its name).
    """
    headers = headers or {}
    with open_workbook(path) as workbook:
        head = workbook.add_format(HEADER_FORMAT)
        sheet = workbook.add_worksheet(sheet_name)
        columns = list(frame.columns)
        sheet.write_row(0, 0, [headers.get(c, c) for c in columns], head)
        sheet.freeze_panes(1, 0)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        write_rows(sheet, frame)
        if columns:
            sheet.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    return len(frame)


# --- sheet names ---------------------------------------------------------------------------------------

# Excel refuses these in a sheet name; control characters would make the workbook's XML invalid.
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
_SHEET_LIMIT = 31  # UTF-16 code units, as Excel counts
_RESERVED_SHEETS = {"history"}  # Excel keeps this name for its change history


def _utf16_cut(text: str, limit: int) -> str:
    while len(text.encode("utf-16-le")) // 2 > limit:
        text = text[:-1]
    return text


def _tidy(text: str, limit: int) -> str:
    """Within ``limit`` and not starting or ending with an apostrophe or a blank (Excel refuses those)."""
    return _utf16_cut(text, limit).strip(" '")


class SheetNames:
    """Hands out sheet names Excel accepts, each unique ignoring case, whatever the wanted name holds."""

    def __init__(self, taken: Sequence[str] = ()) -> None:
        self._used = {name.casefold() for name in taken}

    def __call__(self, wanted: str, fallback: str) -> str:
        """A name close to ``wanted``; ``fallback`` when nothing is left of it; ``~2``, ``~3``… for repeats."""
        base = _tidy(_BAD_SHEET_CHARS.sub("_", wanted).strip(" '"), _SHEET_LIMIT)
        if not base:
            base = _tidy(fallback, _SHEET_LIMIT)
        if base.casefold() in _RESERVED_SHEETS:
            base = f"{base}_"
        candidate, n = base, 2
        while candidate.casefold() in self._used:
            suffix = f"~{n}"
            candidate, n = _tidy(base, _SHEET_LIMIT - len(suffix)) + suffix, n + 1
        self._used.add(candidate.casefold())
        return candidate
