"""Agent names are data from outside: whatever they hold, the monthly workbook opens with one sheet each."""

from __future__ import annotations

import re

import openpyxl
import pytest

from qc.reports.tables import SheetNames
from qc.reports.write import write_monthly_xlsx
from tests.reports.frames import agent_table, monthly

AWKWARD = [
    ("1001", "赵'"),  # ends with an apostrophe
    ("'1002", "钱"),  # starts with one
    ("1003", "a[b]c"),
    ("1004", "x/y\\z*?:"),
    ("1005", "很长的名字" * 8),  # far over 31 characters
    ("'", "'"),  # nothing left after cleaning
    ("''", ""),  # nothing left either, and the same fallback again
    ("History", ""),  # Excel's reserved sheet name
    ("AB", "x"),
    ("ab", "X"),  # the same as "AB x" ignoring case
    ("汇总", ""),  # the summary sheet's name
    ("1006", "tab\there\nnewline"),
    ("1007", "😀" * 20),  # characters Excel counts twice
]

_INVALID = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def _valid(name: str) -> bool:
    return (
        0 < len(name.encode("utf-16-le")) // 2 <= 31
        and not _INVALID.search(name)
        and not name.startswith("'")
        and not name.endswith("'")
        and name.casefold() != "history"
    )


def test_monthly_workbook_opens_with_one_sheet_per_agent_whatever_the_names(tmp_path):
    report = monthly(AWKWARD)
    out = tmp_path / "m.xlsx"
    write_monthly_xlsx(report, out)
    wb = openpyxl.load_workbook(out)
    names = wb.sheetnames
    assert names[:3] == ["汇总", "图表", "来电类别"] and len(names) == 3 + len(AWKWARD)
    assert all(_valid(n) for n in names), names
    assert len({n.casefold() for n in names}) == len(names)
    for agent_id, _ in AWKWARD:  # every agent's calls are on some sheet of their own
        calls = set(report.details[agent_id]["call_id"])
        assert any({r[0] for r in agent_table(wb[n])[2]} == calls for n in names[3:])
    assert "1001 赵" in names and "1003 a_b_c" in names and "1004 x_y_z___" in names


# fmt: off
@pytest.mark.parametrize("wanted,expected", [
    ("1001 赵敏", "1001 赵敏"),
    ("1001 赵'", "1001 赵"),
    ("'1002 钱", "1002 钱"),
    ("a[b]:c", "a_b__c"),
    ("'", "坐席"),
    ("   ", "坐席"),
    ("History", "History_"),
    ("history", "history_"),
    ("x" * 40, "x" * 31),
    ("1 " + "'" * 29 + "a", "1"),  # cut to 31, then the apostrophes and blank at the end dropped
    ("1" * 30 + " 赵", "1" * 30),
])
# fmt: on
def test_sheet_name_is_what_excel_accepts(wanted, expected):
    name = SheetNames(["汇总", "图表"])(wanted, fallback="坐席")
    assert name == expected and _valid(name)


def test_sheet_names_are_unique_ignoring_case_and_stay_within_31():
    names = SheetNames(["汇总"])
    got = [names(w, fallback="坐席") for w in ["汇总", "AB x", "ab X", "Ab x", "'", "'", "y" * 40, "Y" * 40]]
    assert got[:6] == ["汇总~2", "AB x", "ab X~2", "Ab x~3", "坐席", "坐席~2"]
    assert got[6] == "y" * 31 and got[7] == "Y" * 29 + "~2"
    assert len({g.casefold() for g in got}) == len(got) and all(_valid(g) for g in got)
