"""Monthly sheets, trainer examples and listening samples from a real store, through the CLI.

The writers themselves are tested directly in test_formula_injection, test_sheet_names and
test_output_errors; masking in tests/text/test_mask.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.reports.monthly import build_monthly
from qc.reports.sampling import sample_calls
from qc.store import Store, load_month
from tests.conftest import SAMPLES
from tests.reports.frames import agent_table, summary_table


@pytest.fixture()
def db(tmp_path) -> str:
    """The sample calls in November, and a copy of them a month earlier with one call better."""
    url = f"sqlite:///{tmp_path / 'qc.db'}"
    october = tmp_path / "october"
    october.mkdir()
    for src in SAMPLES.glob("*.json"):
        data = json.loads(src.read_text(encoding="utf-8"))
        data["call_id"] = "OCT-" + data["call_id"]
        data["started_at"] = data["started_at"].replace("2026-11", "2026-10")
        if data["agent_id"] == "3072":
            data["utterances"] = [u for u in data["utterances"] if "态度" not in u["text"]]
        (october / src.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    # a customer reads out a phone number and an address, and the agent repeats them
    data = json.loads((SAMPLES / "20261106-1130-3072-0001.json").read_text(encoding="utf-8"))
    data["call_id"] = "PII-1"
    data["utterances"][2]["text"] = "你找领导去，电话幺三八一二三四五六七八，上海市嘉定区曹安路3818号"
    (tmp_path / "pii.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for path in (SAMPLES, october, tmp_path / "pii.json"):
        result = CliRunner().invoke(cli, ["score", str(path), "--db", url])
        assert result.exit_code == 0, result.stderr
    return url


def test_monthly_xlsx(db, tmp_path):
    out = tmp_path / "2026-11.xlsx"
    result = CliRunner().invoke(cli, ["report", "monthly", "--month", "2026-11", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:2] == ["汇总", "图表"] and "3072 赵敏" in wb.sheetnames
    top, headers, body = summary_table(wb["汇总"])
    assert headers[:6] == ["工号", "姓名", "班组", "抽检通话数", "平均分", "排名"] and "环比(分)" in headers
    assert wb["汇总"].print_title_rows == f"${top}:${top}"
    rows = {r[0]: dict(zip(headers, r, strict=True)) for r in body}
    assert rows["3072"]["抽检通话数"] == 3 and rows["3072"]["致命项次数"] == 2
    assert isinstance(rows["3072"]["平均分"], (int, float)) and rows["1024"]["排名"] == 1
    assert rows["3072"]["环比(分)"] < 0  # October's copy of the vetoed call was better
    _, detail_headers, body = agent_table(wb["3072 赵敏"])
    assert detail_headers[9].startswith("扣分明细")
    assert len(body) == 3  # one row per call
    vetoed = next(r for r in body if r[0] == "20261106-1130-3072-0001")
    assert vetoed[3] == "是" and all(rid in vetoed[9] for rid in ("BAN-002", "BAN-003", "BAN-004"))
    assert "「你找领导去」" in vetoed[9] and isinstance(vetoed[2], (int, float))
    pii = next(r for r in body if r[0] == "PII-1")
    assert "幺三八一二三四五六七八" not in pii[9]


def test_monthly_aggregates_sum_to_per_call_totals(db):
    store = Store(db)
    calls, hits = load_month(store, "2026-11")
    report = build_monthly("2026-11", calls, hits, None, 60.0)
    assert report.summary["calls"].sum() == len(calls)
    confirmed = hits[hits["status"] == "confirmed"]  # suspected hits are listed, not counted
    counted = sum(int(report.summary[f"n_{c}"].sum()) for c in hits["category"].unique())
    assert counted == len(confirmed)
    assert report.category_counts["次数"].sum() == len(confirmed)
    assert report.score_bins["通话数"].sum() == len(calls)
    for agent, detail in report.details.items():
        mine = calls[calls["agent_id"] == agent]
        assert set(detail["call_id"]) == set(mine["call_id"])
        lost = detail.drop_duplicates("call_id").set_index("call_id")["lost"]
        for _, call in mine.iterrows():
            if not call["veto"]:
                assert lost[call["call_id"]] == pytest.approx(100 - call["score"])


def test_monthly_csv_has_bom_and_details(db, tmp_path):
    out = tmp_path / "m.csv"
    result = CliRunner().invoke(
        cli, ["report", "monthly", "--month", "2026-11", "--out", str(out), "--db", db, "--agent", "3072"]
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    summary = pd.read_csv(out, encoding="utf-8-sig", dtype={"工号": str})
    assert list(summary["工号"]) == ["3072"]
    detail = pd.read_csv(tmp_path / "m_明细.csv", encoding="utf-8-sig")
    assert "原话" in detail.columns and len(detail) > 5


def test_empty_month_and_unwritable_output_leave_no_file(db, tmp_path):
    empty = CliRunner().invoke(
        cli, ["report", "monthly", "--month", "2025-01", "--out", str(tmp_path / "x.xlsx"), "--db", db]
    )
    assert empty.exit_code == 1 and "no scored calls for 2025-01" in empty.stderr
    assert not (tmp_path / "x.xlsx").exists()
    bad = CliRunner().invoke(
        cli, ["report", "monthly", "--month", "2026-11", "--out", str(tmp_path / "missing" / "x.xlsx"), "--db", db]
    )
    assert bad.exit_code == 1 and "does not exist" in bad.stderr
    assert list(tmp_path.glob("**/.x*")) == []


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_workbook_converts_with_libreoffice(db, tmp_path):
    out = tmp_path / "m.xlsx"
    CliRunner().invoke(cli, ["report", "monthly", "--month", "2026-11", "--out", str(out), "--db", db])
    # 44,34,76: comma, double quote, UTF-8 — LibreOffice opens the workbook and exports the first sheet
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    rows = (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("服务质量综合考评表")
    assert any(r.startswith("工号,姓名,班组,抽检通话数,平均分") for r in rows)
    zhao = next(r for r in rows if r.startswith("3072,"))
    assert zhao.split(",")[1] == "赵敏" and float(zhao.split(",")[4]) < 60


@pytest.mark.parametrize("fmt", [".html", ".xlsx", ".csv", ".jsonl"])
def test_examples_formats_and_masking(db, tmp_path, fmt):
    out = tmp_path / f"ex{fmt}"
    result = CliRunner().invoke(
        cli, ["examples", "--rule", "BAN-002", "--month", "2026-11", "--out", str(out), "--db", db]
    )
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 0
    if fmt == ".jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert {r["规则编号"] for r in rows} == {"BAN-002"}
        pii = next(r for r in rows if r["通话编号"] == "PII-1")
        assert "▶坐席" in pii["前后对话"] and "客户：" in pii["前后对话"]
        assert "幺三八一二三四五六七八" not in pii["前后对话"] and "曹安路" not in pii["前后对话"]
    if fmt == ".html":
        page = out.read_text(encoding="utf-8")
        assert page.startswith("<!doctype html>") and "<mark>你找领导去</mark>" in page


def test_examples_no_mask_flag(db, tmp_path):
    out = tmp_path / "ex.jsonl"
    CliRunner().invoke(cli, ["examples", "--rule", "BAN-002", "--out", str(out), "--db", db, "--no-mask"])
    assert "幺三八一二三四五六七八" in out.read_text(encoding="utf-8")


def test_sample_puts_vetoed_and_low_scores_first_and_is_reproducible(db, tmp_path):
    calls, _ = load_month(Store(db), "2026-11")
    first = sample_calls(calls, per_agent=2, random_share=0.5, seed=3)
    again = sample_calls(calls, per_agent=2, random_share=0.5, seed=3)
    assert first["call_id"].tolist() == again["call_id"].tolist()
    zhao = first[first["agent_id"] == "3072"]
    assert zhao.iloc[0]["reason"] == "致命项" and zhao.iloc[0]["veto"]
    assert (first.groupby("agent_id").size() <= 2).all()
    out = tmp_path / "listen.xlsx"
    result = CliRunner().invoke(
        cli, ["sample", "--month", "2026-11", "--per-agent", "2", "--out", str(out), "--db", db]
    )
    assert result.exit_code == 0 and openpyxl.load_workbook(out)["复听清单"]["H1"].value == "抽样原因"


@pytest.mark.issue(9)
def test_a_mono_call_with_unsure_roles_is_warned_and_listened_to_first(inspector):
    """A guess about who spoke is a reason for a person to listen, ahead of low scores."""
    import pandas as pd

    from qc.schema import Transcript, Utterance

    roles = {"method": "opening script + models/roles.skops + voices + turn-taking", "confidence": 0.7}
    unsure = Transcript("m-1", "1024", (Utterance("agent", "您好，中通速递"),), roles={**roles, "review": True})
    warnings = inspector.score(unsure).warnings
    assert any(w.startswith("roles unsure") for w in warnings)
    assert not any(w.startswith("roles unsure") for w in inspector.score(replace(unsure, roles=roles)).warnings)
    calls = pd.DataFrame(
        {
            "call_id": ["low", "mono", "fine"],
            "agent_id": ["1024"] * 3,
            "score": [40.0, 95.0, 90.0],
            "veto": [False, False, False],
            "warnings": [[], list(warnings), []],
        }
    )
    picked = sample_calls(calls, per_agent=2, random_share=0.0)
    assert picked["call_id"].tolist() == ["mono", "low"]
    assert picked["reason"].tolist() == ["角色存疑", "低分"]


def test_two_writers_at_once_lose_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'qc.db'}"
    folders = []
    for k in range(2):
        folder = tmp_path / f"batch{k}"
        folder.mkdir()
        for i in range(60):
            src = sorted(SAMPLES.glob("*.json"))[i % 8]
            data = json.loads(src.read_text(encoding="utf-8"))
            data["call_id"] = f"W{k}-{i}"
            (folder / f"{i}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        folders.append(folder)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "qc", "score", str(f), "--db", url, "--jobs", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for f in folders
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read().decode() if p.stderr else ""
    assert Store(url).count_calls() == 120
