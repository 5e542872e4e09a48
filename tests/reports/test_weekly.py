"""Issue 14 item 2: `qc report weekly` — the week's 小结 and training plan. A rule broken by many agents is a
whole-team session with the manual's line, the rewrite and two anonymised examples (a clip where the
recording is reachable); a rule broken by one or two agents is one-to-one coaching with their own
examples. The .xlsx is read back with openpyxl (sheets, print setup, numbers, no formulas); the .html is
rendered in headless chromium and its Chinese checked for real glyphs.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.errors import ReportError
from qc.reports.paperwork import weekly_report
from qc.reports.weekly import ONE_TO_ONE, TEAM_SESSION, Threshold, load_weekly
from qc.store import Store
from qc.store.history import parse_week
from tests.reports import paperwork_data as data

pytestmark = pytest.mark.issue(14)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory, inspector) -> str:  # noqa: ANN001
    url = f"sqlite:///{tmp_path_factory.mktemp('weekly') / 'qc.db'}"
    data.build(url, inspector)
    return url


def _plan(url: str, threshold: str = "3") -> dict[tuple[str, str | None], object]:
    report = load_weekly(Store(url), parse_week(data.WEEK), Threshold.parse(threshold))
    return {(t.rule_id, t.agent_id): t for t in report.plan}


def test_the_threshold_splits_whole_team_sessions_from_one_to_one_coaching(db_url):
    plan = _plan(db_url)
    ban = plan[("BAN-002", None)]
    assert ban.kind == TEAM_SESSION and ban.agents == 4 and ban.times == 8
    assert len(ban.examples) == 2
    assert {e.agent_id for e in ban.examples} == {"坐席甲", "坐席乙"}  # two different agents, anonymised
    neg = plan[("NEG-002", "1005")]
    assert neg.kind == ONE_TO_ONE and neg.agents == 1 and neg.times == 1
    assert [e.agent_id for e in neg.examples] == ["1005"]  # the agent's own example, not anonymised
    # a stricter threshold: BAN-002 (4 agents) is now coaching for each of the four
    stricter = _plan(db_url, "5")
    assert ("BAN-002", None) not in stricter
    assert {a for r, a in stricter if r == "BAN-002"} == {"1001", "1002", "1003", "1004"}
    assert all(stricter[("BAN-002", a)].kind == ONE_TO_ONE for a in ("1001", "1002", "1003", "1004"))
    # a share of the week's 5 agents: 80 % → BAN-002 (4 of 5) still whole-team, 90 % → not
    assert _plan(db_url, "80%")[("BAN-002", None)].kind == TEAM_SESSION
    assert ("BAN-002", None) not in _plan(db_url, "90%")


def test_threshold_and_week_are_checked():
    assert Threshold.parse("20%") == Threshold(None, 0.2)
    for bad in ("0", "abc", "150%", "-1"):
        with pytest.raises(ReportError):
            Threshold.parse(bad)
    week = parse_week("2026-W47")
    assert (str(week.start), str(week.end)) == ("2026-11-16", "2026-11-22")
    assert parse_week("2026-W01").months == ("2025-12", "2026-01")  # a week across two months
    with pytest.raises(ReportError):
        parse_week("2026-47")


def _team_cards(page: str) -> str:
    """The whole-team part of the page, without the embedded clips (base64 may hold any digits)."""
    team = page[page.index("<h3>全员培训") : page.index("<h3>一对一辅导")]
    return re.sub(r"data:audio/wav;base64,[A-Za-z0-9+/=]+", "CLIP", team)


def test_html_team_examples_are_anonymised_and_show_the_manual_line_the_rewrite_and_a_clip(db_url, tmp_path):
    out = tmp_path / "week.html"
    done = weekly_report(Store(db_url), data.WEEK, out)
    assert (done.calls, done.agents) == (9, 5) and done.team_sessions >= 1 and done.coaching >= 1
    page = out.read_text(encoding="utf-8")
    team = _team_cards(page)
    assert "BAN-002" in team and "001 第二章第一节 三、服务禁语 例2「你找领导去。」" in team
    assert team.count("CLIP") == 1  # agent 1001's call has its recording: the hit's turn as audio
    assert "你找领导去" in team  # the quoted words where there is no clip
    for secret in (*(n for n, _t in data.AGENTS.values()), *data.AGENTS, data.PHONE, "W47-"):
        assert secret not in team, secret
    # one-to-one coaching names the agent and shows the rule's rewrite and manual line
    own = page[page.index("<h3>一对一辅导") :]
    assert "1005" in own and "NEG-002" in own
    assert "建议说法：这个情况很少，我替您查一下" in own and "手册依据：001 语言表达技巧" in own
    assert data.PHONE not in page  # customers' numbers masked everywhere
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page)  # nothing fetched from anywhere
    # the summary: calls per agent and per team, the rules broken most and who broke them
    assert "一组" in page and "二组" in page and "1001 王芳×2" in page


def test_xlsx_sheets_print_setup_numbers_and_no_formulas(db_url, tmp_path):
    out = tmp_path / "week.xlsx"
    weekly_report(Store(db_url), data.WEEK, out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:1] == ["小结"] and {"培训计划", "示例", "班组", "违规排行"} <= set(book.sheetnames)
    for sheet in book.worksheets:
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth in (None, 1)  # one page wide (1 is the default, so often not written)
        assert sheet.page_setup.fitToHeight == 0  # as many pages down as needed
        assert sheet.print_title_rows  # header rows repeated on every page
        assert "&P" in sheet.oddFooter.center.text
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{sheet.title}!{c.coordinate} is a formula"
    summary = book["小结"]
    header = [c.value for c in summary[3]]
    assert header[:5] == ["工号", "姓名", "班组", "抽检通话数", "平均分"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=4, values_only=True)}
    assert rows["1002"][3] == 2 and rows["1002"][4] == 70.0  # numbers, not text that looks like one
    assert rows["1005"][1] == "'" + data.HOSTILE_NAME  # a name that would run as a formula stays text
    plan = book["培训计划"]
    kinds = {(r[1], r[2]) for r in plan.iter_rows(min_row=4, values_only=True)}
    assert (TEAM_SESSION, "BAN-002") in kinds and (ONE_TO_ONE, "NEG-002") in kinds
    examples = list(book["示例"].iter_rows(min_row=4, values_only=True))
    team_rows = [r for r in examples if r[1] == TEAM_SESSION and r[2] == "BAN-002"]
    assert len(team_rows) == 2 and {r[4] for r in team_rows} == {"坐席甲", "坐席乙"}
    for r in team_rows:
        assert "王芳" not in r[7] and "1001" not in r[7] and data.PHONE not in r[7]
        assert isinstance(r[9], int | float) and r[9] == pytest.approx(9.8)  # the time in the recording, a number


def test_cli_errors_are_one_line_and_a_wrong_suffix_is_refused_before_any_work(db_url, tmp_path):
    runner = CliRunner()
    empty = runner.invoke(
        cli, ["report", "weekly", "--week", "2026-W40", "--db", db_url, "--out", str(tmp_path / "w.xlsx")]
    )
    assert empty.exit_code == 1 and "no scored calls for 2026-W40" in empty.output and "nothing written" in empty.output
    missing = tmp_path / "never" / "qc.db"
    wrong = runner.invoke(
        cli, ["report", "weekly", "--week", data.WEEK, "--db", f"sqlite:///{missing}", "--out", str(tmp_path / "w.pdf")]
    )
    assert wrong.exit_code == 1 and ".xlsx or .html" in wrong.output
    assert not (tmp_path / "w.pdf").exists() and not missing.parent.exists()
    ok = runner.invoke(
        cli, ["report", "weekly", "--week", data.WEEK, "--db", db_url, "--team-threshold", "20%", "--out",
              str(tmp_path / "w.html")],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output


# --- in a real browser -----------------------------------------------------------------------------


def render_and_check_glyphs(html_path: Path, shot: Path, viewport: tuple[int, int] = (1200, 1600)) -> None:
    """Open ``html_path`` in headless chromium (no network: any request fails the test), check the page's
    Chinese is drawn with a CJK font (the platform font chromium used for the title, and a CJK glyph as
    wide as the font size, not a narrow fallback box) and screenshot it to ``shot``."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = data.chromium()
    if chromium is None:
        pytest.skip("no chromium at /usr/bin/chromium (apt-get install chromium fonts-noto-cjk)")
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        except Exception as err:  # noqa: BLE001 — a chromium that will not start is a missing browser
            pytest.skip(f"chromium at {chromium} does not start: {err}")
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(html_path.as_uri())
            page.wait_for_load_state("load")
            assert not requests, requests  # self-contained: nothing fetched
            cdp = page.context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
            fonts = [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]]
            if not any("CJK" in f or "Han" in f for f in fonts):
                pytest.fail(f"the title's Chinese is drawn with {fonts}, not a CJK font (boxes)")
            width = page.evaluate(
                "(() => { const s = document.createElement('span'); s.style.fontSize = '20px';"
                " s.textContent = '质检员复核'; document.querySelector('h1').appendChild(s);"
                " const w = s.getBoundingClientRect().width; s.remove(); return w; })()"
            )
            assert 95 <= width <= 105, width
            images = page.evaluate("Array.from(document.images).map(i => [i.naturalWidth, i.complete])")
            assert all(w > 0 and done for w, done in images)  # every embedded chart decodes
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert shot.stat().st_size > 30_000


