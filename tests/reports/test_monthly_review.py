"""Issue 11, items 4 and 5 in the monthly workbook: the 规则准确率 sheet, review coverage, false hits,
missed findings and appeals per agent, locked months that never change, and adjustments for
earlier months shown as such — on SQLite and PostgreSQL, read back with openpyxl.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import delete, insert, text, update

import qc.review.desk as desk_module
from qc.pipeline import monthly_report
from qc.review.desk import ReviewDesk
from qc.review.precision import rule_precision
from qc.schema import Transcript
from qc.store import Store
from qc.store.tables import adjustments, agents, appeals, manual_findings, metadata, month_locks, verdicts
from tests.conftest import LEXICONS, SAMPLES

pytestmark = pytest.mark.issue(11)

PG_URL = os.environ.get("QC_TEST_POSTGRES_URL")
NOV, OCT = "2026-11", "2026-10"
A1, A2, A3 = "20261103-0915-1024-0001", "20261103-1020-1024-0002", "20261112-1000-1024-0003"
B1, B2 = "20261104-1400-2048-0001", "20261105-0900-2048-0002"
C1, C2 = "20261106-1130-3072-0001", "20261106-1500-3072-0002"
OCT_C2 = "OCT-" + C2


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'qc.db'}"


def _postgres(_tmp_path: Path) -> str:
    if not PG_URL:
        pytest.skip("QC_TEST_POSTGRES_URL not set (CI starts PostgreSQL and sets it)")
    store = Store(PG_URL)
    with store.engine.begin() as conn:  # every table qc knows, the review ones included
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f"DROP TABLE IF EXISTS {table.name} CASCADE"))
    store.close()
    return PG_URL


@pytest.fixture(params=[_sqlite, pytest.param(_postgres, marks=pytest.mark.postgres)], ids=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return request.param(tmp_path)


class Clock:
    """The desk's clock: a second later at each call, starting just after now (so every scored_at is
    earlier), and able to jump ahead — a post-lock row is then later than the lock by construction."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=1)

    def __call__(self) -> str:
        self.now += timedelta(seconds=1)
        return self.now.isoformat(timespec="seconds")

    def later(self, days: int = 7) -> str:
        self.now += timedelta(days=days)
        return self.now.isoformat(timespec="seconds")


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    tick = Clock()
    monkeypatch.setattr(desk_module, "_now", tick)
    return tick


def _transcripts(folder: Path) -> list[Transcript]:
    """The sample calls, and a copy of each moved to October under another id (written to ``folder``)."""
    from qc.formats import read_transcript

    out = []
    for src in sorted(SAMPLES.glob("*.json")):
        out.append(read_transcript(src))
        data = json.loads(src.read_text(encoding="utf-8"))
        data["call_id"] = "OCT-" + data["call_id"]
        data["started_at"] = data["started_at"].replace("2026-11", "2026-10")
        moved = folder / src.name
        moved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        out.append(read_transcript(moved))
    return out


@pytest.fixture()
def desk(db_url: str, inspector, lexicon, clock: Clock, tmp_path: Path) -> Iterator[ReviewDesk]:  # noqa: ANN001
    """The sample calls scored in November and again in October, an inspector and a QA lead."""
    october = tmp_path / "october"
    october.mkdir()
    store = Store(db_url)
    store.save([(t, inspector.score(t)) for t in _transcripts(october)], str(LEXICONS))
    review = ReviewDesk(store, lexicon)
    review.add_user("wang", "inspector", "pw-12345")
    review.add_user("li", "qa_lead", "pw-12345")
    yield review
    store.close()


def _judge(desk: ReviewDesk) -> None:
    """PRC-012 judged three times (once right, twice wrong), CLOSE-002 twice right, a missed finding."""
    desk.judge_hit(A1, "PRC-012@call", False, "wang", reason="context")
    desk.judge_hit(A2, "PRC-012@call", True, "wang")
    desk.judge_hit(B1, "PRC-012@call", False, "wang", reason="asr")
    desk.judge_hit(B2, "CLOSE-002@call", True, "wang")
    desk.judge_hit(C2, "CLOSE-002@call", True, "wang")
    desk.add_finding(C1, "NS-007", "wang", "推诿，机器漏了", points=4)


