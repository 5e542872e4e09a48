"""Issue 14 item 3: `qc report analysis` — the monthly 质检分析报告 as one self-contained HTML page: every section,
charts embedded as PNG (with titles and axis titles, drawn with a CJK font), no external URL, agents
improving and slipping computed right, review coverage and rule precision, recognition quality; rendered
in headless chromium with real Chinese glyphs. ``QC_WRITE_DOCS=1`` writes the screenshot to
docs/analysis.png (the README shows it).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from qc.cli import cli
from qc.reports import charts
from qc.reports.analysis import load_analysis, months_back
from qc.reports.analysis_write import SECTIONS
from qc.reports.paperwork import analysis_report
from qc.store import Store
from qc.store.tables import metadata
from tests.reports import paperwork_data as data
from tests.reports.test_weekly import render_and_check_glyphs

pytestmark = pytest.mark.issue(14)

ROOT = Path(__file__).resolve().parent.parent.parent
PNG = re.compile(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'")


def _fresh_postgres() -> str:
    """The CI's PostgreSQL, emptied: the analysis reads it with its own SQL (json_array_elements)."""
    url = os.environ.get("QC_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("QC_TEST_POSTGRES_URL not set (CI starts PostgreSQL and sets it)")
    store = Store(url)
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f"DROP TABLE IF EXISTS {table.name} CASCADE"))
    store.close()
    return url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, inspector) -> str:  # noqa: ANN001
    if request.param == "postgres":
        url = _fresh_postgres()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'qc.db'}"
    data.build(url, inspector)
    return url


@pytest.fixture(scope="module")
def page(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analysis-out") / "2026-11.html"
    analysis_report(Store(db_url), "2026-11", out, pass_mark=60.0, min_calls=3)
    return out


def test_agents_improving_and_slipping_are_computed_right(db_url):
    report = load_analysis(Store(db_url), "2026-11", 60.0, min_calls=3, step=3.0)
    improving = dict(zip(report.improving["agent_id"], report.improving["change"], strict=True))
    slipping = dict(zip(report.slipping["agent_id"], report.slipping["change"], strict=True))
    assert list(improving) == ["1001", "1004"]  # biggest gain first
    assert improving["1001"] == pytest.approx(30.0) and improving["1004"] == pytest.approx(5.0)
    assert slipping == {"1002": pytest.approx(-25.0)}
    assert report.moved == (4, 2, 1)  # 1003 moved +1 (< 3 points); 1005 has no October
    # fewer calls than asked in either month: nobody is compared
    assert load_analysis(Store(db_url), "2026-11", 60.0, min_calls=4).moved == (0, 0, 0)
    # the trend starts at the database's first month
    assert list(report.trend["month"]) == ["2026-10", "2026-11"]
    assert list(report.trend["calls"]) == [12, 13]


def test_review_coverage_precision_and_recognition_quality(db_url):
    report = load_analysis(Store(db_url), "2026-11", 60.0, min_calls=3)
    coverage = report.data.coverage
    assert (coverage.calls_reviewed, coverage.verdicts, coverage.false_hits) == (2, 2, 1)
    ban = {p.rule_id: p for p in report.data.precision}["BAN-002"]
    assert (ban.reviewed, ban.confirmed, ban.false, ban.precision) == (2, 1, 1, 0.5)
    recognition = report.data.recognition
    # every call is recognised (asr settings); 5 turns each, 1 below the log-probability threshold
    assert recognition.turns == 13 * 5 and recognition.low_turns == 13
    assert recognition.hits > 0 and 0 < recognition.suspected < recognition.hits


def test_the_page_has_every_section_embedded_charts_and_no_external_url(page):
    html = page.read_text(encoding="utf-8")
    for key, title in SECTIONS.items():
        assert f"<h2 id='{key}'>{title}</h2>" in html
    images = PNG.findall(html)
    assert len(images) >= 5
    for b64 in images:
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    without_images = PNG.sub("", html)
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", without_images)
    assert "@import" not in html and "url(" not in without_images and "<script" not in html
    assert "@media print" in html and "size:A4" in html
    # the figures a manager reads: improving and slipping agents, precision, low-confidence share
    agents = html[html.index("id='agents'") : html.index("id='call-kinds'")]
    assert agents.index("1001") < agents.index("1004") and "+30.0" in agents and "-25.0" in agents
    assert "50.0%" in html and "20.0%" in html  # BAN-002 precision; 13 of 65 turns low-confidence
    assert "打印 → 另存为 PDF" in html


def test_every_chart_has_a_title_and_axis_titles_and_real_cjk_glyphs(monkeypatch):
    titles: list[tuple[str, str, str]] = []
    original = charts._style

    def spy(ax, title, xlabel, ylabel):  # noqa: ANN001, ANN202
        titles.append((title, xlabel, ylabel))
        original(ax, title, xlabel, ylabel)

    monkeypatch.setattr(charts, "_style", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for a box
        if charts.cjk_font() is None:
            pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
        charts.histogram([50, 55, 60], [1, 2, 3], 5, 60, "得分分布")
        charts.trend(["2026-10", "2026-11"], [80.0, 82.0], [0.9, 0.95], "平均分与合格率")
        charts.grouped_bars(
            ["服务禁语", "口头禅"], {"2026-10": [1.0, 2.0], "2026-11": [2.0, 1.0]}, "违规", "类别", "次数"
        )
        charts.horizontal_bars(["王芳", "李强"], [5.0, -3.0], "进步与退步", "变化（分）", "坐席")
    assert len(titles) == 4 and all(all(part for part in t) for t in titles)


def test_no_cjk_font_logs_one_warning_and_still_draws(monkeypatch, caplog):
    monkeypatch.setattr(charts, "CJK_FONTS", ("No Such Font CJK",))
    charts.cjk_font.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="qc.reports.charts"), warnings.catch_warnings():
            warnings.simplefilter("error")  # not one more warning per missing glyph
            png = charts.histogram([50], [1], 5, 60, "得分分布")
            charts.histogram([50], [1], 5, 60, "得分分布")
        assert png[:4] == b"\x89PNG"
        assert len([r for r in caplog.records if "CJK font" in r.message]) == 1
    finally:
        charts.cjk_font.cache_clear()


def test_cli_errors_and_months_back(db_url, tmp_path):
    assert months_back("2026-02", 3) == ("2025-12", "2026-01", "2026-02")
    runner = CliRunner()
    empty = runner.invoke(
        cli, ["report", "analysis", "--month", "2026-05", "--db", db_url, "--out", str(tmp_path / "a.html")]
    )
    assert empty.exit_code == 1 and "no scored calls for 2026-05" in empty.output and "nothing written" in empty.output
    assert not (tmp_path / "a.html").exists()
    pdf = runner.invoke(
        cli, ["report", "analysis", "--month", "2026-11", "--db", db_url, "--out", str(tmp_path / "a.pdf")]
    )
    assert pdf.exit_code == 1 and "print to PDF" in pdf.output and not (tmp_path / "a.pdf").exists()
    ok = runner.invoke(
        cli,
        [
            "report",
            "analysis",
            "--month",
            "2026-11",
            "--min-calls",
            "3",
            "--db",
            db_url,
            "--out",
            str(tmp_path / "a.html"),
        ],
    )
    assert ok.exit_code == 0, ok.output


def test_analysis_page_renders_with_real_chinese_glyphs(page, tmp_path):
    shot = tmp_path / "analysis.png"
    render_and_check_glyphs(page, shot, viewport=(1100, 1500))
    if os.environ.get("QC_WRITE_DOCS") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "analysis.png")