def test_weekly_page_renders_with_real_chinese_glyphs(db_url, tmp_path):
    out = tmp_path / "week.html"
    weekly_report(Store(db_url), data.WEEK, out)
    render_and_check_glyphs(out, tmp_path / "week.png")


def test_a_quoted_text_starting_with_equals_stays_text_in_the_workbook(tmp_path):
    """Words from a transcript that a spreadsheet would run (=HYPERLINK…) are written as text."""
    import pandas as pd

    from qc.reports.weekly import build_weekly
    from qc.reports.weekly_write import write_weekly
    from tests.reports.frames import HOSTILE, hit_rows

    row = hit_rows(hit_text=HOSTILE[0], context=HOSTILE[1])[0]
    calls = pd.DataFrame(
        [{"call_id": "C-1", "agent_id": "1001", "agent_name": "赵敏", "team": "一组", "audio": None, "score": 80.0,
          "veto": False}]
    )  # fmt: skip
    hits = pd.DataFrame(
        [{"call_id": "C-1", "seq": 0, "rule_id": "BAN-002", "category": "banned", "name": "让客户找领导",
          "source": HOSTILE[2], "suggestion": HOSTILE[3], "deduction": 20.0, "utterance": 1, "agent_id": "1001",
          "audio": None}]
    )  # fmt: skip
    report = build_weekly(
        parse_week(data.WEEK), calls, hits, lambda keys: {("C-1", 0): {**row, "seq": 0}}, Threshold.parse("1")
    )
    out = write_weekly(report, tmp_path / "w.xlsx")
    book = openpyxl.load_workbook(out)
    values = [c.value for s in book.worksheets for r in s.iter_rows() for c in r if isinstance(c.value, str)]
    assert all(c.data_type != "f" for s in book.worksheets for r in s.iter_rows() for c in r)
    for hostile in HOSTILE[:4]:
        assert any(v.startswith("'" + hostile) or hostile in v for v in values)
    assert not any(v.startswith(tuple("=+-@")) and not v.lstrip("+-").replace(".", "").isdigit() for v in values)