def _appeal(desk: ReviewDesk, call_id: str, agent_id: str, opened_at: str, state: str = "submitted", **more) -> int:
    """An appeal row as the appeals code writes it (it is not this test's subject)."""
    row = {
        "call_id": call_id, "hit_id": None, "agent_id": agent_id, "month": NOV, "reason": "不服", "state": state,
        "level": 1, "opened_by": "a" + agent_id, "opened_at": opened_at, "deadline": "2099-01-01T00:00:00+00:00",
        **more,
    }  # fmt: skip
    with desk.store.transaction() as conn:
        return int(conn.execute(insert(appeals).values(**row)).inserted_primary_key[0])


def _report(desk: ReviewDesk, out: Path, month: str = NOV) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet of the month's workbook, as rows of values."""
    monthly_report(desk.store, month, out, pass_mark=60.0)
    if out.suffix == ".csv":
        return {}
    book = openpyxl.load_workbook(out)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def _table(rows: list[tuple[Any, ...]]) -> dict[Any, dict[str, Any]]:
    """A sheet's table keyed by its first cell, each row as {header: value}: the agent table of 汇总
    and of an agent's sheet (below their title block), else the table that starts the sheet."""
    top = next((n for n, r in enumerate(rows) if r and r[0] in ("工号", "通话编号")), 0)
    headers = rows[top]
    body = []
    for r in rows[top + 1 :]:
        if r[0] is None:
            break
        body.append(r)
    return {r[0]: dict(zip(headers, r, strict=True)) for r in body}


def test_rule_precision_sheet(desk, tmp_path):
    _judge(desk)
    sheets = _report(desk, tmp_path / "m.xlsx")
    rows = sheets["规则准确率"]
    assert [r[0] for r in rows[1:]] == ["PRC-012", "CLOSE-002"]  # lowest precision first
    prc = _table(rows)["PRC-012"]
    assert (prc["复核数"], prc["真命中"], prc["误命中"]) == (3, 1, 2)
    assert prc["准确率"] == pytest.approx(1 / 3, abs=1e-4)
    assert (prc["误命中原因:识别错误"], prc["误命中原因:语境误判"], prc["误命中原因:规则问题"]) == (1, 1, 0)
    assert prc["规则"]  # the rule's name, from the stored hits
    with desk.store.engine.connect() as conn:
        expected = {p.rule_id: p for p in rule_precision(conn, NOV)}
    for rule_id, row in _table(rows).items():
        want = expected[rule_id]
        assert row["95%区间下限"] == pytest.approx(want.low, abs=1e-4)
        assert row["95%区间上限"] == pytest.approx(want.high, abs=1e-4)
        assert row["复核数"] == want.reviewed and row["真命中"] == want.confirmed
    _report(desk, tmp_path / "m.csv")
    sibling = pd.read_csv(tmp_path / "m_规则准确率.csv", encoding="utf-8-sig")
    assert list(sibling["规则编号"]) == ["PRC-012", "CLOSE-002"] and list(sibling["复核数"]) == [3, 2]


def test_review_and_appeals_per_agent(desk, clock, tmp_path):
    _judge(desk)
    _appeal(desk, C1, "3072", clock(), state="accepted", decided_by="li", decided_at=clock(), points=4.0)
    _appeal(desk, C2, "3072", clock())
    sheets = _report(desk, tmp_path / "m.xlsx")
    summary = _table(sheets["汇总"])
    wang_fang, li_qiang, zhao_min = summary["1024"], summary["2048"], summary["3072"]
    assert wang_fang["复核通话数"] == 2 and wang_fang["复核率"] == pytest.approx(2 / 3, abs=1e-4)
    assert (wang_fang["误命中"], wang_fang["漏检补录"], wang_fang["申诉"]) == (1, 0, 0)
    assert li_qiang["复核率"] == 1 and li_qiang["误命中"] == 1
    assert (zhao_min["复核率"], zhao_min["误命中"], zhao_min["漏检补录"]) == (1, 0, 1)
    assert (zhao_min["申诉"], zhao_min["申诉改判"]) == (2, 1)
    assert summary["4096"]["复核率"] == 0 and summary["4096"]["跨月调整分(往月通话)"] == 0
    calls = _table(sheets["1024 王芳"])
    assert (calls[A1]["已复核"], calls[A1]["误命中"]) == ("是", 1)
    assert calls[A3]["已复核"] is None and calls[A3]["误命中"] is None  # nobody looked at it
    assert _table(sheets["3072 赵敏"])[C1]["申诉改判"] == 1
    _report(desk, tmp_path / "m.csv")
    flat = pd.read_csv(tmp_path / "m.csv", encoding="utf-8-sig", dtype={"工号": str}).set_index("工号")
    assert flat.loc["3072", "申诉"] == 2 and flat.loc["1024", "复核率"] == pytest.approx(0.6667)


