"""Issue 14, item 1: the monthly 服务质量综合考评表 as a manager prints and signs it.

Read back with openpyxl: the title block, the five 考评项 per agent, team totals, the trend from
months stored by other scoring runs, print settings on every sheet, deductions one per line, no
``-0`` anywhere, dates as dates, chart axis titles; one agent's page rendered to a PNG by
LibreOffice (and pdftoppm) where installed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import insert, update

from qc.cli import cli
from qc.pipeline import monthly_report
from qc.reports.monthly import build_monthly
from qc.reports.write import write_agent_pages_xlsx, write_monthly_xlsx
from qc.store import Store, load_month
from qc.store.history import iso_week_range, load_month_averages, months_before
from qc.store.tables import agents, verdicts
from tests.conftest import SAMPLES
from tests.reports.frames import agent_table, month_frames, summary_table

pytestmark = pytest.mark.issue(14)

ITEMS = ("服务用语", "服务态度", "语气语调", "需求归纳能力", "应变能力")  # lexicons/scorecard.yaml
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _month_copy(tmp_path: Path, month: str, worse: bool) -> Path:
    """The sample calls moved to ``month`` under new call ids (``worse``: 3072 keeps its rude turn)."""
    folder = tmp_path / month
    folder.mkdir()
    for src in SAMPLES.glob("*.json"):
        data = json.loads(src.read_text(encoding="utf-8"))
        data["call_id"] = f"{month}-{data['call_id']}"
        data["started_at"] = data["started_at"].replace("2026-11", month)
        if data["agent_id"] == "3072" and not worse:
            data["utterances"] = [u for u in data["utterances"] if "态度" not in u["text"]]
        (folder / src.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """November, and September and October each stored by a scoring run of their own; teams for
    three agents; one verdict by inspector 王质检 on a November call."""
    tmp_path = tmp_path_factory.mktemp("kp")
    url = f"sqlite:///{tmp_path / 'qc.db'}"
    for folder in (_month_copy(tmp_path, "2026-09", worse=True), _month_copy(tmp_path, "2026-10", worse=False)):
        result = CliRunner().invoke(cli, ["score", str(folder), "--db", url])
        assert result.exit_code == 0, result.stderr
    result = CliRunner().invoke(cli, ["score", str(SAMPLES), "--db", url])
    assert result.exit_code == 0, result.stderr
    store = Store(url)
    with store.transaction() as conn:
        for agent_id, team in (("1024", "一组"), ("2048", "一组"), ("3072", "二组")):
            conn.execute(update(agents).where(agents.c.agent_id == agent_id).values(team=team))
        conn.execute(
            insert(verdicts).values(
                call_id="20261106-1130-3072-0001", hit_id="x", verdict=True, by_user="王质检",
                at="2026-11-20T10:00:00+08:00", machine_status="confirmed", rule_id="BAN-002",
            )
        )  # fmt: skip
    return url


@pytest.fixture(scope="module")
def book(db, tmp_path_factory) -> openpyxl.Workbook:
    out = tmp_path_factory.mktemp("book") / "2026-11.xlsx"
    result = CliRunner().invoke(cli, ["report", "monthly", "--month", "2026-11", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.stderr
    return openpyxl.load_workbook(out)


def _title(book: openpyxl.Workbook) -> dict[str, object]:
    """The 汇总 sheet's title block: label → value."""
    ws = book["汇总"]
    out = {}
    for row in ws.iter_rows(min_row=2, max_row=8):
        out[row[0].value] = row[2].value
    return out


def test_title_block_says_what_the_sheet_is(book):
    ws = book["汇总"]
    assert ws["A1"].value == "服务质量综合考评表"
    title = _title(book)
    assert title["呼叫中心"].startswith("中通速递") and title["考评月份"] == "2026-11"
    assert title["规则版本"] and title["合格线"] == 60 and isinstance(title["合格线"], int | float)
    scoring = title["评分方法"]
    assert "满分100分" in scoring and "服务禁语每条20，封顶60" in scoring and "致命项" in scoring
    assert all(item in scoring for item in ITEMS)
    assert title["质检员"] == "王质检"
    made = ws["C8"]
    assert isinstance(made.value, datetime) and made.is_date


