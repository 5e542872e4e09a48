"""The 质检分析报告 as one self-contained HTML page: CSS inline, every chart a base64 PNG, nothing fetched
from anywhere, A4 print rules — a manager opens it offline and prints it to PDF from the browser.

No PDF is written here: a good PDF of tables and Chinese text needs a layout engine, and matplotlib's
PdfPages would give chart pages without the tables. The page's print styles make the browser's
"print to PDF" the PDF (README: 质检分析报告).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd

from qc.errors import ReportError
from qc.files import write_text_atomic
from qc.reports import charts
from qc.reports.analysis import BUCKET, LOW_LOGPROB, AnalysisReport
from qc.reports.page import document, esc, facts, table

TITLE = "质检分析报告"
SECTIONS = {
    "overview": "一、概况",
    "scores": "二、得分分布与趋势",
    "violations": "三、违规类别与规则",
    "agents": "四、进步与退步的坐席",
    "call-kinds": "五、处理欠佳的来电类别",
    "review": "六、复核覆盖与规则准确率",
    "recognition": "七、识别质量",
    "definitions": "附：口径说明",
}


def write_analysis(report: AnalysisReport, path: Path) -> Path:
    """Write the page to ``path`` (.html); a .pdf is refused with how to get one."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raise ReportError(
            f"{path}: the analysis report is written as .html; open it in a browser and print to PDF (A4 is set)"
        )
    if suffix != ".html":
        raise ReportError(f"{path}: the analysis report is written as .html")
    write_text_atomic(path, analysis_html(report))
    return path


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return (
        f"<figure><img alt='{esc(alt)}' src='data:image/png;base64,{data}'><figcaption>{esc(alt)}</figcaption></figure>"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:+.{digits}f}"


def _section(key: str) -> str:
    return f"<h2 id='{key}'>{SECTIONS[key]}</h2>"


def analysis_html(r: AnalysisReport) -> str:
    body = [
        f"<h1>{TITLE} {esc(r.month)}</h1>",
        f"<div class='muted'>合格线 {r.pass_mark:g} 分 · 由 qc 从质检数据库生成</div>",
    ]
    body += _overview(r) + _scores(r) + _violations(r) + _agents(r) + _call_kinds(r) + _review(r) + _recognition(r)
    body += _definitions(r)
    return document(f"{TITLE} {r.month}", body)


def _overview(r: AnalysisReport) -> list[str]:
    now = r.trend.iloc[-1]
    before = r.trend.iloc[-2] if len(r.trend) > 1 else None
    change = "—" if before is None or pd.isna(before["average"]) else _signed(now["average"] - before["average"])
    return [
        _section("overview"),
        facts(
            [
                ("抽检通话", f"{int(now['calls'])}"),
                ("平均分", _num(now["average"])),
                ("环比", change),
                ("合格率", _pct(now["pass_rate"])),
                ("否决通话", f"{int(now['vetoes'])}"),
                ("每通违规", _num(now["per_call"], 2)),
            ]
        ),
    ]


