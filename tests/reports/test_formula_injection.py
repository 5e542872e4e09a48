"""No CSV or Excel cell qc writes can run as a formula (OWASP CSV injection), and numbers stay numbers.

Hostile values go in where outside data goes in (agent names, the quoted words, the turns around
them); every file a person opens is read back cell by cell.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from qc.reports.cells import FORMULA_STARTS, safe_frame, safe_text
from qc.reports.examples import build_examples
from qc.reports.examples_write import write_examples
from qc.reports.sampling import sample_calls, write_sample
from qc.reports.write import write_monthly_csv, write_monthly_xlsx
from tests.reports.frames import HOSTILE, hit_rows, month_frames, monthly, summary_table

DANGEROUS = tuple("=+-@\t\r")


def _plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def csv_cells(path: Path) -> list[str]:
    return [cell for row in csv_rows(path) for cell in row]


def xlsx_cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    wb = openpyxl.load_workbook(path)
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def assert_csv_safe(path: Path, expected: tuple[str, ...] = HOSTILE) -> list[str]:
    cells = csv_cells(path)
    for cell in cells:
        assert not cell.startswith(DANGEROUS) or _plain_number(cell), f"{path.name}: {cell!r} would run"
    for value in expected:
        assert "'" + value in cells, f"{path.name}: {value!r} not written as '{value}"
    return cells


def assert_xlsx_safe(path: Path, expected: tuple[str, ...] = HOSTILE) -> list[openpyxl.cell.cell.Cell]:
    cells = xlsx_cells(path)
    assert cells
    for cell in cells:
        assert cell.data_type != "f", f"{path.name}!{cell.coordinate} is a formula: {cell.value!r}"
        if isinstance(cell.value, str):
            assert not cell.value.startswith(DANGEROUS), f"{path.name}!{cell.coordinate}: {cell.value!r}"
    texts = {cell.value for cell in cells if isinstance(cell.value, str)}
    for value in expected:
        assert "'" + value in texts, f"{path.name}: {value!r} not written as '{value}"
    return cells


# fmt: off
@pytest.mark.parametrize("value,expected", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1+1", "'+1+1"),
    ("@SUM(1)", "'@SUM(1)"),
    ("-2+3", "'-2+3"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("＝1+1", "'＝1+1"),
    ("-5.0", "-5.0"),            # text that is a plain number cannot run
    ("+86", "+86"),
    ("你找领导去", "你找领导去"),
    ("a=b", "a=b"),
    ("", ""),
])
# fmt: on
def test_safe_text(value, expected):
    assert safe_text(value) == expected


def test_safe_frame_keeps_numbers_and_says_yes_no():
    frame = pd.DataFrame({"name": ["=1+1", "赵敏", None], "change": [-5.0, 2.0, None], "veto": [True, False, True]})
    out = safe_frame(frame)
    assert out["name"].tolist()[:2] == ["'=1+1", "赵敏"] and pd.isna(out["name"].iloc[2])
    assert out["change"].dtype == float and out["change"].iloc[0] == -5.0
    assert out["veto"].tolist() == ["是", "否", "是"]
    assert frame["name"].iloc[0] == "=1+1"  # the caller's frame is not changed
    assert set("=+-@\t\r") <= set(FORMULA_STARTS)


def test_monthly_xlsx_and_csv_neutralise_hostile_names_and_words(tmp_path):
    agents = [(f"10{i}", name) for i, name in enumerate(HOSTILE)] + [("=1+2", "正常")]
    report = monthly(agents, hit_text="=cmd|' /C calc'!A0")
    xlsx = tmp_path / "m.xlsx"
    write_monthly_xlsx(report, xlsx)
    cells = assert_xlsx_safe(xlsx, HOSTILE + ("=1+2",))
    wb = openpyxl.load_workbook(xlsx)
    _, headers, body = summary_table(wb["汇总"])
    change = headers.index("环比(分)") + 1
    assert len(body) == len(agents) and all(isinstance(r[change - 1], int | float) and r[change - 1] < 0 for r in body)
    assert any(c.data_type == "n" and c.value < 0 for c in cells)

    out = tmp_path / "m.csv"
    details = write_monthly_csv(report, out)
    rows = csv_rows(out)
    assert_csv_safe(out, HOSTILE + ("=1+2",))
    col = rows[0].index("环比(分)")
    assert all(float(r[col]) < 0 and not r[col].startswith("'") for r in rows[1:])
    assert details.name == "m_明细.csv"
    assert_csv_safe(details, HOSTILE + ("=cmd|' /C calc'!A0",))
    hits = pd.read_csv(details, encoding="utf-8-sig")
    assert hits["扣分"].dtype == float and (hits["扣分"] == 20.0).all()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_examples_neutralise_name_words_and_context(tmp_path, suffix, hostile):
    examples = build_examples(hit_rows(agent_name=hostile, hit_text=hostile, context=hostile))
    out = tmp_path / f"ex{suffix}"
    assert write_examples(examples, out) == 1
    if suffix == ".csv":
        cells = assert_csv_safe(out, (hostile,))
        assert cells.count("'" + hostile) == 2  # 姓名 and 原话; the turns start with ▶ or a blank
        assert "20.0" in cells
    else:
        cells = assert_xlsx_safe(out, (hostile,))
        assert any(c.data_type == "n" and c.value == 20.0 for c in cells)


def test_examples_html_escapes_and_jsonl_keeps_text(tmp_path):
    examples = build_examples(hit_rows(agent_name="<script>alert(1)</script>", hit_text=HOSTILE[0]))
    page = tmp_path / "ex.html"
    write_examples(examples, page)
    text = page.read_text(encoding="utf-8")
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    lines = tmp_path / "ex.jsonl"
    write_examples(examples, lines)
    assert HOSTILE[0].replace('"', '\\"') in lines.read_text(encoding="utf-8")  # JSON is for programs: unchanged


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_sample_list_neutralises_names_and_keeps_scores_numbers(tmp_path, suffix):
    calls, _ = month_frames([(f"10{i}", name) for i, name in enumerate(HOSTILE)])
    picked = sample_calls(calls, per_agent=2)
    out = tmp_path / f"listen{suffix}"
    assert write_sample(picked, out) == len(picked) == 2 * len(HOSTILE)
    if suffix == ".csv":
        rows = csv_rows(out)
        assert rows[0][:8] == ["序号", "工号", "姓名", "通话编号", "通话时间", "得分", "致命项", "抽样原因"]
        assert_csv_safe(out)
        assert {r[6] for r in rows[1:]} == {"是", "否"} and all(_plain_number(r[5]) for r in rows[1:])
    else:
        assert_xlsx_safe(out)
        ws = openpyxl.load_workbook(out)["复听清单"]
        assert ws["H1"].value == "抽样原因" and ws.freeze_panes == "A2"
        body = list(ws.iter_rows(min_row=2, values_only=True))
        assert all(isinstance(r[5], int | float) and isinstance(r[0], int) and r[6] in ("是", "否") for r in body)