def test_every_agent_has_the_five_items_team_and_rank(book):
    _, headers, body = summary_table(book["汇总"])
    for item in ITEMS:
        assert any(h.startswith(item) and h.endswith("平均") for h in headers), item
    rows = {r[0]: dict(zip(headers, r, strict=True)) for r in body}
    assert rows["1024"]["班组"] == "一组" and rows["3072"]["班组"] == "二组" and rows["4096"]["班组"] == "未分组"
    for row in rows.values():
        items = [v for h, v in row.items() if h and h.endswith("平均") and h.startswith(ITEMS)]
        assert len(items) == 5
        if row["致命项次数"] == 0:  # a vetoed call scores the veto score, not its items' sum
            assert sum(items) == pytest.approx(row["平均分"], abs=0.05)
        assert isinstance(row["排名"], int)
    assert "文明用语使用率" not in headers and "规范服务率" in headers
    rates = {r["规范服务率"] for r in rows.values()}
    assert len(rates) > 1 and all(0 <= r <= 1 for r in rates)  # it tells agents apart


def test_team_totals_and_ranks(book):
    ws = book["汇总"]
    cells = list(ws.iter_rows(values_only=True))
    top = next(n for n, r in enumerate(cells) if r[0] == "班组" and r[1] == "坐席数")
    teams = {r[0]: r for r in cells[top + 1 : top + 4]}
    assert set(teams) == {"一组", "二组", "未分组"}
    one, two = teams["一组"], teams["二组"]
    assert one[1] == 2 and two[1] == 1 and one[7] < two[7]  # 一组 (1024, 2048) ranks above 二组 (3072)


def test_trend_comes_from_months_other_runs_stored(book, db):
    stored = load_month_averages(Store(db), ["2026-09", "2026-10"]).set_index(["agent_id", "month"])["avg_score"]
    _, headers, body = summary_table(book["汇总"])
    rows = {r[0]: dict(zip(headers, r, strict=True)) for r in body}
    assert "2026-09平均分" in headers and "上月平均分" in headers and "2026-08平均分" in headers
    zhao = rows["3072"]
    assert isinstance(zhao["上月平均分"], int | float) and isinstance(zhao["2026-09平均分"], int | float)
    assert zhao["环比(分)"] == pytest.approx(zhao["平均分"] - zhao["上月平均分"], abs=0.01)
    for agent_id, row in rows.items():  # every run's month, as the database has it
        assert row["2026-09平均分"] == pytest.approx(stored[(agent_id, "2026-09")], abs=0.005)
        assert row["上月平均分"] == pytest.approx(stored[(agent_id, "2026-10")], abs=0.005)
    assert zhao["2026-08平均分"] is None  # nothing stored for August: blank, not 0


def test_month_averages_query_ignores_which_run_stored_them(db):
    frame = load_month_averages(Store(db), months_before("2026-11", 3))
    assert set(frame["month"]) == {"2026-09", "2026-10"} and set(frame["agent_id"]) == {"1024", "2048", "3072", "4096"}
    assert months_before("2026-02", 3) == ["2025-11", "2025-12", "2026-01"]
    assert iso_week_range("2026-W45") == ("2026-11-02", "2026-11-09")


def test_definitions_explain_every_rate(book):
    ws = book["汇总"]
    labels = [r[0] for r in ws.iter_rows(values_only=True)]
    _, headers, _ = summary_table(ws)
    for rate in [h for h in headers if h.endswith("率")]:
        assert rate in labels, f"{rate} is not defined"
    for figure in ("平均分", "排名", "环比(分)", "往月平均分", "考评项平均"):
        assert figure in labels


def test_print_setup_on_every_sheet(book):
    for ws in book.worksheets:
        setup = ws.page_setup
        assert setup.paperSize == 9, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and (setup.fitToWidth in (None, 1)), ws.title
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, ws.title
        assert ws.page_margins.left > 0 and setup.orientation in ("landscape", "portrait"), ws.title
        if ws.title != "图表":
            assert ws.print_title_rows, ws.title
    assert book["3072 赵敏"].page_setup.orientation == "landscape"


