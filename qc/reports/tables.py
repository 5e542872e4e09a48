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

import os
import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError, XlsxWriterException
from xlsxwriter.worksheet import Worksheet

from qc.errors import OutputError
from qc.files import atomic_output, describe_os_error
from qc.reports.cells import safe_cell, safe_frame, safe_text

# Strings are written as strings: never a formula (=…), a hyperlink (http://…) or a number.
XLSX_OPTIONS: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

# Where xlsxwriter keeps its per-sheet row files in constant-memory mode, when the system has it.
_MEMORY_TMP = Path("/dev/shm")

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
        options = {**XLSX_OPTIONS, "constant_memory": constant_memory}
        if constant_memory and _MEMORY_TMP.is_dir() and os.access(_MEMORY_TMP, os.W_OK):
            # one row file per sheet while writing: 2,000 agent sheets make and remove 2,000 files,
            # seconds on a busy disk and nothing on a RAM-backed folder (each is a few hundred KB)
            options["tmpdir"] = str(_MEMORY_TMP)
        workbook = xlsxwriter.Workbook(str(tmp), options)
        yield workbook  # an error in the block leaves the workbook unsaved; atomic_output removes tmp
        try:
            workbook.close()
        except FileCreateError as err:
            cause = err.args[0] if err.args else err
            reason = describe_os_error(cause) if isinstance(cause, OSError) else str(cause)
            raise OutputError(f"cannot write {path}: {reason}") from None
        except XlsxWriterException as err:  # FileSizeError and the like: still one line, naming the file
            raise OutputError(f"cannot write {path}: {err}") from None


# Day 0 of Excel's date serials (1900 date system, with its leap-year quirk already folded in).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def prepare_rows(frame: pd.DataFrame) -> tuple[list[list[object]], list[bool]]:
    """The frame's cells as a sheet receives them, and which columns hold numbers: text made safe,
    gaps as None, dates as Excel date serials (a date cell once the column's format says so), and
    no negative zero (a deduction capped to nothing is 0, never -0).

    Done once for a whole table: the per-agent sheets of a 300,000-call month are slices of it.
    """
    frame = safe_frame(frame)
    numeric = []
    columns: dict[int, object] = {}
    for c in range(frame.shape[1]):
        values = frame.iloc[:, c]
        if pd.api.types.is_datetime64_any_dtype(values):
            columns[c] = ((values - _EXCEL_EPOCH) / pd.Timedelta(days=1)).astype(float)
            numeric.append(True)
        elif pd.api.types.is_float_dtype(values):
            columns[c] = values + 0.0  # -0.0 + 0.0 == 0.0
            numeric.append(True)
        else:
            numeric.append(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))
    if columns:
        frame = frame.copy()
        for c, values in columns.items():
            frame.isetitem(c, values)
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return rows, numeric


def write_prepared(
    sheet: Worksheet,
    rows: Sequence[Sequence[object]],
    numeric: Sequence[bool],
    first_row: int = 1,
    formats: Sequence[object | None] | None = None,
    skip: int = 0,
    heights: Sequence[float | None] | None = None,
) -> None:
    """Rows of ``prepare_rows`` from ``first_row`` down, each column in its own format (``formats``,
    resolved once, not per cell); ``skip`` leading columns of each row are left out (a key column);
    ``heights``: a row height in points per row (None: the default), for wrapped cells, which
    spreadsheet programs do not always grow when they open a file."""
    width = len(numeric)
    fmts = list(formats) if formats is not None else [None] * (width - skip)
    # xlsxwriter's undecorated writers (the public ones only add A1-notation parsing, a try/int()
    # per cell); the public ones where a later xlsxwriter drops them
    write_number = getattr(sheet, "_write_number", sheet.write_number)
    write_string = getattr(sheet, "_write_string", sheet.write_string)
    plan = [(c, c - skip, numeric[c], fmts[c - skip]) for c in range(skip, width)]
    set_row = sheet.set_row
    for r, row in enumerate(rows, start=first_row):
        if heights is not None and heights[r - first_row]:
            set_row(r, heights[r - first_row])
        for c, col, is_number, fmt in plan:
            value = row[c]
            if value is None or value == "":
                continue
            if is_number:
                write_number(r, col, value, fmt)
            elif isinstance(value, str):
                write_string(r, col, value, fmt)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                write_number(r, col, value + 0.0 if isinstance(value, float) else value, fmt)
            else:
                write_string(r, col, str(safe_cell(value)), fmt)


def write_rows(
    sheet: Worksheet, frame: pd.DataFrame, first_row: int = 1, formats: Sequence[object | None] | None = None
) -> None:
    """The frame's rows from ``first_row`` down: numbers as numbers, text made safe, gaps left empty.

    Cells go through write_number/write_string directly: 3 million cells skip write()'s per-cell
    type sniffing (a third of the time), and no string can be taken for anything but text.
    """
    rows, numeric = prepare_rows(frame)
    write_prepared(sheet, rows, numeric, first_row, formats)


def write_xlsx_table(
    frame: pd.DataFrame,
    path: Path,
    sheet_name: str,
    headers: dict[str, str] | None = None,
    widths: Sequence[float] = (),
    wrap: Collection[int] = (),
    note: str | None = None,
) -> int:
    """One table as a one-sheet workbook: header row frozen, filters on; returns the rows written.

    ``headers`` maps column names to the header shown (a column not in it is shown by its name);
    ``wrap``: columns whose cells wrap (multi-line text shows every line); ``note``: one line above
    the header (the table then starts a row lower).
    """
    headers = headers or {}
    with open_workbook(path) as workbook:
        head = workbook.add_format(HEADER_FORMAT)
        wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
        sheet = workbook.add_worksheet(sheet_name)
        columns = list(frame.columns)
        top = 0
        if note:
            sheet.write_string(0, 0, safe_text(note), workbook.add_format({"bold": True, "font_color": "#9C0006"}))
            top = 1
        sheet.write_row(top, 0, [headers.get(c, c) for c in columns], head)
        sheet.freeze_panes(top + 1, 0)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width, wrapped if col in wrap else None)
        write_rows(sheet, frame, first_row=top + 1)
        if columns:
            sheet.autofilter(top, 0, top + max(len(frame), 1), len(columns) - 1)
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