def test_a_locked_month_sheet_never_changes(desk, clock, tmp_path):
    _judge(desk)
    appeal = _appeal(desk, C2, "3072", clock())
    desk.lock_month(NOV, "li")
    before = _report(desk, tmp_path / "before.xlsx")
    assert _table(before["汇总"])["3072"]["申诉改判"] == 0

    # After the lock: rows the desk would refuse, written straight into the database …
    late = clock.later()
    row = {"call_id": C2, "hit_id": "NS-009@4:24-28", "verdict": False, "reason": "rule", "by_user": "wang",
           "at": late, "machine_status": "confirmed", "rule_id": "NS-009", "utterance": 4, "text": "x"}  # fmt: skip
    with desk.store.transaction() as conn:
        conn.execute(insert(verdicts).values(**row))
        conn.execute(insert(manual_findings).values(call_id=B1, rule_id="NS-007", comment="晚了", by_user="wang",
                                                    at=late))  # fmt: skip
        conn.execute(update(appeals).where(appeals.c.id == appeal).values(state="accepted", decided_at=late))
        conn.execute(update(agents).where(agents.c.agent_id == "3072").values(agent_name="赵敏敏"))
    _appeal(desk, C1, "3072", late)
    # … and October, not locked, changes under a verdict given after November's lock
    old, new = desk.judge_hit(OCT_C2, "NS-003@2:0-4", False, "wang", reason="asr")
    assert new > old

    after = _report(desk, tmp_path / "after.xlsx")
    assert after == before

    with desk.store.transaction() as conn:  # unlocked, the same rows do show: the test is not vacuous
        conn.execute(delete(month_locks).where(month_locks.c.month == NOV))
    unlocked = _table(_report(desk, tmp_path / "unlocked.xlsx")["汇总"])["3072"]
    assert (unlocked["误命中"], unlocked["申诉"], unlocked["申诉改判"]) == (1, 2, 1)
    assert unlocked["姓名"] == "赵敏敏" and unlocked["上月平均分"] != _table(before["汇总"])["3072"]["上月平均分"]


def test_adjustments_for_an_earlier_month(desk, clock, tmp_path):
    desk.lock_month(OCT, "li")
    hostile = '=HYPERLINK("http://x","y")'
    with desk.store.transaction() as conn:
        conn.execute(
            insert(adjustments).values(
                call_id=OCT_C2, agent_id="3072", call_month=OCT, month=NOV, points=5.0, cause="appeal",
                appeal_id=7, comment=hostile, by_user="li", at=clock(),
            )
        )  # fmt: skip
    sheets = _report(desk, tmp_path / "m.xlsx")
    (header, adjusted) = sheets["跨月调整"]
    row = dict(zip(header, adjusted, strict=True))
    assert (row["通话编号"], row["工号"], row["姓名"], row["通话所属月份"]) == (OCT_C2, "3072", "赵敏", OCT)
    assert (row["调整分"], row["原因"], row["申诉编号"], row["处理人"]) == (5, "申诉改判", 7, "li")
    assert row["说明"] == "'" + hostile  # never a formula
    summary = _table(sheets["汇总"])
    zhao = summary["3072"]
    assert zhao["跨月调整分(往月通话)"] == 5 and summary["1024"]["跨月调整分(往月通话)"] == 0
    assert zhao["调整后平均分(平均分+跨月调整分÷通话数)"] == pytest.approx(zhao["平均分"] + 5 / 2, abs=0.01)
    assert "本月通话没有复核判定" in sheets["规则准确率"][1][0]  # an empty month says so

    october = _report(desk, tmp_path / "oct.xlsx", OCT)
    assert "本月没有跨月调整" in october["跨月调整"][1][0]
    _report(desk, tmp_path / "m.csv")
    flat = pd.read_csv(tmp_path / "m_跨月调整.csv", encoding="utf-8-sig", dtype={"工号": str})
    assert list(flat["工号"]) == ["3072"] and flat["说明"][0] == "'" + hostile
    summary_csv = pd.read_csv(tmp_path / "m.csv", encoding="utf-8-sig", dtype={"工号": str}).set_index("工号")
    assert summary_csv.loc["3072", "跨月调整分(往月通话)"] == 5