def test_agent_page_header_calls_deductions_and_signature(book):
    ws = book["3072 赵敏"]
    cells = [r for r in ws.iter_rows(values_only=True)]
    assert cells[0][0].startswith("服务质量综合考评表")
    assert "3072 赵敏" in cells[1][0] and "班组：二组" in cells[1][0] and "月份：2026-11" in cells[1][0]
    assert "平均分：" in cells[1][0] and "排名：" in cells[1][0]
    top, headers, body = agent_table(ws)
    assert ws.print_title_rows == f"${top}:${top}"
    column = headers.index(next(h for h in headers if h.startswith("扣分明细")))
    vetoed = next(r for r in body if r[0] == "20261106-1130-3072-0001")
    lines = vetoed[column].split("\n")
    assert len(lines) >= 3 and all(line[:5].count(":") == 1 for line in lines)  # mm:ss first
    assert any("「你找领导去」" in line and "−20分" in line and "BAN-002" in line for line in lines)
    cell = ws.cell(row=top + 1 + body.index(vetoed), column=column + 1)
    assert cell.alignment.wrap_text
    when = ws.cell(row=top + 1 + body.index(vetoed), column=2)
    assert isinstance(when.value, datetime) and when.is_date and when.value == datetime(2026, 11, 6, 11, 30)
    sign = [r[0] for r in cells if r[0] and str(r[0]).startswith("质检员")]
    assert sign and all(word in sign[0] for word in ("质检员：", "坐席：", "班长：", "日期："))


def test_no_negative_zero_anywhere(book):
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, float):
                    assert not (value == 0 and math.copysign(1, value) < 0), (ws.title, cell.coordinate)
                elif isinstance(value, str):
                    assert "-0分" not in value and " -0" not in value and value != "-0", (ws.title, value)


def test_a_capped_deduction_prints_as_no_points():
    calls, hits = month_frames([("1001", "赵敏")])
    hits["deduction"] = -0.0  # a finding the cap left nothing to take from
    report = build_monthly("2026-11", calls, hits, None, pass_mark=60.0)
    text = report.details["1001"]["deductions"].iloc[0]
    assert "不扣分" in text and " -0" not in text and "−0" not in text


def test_chart_axes_have_titles(book, tmp_path):
    charts = book["图表"]._charts
    assert len(charts) == 2
    for chart in charts:
        assert chart.title is not None
        assert chart.x_axis.title is not None and chart.y_axis.title is not None


def _render(xlsx: Path, folder: Path) -> Path:
    """One agent's page: LibreOffice prints the workbook to PDF, pdftoppm makes page 1 a PNG."""
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(xlsx)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = folder / f"{xlsx.stem}.pdf"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(folder / "page")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return folder / "page.png"


@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None, reason="LibreOffice or pdftoppm missing"
)
def test_one_agent_page_renders_to_a_png(db, tmp_path):
    """QC_WRITE_DOCS=1 also writes it to docs/kaopingbiao.png (the README's picture)."""
    store = Store(db)
    calls, hits = load_month(store, "2026-11")
    out = tmp_path / "page.xlsx"
    monthly_report(store, "2026-11", tmp_path / "whole.xlsx", 60.0)  # the same path the CLI takes works
    report = build_monthly("2026-11", calls, hits, None, 60.0, teams={"3072": "二组"})
    write_agent_pages_xlsx(report, out, ["3072"])
    assert openpyxl.load_workbook(out).sheetnames == ["3072 赵敏"]
    png = _render(out, tmp_path)
    image = Image.open(png).convert("L")
    assert image.width > 800 and image.height > 500
    dark = sum(image.histogram()[:128])
    assert dark > 0.002 * image.width * image.height  # text was drawn: not a blank page
    if os.environ.get("QC_WRITE_DOCS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(png, DOCS / "kaopingbiao.png")


def test_whole_workbook_still_written_without_teams_or_history(tmp_path):
    calls, hits = month_frames([("1001", "赵敏"), ("1002", "钱")])
    report = build_monthly("2026-11", calls, hits, None, pass_mark=60.0)
    out = write_monthly_xlsx(report, tmp_path / "m.xlsx")
    _, headers, body = summary_table(openpyxl.load_workbook(out)["汇总"])
    rows = {r[0]: dict(zip(headers, r, strict=True)) for r in body}
    assert rows["1001"]["班组"] == "未分组" and rows["1001"]["上月平均分"] is None