def _scores(r: AnalysisReport) -> list[str]:
    hist = r.data.histogram.sort_values("bucket")
    lows = [min(int(b), 100 // BUCKET) * BUCKET for b in hist["bucket"]]
    counts = [int(c) for c in hist["calls"]]
    t = r.trend
    rows = [
        (m, int(c), _num(a), _pct(p), int(v), _num(pc, 2))
        for m, c, a, p, v, pc in t[["month", "calls", "average", "pass_rate", "vetoes", "per_call"]].itertuples(
            index=False
        )
    ]
    return [
        _section("scores"),
        _img(
            charts.histogram(lows, counts, BUCKET, r.pass_mark, f"{r.month} 得分分布"),
            f"{r.month} 得分分布（每 {BUCKET} 分一档）",
        ),
        _img(
            charts.trend(
                list(t["month"]),
                list(t["average"]),
                list(t["pass_rate"].fillna(float("nan"))),
                "近几个月平均分与合格率",
            ),
            "近几个月平均分与合格率",
        ),
        table(["月份", "抽检通话数", "平均分", "合格率", "否决通话数", "每通违规次数"], rows),
    ]


def _violations(r: AnalysisReport) -> list[str]:
    out = [_section("violations")]
    rates = r.category_rates
    if rates.empty:
        return out + ["<p class='muted'>近几个月没有已确认的违规。</p>"]
    series = {str(m): [float(v) if pd.notna(v) else 0.0 for v in rates[m]] for m in rates.columns}
    out.append(
        _img(
            charts.grouped_bars(list(rates.index), series, "各类违规每百通次数（按月）", "违规类别", "每百通违规次数"),
            "各类违规每百通次数（按月）",
        )
    )
    out.append(
        table(
            ["类别"] + [str(m) for m in rates.columns],
            [[name] + [_num(v, 1) for v in row] for name, row in zip(rates.index, rates.to_numpy(), strict=True)],
        )
    )
    top = r.top_rules
    if len(top):
        labels = [f"{a} {b}" for a, b in zip(top["rule_id"], top["name"], strict=True)]
        out.append(
            _img(
                charts.horizontal_bars(
                    labels, list(top["n"]), f"{r.month} 违反最多的规则（与上月比较）", "违规次数", "规则",
                    compare=list(top["previous"]), compare_label="上月", value_label="本月",
                ),
                "违反最多的规则（与上月比较）",
            )
        )  # fmt: skip
        rows = [
            (a, b, c, int(n), int(g), int(p), _signed(float(d), 0))
            for a, b, c, n, g, p, d in top.itertuples(index=False)
        ]
        out.append(table(["规则编号", "规则", "类别", "本月次数", "涉及坐席数", "上月次数", "变化"], rows))
    return out


def _agents(r: AnalysisReport) -> list[str]:
    compared, up, down = r.moved
    out = [
        _section("agents"),
        f"<p>两个月都有足够通话的坐席 {compared} 人：进步 {up} 人，退步 {down} 人"
        f"（平均分变化至少 {r.step:g} 分）。</p>",
    ]
    both = pd.concat([r.improving, r.slipping])
    if len(both):
        labels = [f"{a} {n or ''}".strip() for a, n in zip(both["agent_id"], both["name"], strict=True)]
        out.append(
            _img(
                charts.horizontal_bars(
                    labels, list(both["change"]), "进步与退步最多的坐席", "平均分变化（分）", "坐席"
                ),
                "进步与退步最多的坐席（与上月相比）",
            )
        )
    for title, frame, css in (("进步最多", r.improving, "up"), ("退步最多", r.slipping, "down")):
        out.append(f"<h3>{title}</h3>")
        if frame.empty:
            out.append("<p class='muted'>无。</p>")
            continue
        rows = [
            f"<td>{esc(str(a))}</td><td>{esc(str(n or ''))}</td><td class='n'>{int(c)}</td><td class='n'>{_num(p)}</td>"
            f"<td class='n'>{_num(v)}</td><td class='n {css}'>{_signed(d)}</td>"
            for a, n, c, v, p, d in frame[["agent_id", "name", "calls", "average", "previous", "change"]].itertuples(
                index=False
            )
        ]
        out.append(
            table(["工号", "姓名", "本月通话数", "上月平均分", "本月平均分", "变化"], [[row] for row in rows], raw=True)
        )
    return out


def _call_kinds(r: AnalysisReport) -> list[str]:
    out = [_section("call-kinds")]
    kinds = r.call_kinds
    if kinds.empty:
        return out + ["<p class='muted'>本月的通话没有来电类别（lexicons/categories.yaml 未配置或未识别）。</p>"]
    overall = float(r.trend.iloc[-1]["average"])
    out.append(
        _img(
            charts.horizontal_bars(
                list(kinds["name"]), list(kinds["average"]), f"{r.month} 各类来电的平均分", "平均分", "来电类别",
                reference=overall, reference_label=f"全部通话 {overall:.1f}",
            ),
            "各类来电的平均分（低于全部通话平均的处理欠佳）",
        )
    )  # fmt: skip
    rows = [
        (n, int(c), _pct(s), _num(a), _signed(g), _pct(p), int(v), _num(h, 2))
        for n, c, s, a, g, p, v, h in kinds.itertuples(index=False)
    ]
    out.append(
        table(["来电类别", "通话数", "占比", "平均分", "与全部平均之差", "合格率", "否决通话数", "每通违规次数"], rows)
    )
    return out


def _review(r: AnalysisReport) -> list[str]:
    c = r.data.coverage
    calls = int(r.trend.iloc[-1]["calls"])
    out = [
        _section("review"),
        facts(
            [
                ("复核通话", f"{c.calls_reviewed}"),
                ("复核覆盖率", _pct(c.calls_reviewed / calls if calls else None)),
                ("复核的命中", f"{c.verdicts}"),
                ("误命中", f"{c.false_hits}"),
                ("漏检补录", f"{c.manual_findings}"),
                ("申诉 / 改判", f"{c.appeals} / {c.overturned}"),
            ]
        ),
    ]
    if not r.data.precision:
        return out + ["<p class='muted'>本月还没有复核结论，规则准确率无从计算。</p>"]
    rows = [
        (p.rule_id, p.reviewed, p.confirmed, p.false, _pct(p.precision), f"{p.low:.0%}–{p.high:.0%}",
         "、".join(f"{k} {v}" for k, v in sorted(p.reasons.items())))
        for p in r.data.precision
    ]  # fmt: skip
    out.append("<h3>规则准确率（准确率最低的在前）</h3>")
    out.append(table(["规则编号", "复核命中数", "判为真", "判为误", "准确率", "95% 区间", "误判原因"], rows))
    return out


def _recognition(r: AnalysisReport) -> list[str]:
    g = r.data.recognition
    calls = int(r.trend.iloc[-1]["calls"])
    low = _pct(g.low_turns / g.turns if g.turns else None)
    return [
        _section("recognition"),
        facts(
            [
                ("疑似命中占比", _pct(g.suspected / g.hits if g.hits else None)),
                ("疑似命中", f"{g.suspected}"),
                ("被驳回的命中", f"{g.rejected}"),
                ("录音识别的通话", f"{g.recognised_calls}（{_pct(g.recognised_calls / calls if calls else None)}）"),
                ("低置信度语句占比", low),
                ("角色存疑 / 录音截断", f"{g.roles_unsure} / {g.truncated}"),
            ]
        ),
        "<p class='muted'>"
        + (
            f"识别语句 {g.turns} 句，其中低置信度 {g.low_turns} 句。"
            if g.turns is not None
            else "此数据库不支持统计语句置信度。"
        )
        + "</p>",
    ]


def _definitions(r: AnalysisReport) -> list[str]:
    items = [
        f"合格：得分 ≥ {r.pass_mark:g} 且没有否决项（致命项）。合格率 = 合格通话数 ÷ 抽检通话数。",
        "平均分：抽检通话当前得分（复核、申诉之后）的平均。",
        "违规：状态为“已确认”的命中；疑似命中复核确认后才计入，被驳回的不计入。"
        "每百通违规次数 = 违规次数 ÷ 抽检通话数 × 100。",
        f"进步 / 退步：本月与上月都至少有 {r.min_calls} 通抽检通话的坐席，平均分变化至少 ±{r.step:g} 分。",
        "来电类别：按 lexicons/categories.yaml（查件、投诉……）识别；一通电话可属多个类别。",
        "复核覆盖率：有复核结论或漏检补录的通话 ÷ 抽检通话数。规则准确率 = 判为真 ÷ 复核命中数，附 Wilson 95% 区间。",
        f"低置信度语句：语音识别给出的平均对数概率低于 {LOW_LOGPROB:g}（faster-whisper 判定解码失败的阈值）的语句。"
        "疑似命中：只由学习模型或按读音匹配发现的命中，未复核前不扣分。",
        "打印：在浏览器中打开本页，打印 → 另存为 PDF（已设置 A4）。",
    ]
    return [_section("definitions"), "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"]
