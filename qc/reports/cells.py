"""Cell values as a spreadsheet must receive them: text that can never run as a formula.

Agent names, call ids and above all the quoted words of a call come from outside (a manifest, a
transcript, a speech recogniser), and the CSV and Excel files qc writes are opened by inspectors
in Excel or WPS. A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some programs skip before reading a formula) is run as a formula there:
``=HYPERLINK(…)`` sends data away, ``=cmd|' /C calc'!A0`` starts a program. OWASP's advice on CSV
injection is followed: such text gets a single quote in front and keeps the rest, so the cell
shows the text and no spreadsheet evaluates it. Real numbers (scores, ``-5.0`` deductions) are
written as numbers and are never touched; text that is itself a plain number (``-5``) cannot run
and stays as it is.

``safe_text`` is the one rule; every CSV and XLSX writer in ``qc.reports`` passes its cells through
it (``safe_frame`` for whole tables). HTML is escaped instead and JSON Lines is for programs.
"""

from __future__ import annotations

import re

import pandas as pd

from qc.reports.labels import NO, YES

# First characters that start a formula (also their full-width forms, which some spreadsheets
# and input methods turn into the ASCII ones), and the blanks that may precede one.
FORMULA_STARTS = "=+-@\t\r\n\0＝＋－＠"
_FIRST = frozenset(FORMULA_STARTS)
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_text(value: str) -> str:
    """``value`` with a leading single quote if a spreadsheet would read it as a formula.

    >>> safe_text("=HYPERLINK(\\"http://x\\",\\"y\\")")
    '\\'=HYPERLINK("http://x","y")'
    >>> safe_text("-5.0"), safe_text("你找领导去")
    ('-5.0', '你找领导去')
    """
    if value[:1] in _FIRST and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_cell(value: object) -> object:
    """One cell for a person: text through ``safe_text``, booleans as 是/否, anything else as is."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool):
        return YES if value else NO
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ready for a person to open: every text cell through ``safe_text``, true/false as
    是/否, number columns unchanged. The caller's frame is never modified (a copy is made only when
    a cell changes).

    A text column is first scanned for a formula character at the start of any cell (a plain loop:
    per-agent tables are small, and pandas' string methods cost more to call than to run there);
    only columns that hold one are rebuilt.
    """
    out: pd.DataFrame | None = None
    for position, (_name, values) in enumerate(frame.items()):
        if pd.api.types.is_bool_dtype(values):
            fixed: pd.Series = values.map({True: YES, False: NO})
        elif pd.api.types.is_numeric_dtype(values):
            continue
        else:
            cells = values.tolist()
            if not any((isinstance(v, str) and v[:1] in _FIRST) or isinstance(v, bool) for v in cells):
                continue
            fixed = pd.Series([safe_cell(v) for v in cells], index=values.index, dtype=object)
        if out is None:
            out = frame.copy()
        out.isetitem(position, fixed)
    return frame if out is None else out
