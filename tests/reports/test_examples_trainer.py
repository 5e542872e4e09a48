"""Issue 14, item 4: trainer examples show the manual's line of their rule, say when --limit cut the
list, wrap their multi-line cells, and filter by ISO week and by 考评项."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.reports.examples import build_examples
from qc.reports.examples_write import write_examples
from tests.conftest import SAMPLES
from tests.reports.frames import hit_rows

pytestmark = pytest.mark.issue(14)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ex') / 'qc.db'}"
    result = CliRunner().invoke(cli, ["score", str(SAMPLES), "--db", url])
    assert result.exit_code == 0, result.stderr
    return url


def _examples(db: str, out, *args: str):
    result = CliRunner().invoke(cli, ["examples", *args, "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.stderr
    return result


def _sheet(path) -> tuple[list[str], list[tuple], openpyxl.worksheet.worksheet.Worksheet]:
    ws = openpyxl.load_workbook(path)["违规示例"]
    rows = list(ws.iter_rows(values_only=True))
    top = next(n for n, r in enumerate(rows) if r[0] == "通话编号")
    return list(rows[top]), rows[top + 1 :], ws


def test_each_example_shows_its_rules_manual_line(db, tmp_path):
    _examples(db, tmp_path / "ban.xlsx", "--rule", "BAN-002")
    headers, body, _ = _sheet(tmp_path / "ban.xlsx")
    source = headers.index("手册出处")
    assert body and all(r[source] and r[source].startswith("001") for r in body)
    _examples(db, tmp_path / "ban.html", "--rule", "BAN-002")
    page = (tmp_path / "ban.html").read_text(encoding="utf-8")
    assert "手册出处：001" in page


def test_a_hit_stored_without_a_source_takes_the_rules():
    rows = hit_rows()
    examples = build_examples(rows, rule_sources={"BAN-002": "001 服务禁语 例2"})
    assert examples[0].source == "001 服务禁语 例2"
    rows[0]["source"] = "stored line"
    assert build_examples(rows, rule_sources={"BAN-002": "x"})[0].source == "stored line"


def test_a_cut_list_says_so(db, tmp_path):
    result = _examples(db, tmp_path / "cut.xlsx", "--limit", "2")
    assert "showing 2 of" in result.stderr
    ws = openpyxl.load_workbook(tmp_path / "cut.xlsx")["违规示例"]
    note = ws["A1"].value
    assert note.startswith("共 ") and "仅列出最新的 2 条" in note
    headers, body, _ = _sheet(tmp_path / "cut.xlsx")
    assert len(body) == 2 and headers[0] == "通话编号"
    _examples(db, tmp_path / "cut.html", "--limit", "2")
    assert "仅列出最新的 2 条" in (tmp_path / "cut.html").read_text(encoding="utf-8")
    whole = _examples(db, tmp_path / "all.xlsx", "--limit", "10000")
    assert "showing" not in whole.stderr
    assert openpyxl.load_workbook(tmp_path / "all.xlsx")["违规示例"]["A1"].value == "通话编号"


def test_context_cells_wrap_one_turn_per_line(db, tmp_path):
    _examples(db, tmp_path / "ctx.xlsx", "--rule", "BAN-002")
    headers, body, ws = _sheet(tmp_path / "ctx.xlsx")
    turns = headers.index("前后对话")
    assert "\n" in body[0][turns]
    assert ws.cell(row=2, column=turns + 1).alignment.wrap_text


def test_week_filter_keeps_that_iso_week(db, tmp_path):
    _examples(db, tmp_path / "w45.xlsx", "--week", "2026-W45", "--limit", "10000")  # 2026-11-02 … 11-08
    headers, body, _ = _sheet(tmp_path / "w45.xlsx")
    when = headers.index("通话时间")
    days = {r[when][:10] for r in body}
    assert days and all("2026-11-02" <= d <= "2026-11-08" for d in days)
    _examples(db, tmp_path / "w46.xlsx", "--week", "2026-W46", "--limit", "10000")
    later = {r[when][:10] for r in _sheet(tmp_path / "w46.xlsx")[1]}
    assert later and all("2026-11-09" <= d <= "2026-11-15" for d in later)
    bad = CliRunner().invoke(cli, ["examples", "--week", "2026-45", "--out", str(tmp_path / "x.csv"), "--db", db])
    assert bad.exit_code == 1 and "ISO week" in bad.stderr


def test_item_filter_keeps_that_items_rules(db, tmp_path):
    _examples(db, tmp_path / "attitude.xlsx", "--item", "服务态度", "--limit", "10000")
    headers, body, _ = _sheet(tmp_path / "attitude.xlsx")
    category = headers.index("类别")
    assert body and {r[category] for r in body} <= {"服务禁语", "不规范用语", "抢话"}
    _examples(db, tmp_path / "needs.xlsx", "--item", "需求归纳能力", "--limit", "10000")
    rules = {r[headers.index("规则编号")] for r in _sheet(tmp_path / "needs.xlsx")[1]}
    assert rules and all(r.startswith("PRC-") for r in rules)
    bad = CliRunner().invoke(cli, ["examples", "--item", "态度", "--out", str(tmp_path / "x.csv"), "--db", db])
    assert bad.exit_code == 1 and "unknown 考评项" in bad.stderr and "服务态度" in bad.stderr


def test_csv_and_jsonl_stay_plain_tables_when_cut(tmp_path):
    examples = build_examples(hit_rows())
    assert write_examples(examples, tmp_path / "e.csv", total=50) == 1
    assert (tmp_path / "e.csv").read_text(encoding="utf-8-sig").startswith("通话编号")
