"""What a lexicon edit would change on the stored calls of a month, without writing anything
(``qc lexicon diff``): hits gained and lost per rule with examples, and each agent's score before
and after.

"Before" is what the database holds (final scores, after review); "after" is the current (edited)
lexicons' result with the same verdicts, missed findings and appeals applied — what `qc rescore`
would store. A QA lead reads it before committing an edit: a new phrase that catches 400 calls,
300 of them one agent's greeting, is a mistake found before anyone's score moved.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from qc.errors import Failure, ReportError
from qc.inspection.lexicon import Lexicon
from qc.reports.tables import HEADER_FORMAT, open_workbook, write_csv_files, write_rows
from qc.review.appeals import GIVES_POINTS_BACK
from qc.review.final import final_score
from qc.review.rescore import Progress, Replayed, replay
from qc.store import Store
from qc.store.tables import appeals, manual_findings, verdicts

EXAMPLES_PER_RULE = 5
DIFF_FORMATS = (".xlsx", ".csv")

RULE_HEADERS = {"rule_id": "规则", "name": "规则名称", "gained": "新增命中", "lost": "消失命中", "calls": "涉及通话"}
AGENT_HEADERS = {
    "agent_id": "工号", "calls": "通话数", "before": "原平均分", "after": "新平均分", "change": "变化",
    "moved": "分数变动通话数",
}  # fmt: skip
EXAMPLE_HEADERS = {
    "rule_id": "规则", "change": "变化", "call_id": "通话编号", "agent_id": "工号", "utterance": "句序",
    "text": "命中文字", "context": "上下文",
}  # fmt: skip
GAINED, LOST = "新增", "消失"


@dataclass(slots=True)
class LexiconDiff:
    """Per rule and per agent, what the edit changes; built call by call (memory: counters, and
    at most EXAMPLES_PER_RULE examples per rule and direction)."""

    month: str
    ruleset_after: str
    calls: int = 0
    gained: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    rule_calls: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    names: dict[str, str] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    agents: dict[str, list[float]] = field(default_factory=dict)  # agent → [calls, before sum, after sum, moved]
    failures: list[Failure] = field(default_factory=list)

    def rules_frame(self) -> pd.DataFrame:
        ids = sorted(set(self.gained) | set(self.lost), key=lambda r: (-(self.gained[r] + self.lost[r]), r))
        return pd.DataFrame(
            [
                {"rule_id": r, "name": self.names.get(r, ""), "gained": self.gained[r], "lost": self.lost[r],
                 "calls": len(self.rule_calls[r])}
                for r in ids
            ],
            columns=list(RULE_HEADERS),
        )  # fmt: skip

    def agents_frame(self) -> pd.DataFrame:
        rows = []
        for agent_id, (n, before, after, moved) in sorted(self.agents.items()):
            rows.append(
                {"agent_id": agent_id, "calls": int(n), "before": round(before / n, 2), "after": round(after / n, 2),
                 "change": round((after - before) / n, 2), "moved": int(moved)}
            )  # fmt: skip
        return pd.DataFrame(rows, columns=list(AGENT_HEADERS))

    def examples_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.examples, columns=list(EXAMPLE_HEADERS))


def lexicon_diff(
    store: Store, lexicon: Lexicon, month: str, agent: str | None = None, jobs: int | None = None
) -> LexiconDiff:
    """Replay ``lexicon`` on the stored calls of ``month`` (locked months included: nothing is written)."""
    diff = LexiconDiff(month, lexicon.version)
    progress = Progress()
    for part in replay(store, lexicon, month, agent, jobs, force=True, progress=progress, include_locked=True):
        review = _review_state(store, [r.stored.call_id for r in part.replayed if r.stored.reviewed])
        for r in part.replayed:
            _add(diff, r, review.get(r.stored.call_id), lexicon)
    diff.failures = progress.failures
    return diff


def _review_state(store: Store, ids: list[str]) -> dict[str, tuple[dict[str, Any], list[Any], float]]:
    """Verdicts by hit_id, manual findings and points given back, per reviewed call."""
    if not ids:
        return {}
    out: dict[str, tuple[dict[str, Any], list[Any], float]] = {i: ({}, [], 0.0) for i in ids}
    with store.engine.connect() as conn:
        for v in conn.execute(select(verdicts).where(verdicts.c.call_id.in_(ids))).mappings():
            out[v["call_id"]][0][v["hit_id"]] = v
        for m in conn.execute(select(manual_findings).where(manual_findings.c.call_id.in_(ids))).mappings():
            out[m["call_id"]][1].append(m)
        given = conn.execute(
            select(appeals.c.call_id, func.sum(appeals.c.points))
            .where(appeals.c.call_id.in_(ids), GIVES_POINTS_BACK)
            .group_by(appeals.c.call_id)
        )
        for call_id, points in given:
            judged, manual, _ = out[call_id]
            out[call_id] = (judged, manual, float(points or 0.0))
    return out


def _add(
    diff: LexiconDiff, r: Replayed, review: tuple[dict[str, Any], list[Any], float] | None, lexicon: Lexicon
) -> None:
    call_id, agent_id = r.stored.call_id, r.stored.agent_id
    diff.calls += 1
    before = {(h[0], h[1]): h for h in r.stored.hits}  # (hit_id, rule_id) → stored hit
    after = {(h.hit_id, h.rule_id): h for h in r.result.hits}
    for key in after.keys() - before.keys():
        h = after[key]
        diff.gained[h.rule_id] += 1
        diff.names.setdefault(h.rule_id, h.name)
        diff.rule_calls[h.rule_id].add(call_id)
        _example(diff, h.rule_id, GAINED, call_id, agent_id, h.utterance, h.text, h.context)
    for key in before.keys() - after.keys():
        hit_id, rule_id, *_rest, text = before[key]
        diff.lost[rule_id] += 1
        diff.rule_calls[rule_id].add(call_id)
        utterance = hit_id.split("@", 1)[1].split(":", 1)[0] if "@" in hit_id else ""
        _example(diff, rule_id, LOST, call_id, agent_id, int(utterance) if utterance.isdigit() else None, text, "")
    score = r.result.score
    if review is not None:
        judged, manual, given = review
        rows = [
            {"hit_id": h.hit_id, "rule_id": h.rule_id, "name": h.name, "category": h.category,
             "utterance": h.utterance, "status": h.status}
            for h in r.result.hits
        ]  # fmt: skip
        score = final_score(rows, judged, manual, lexicon, given).score
    n, old_sum, new_sum, moved = diff.agents.get(agent_id, [0, 0.0, 0.0, 0])
    diff.agents[agent_id] = [n + 1, old_sum + r.stored.score, new_sum + score, moved + (score != r.stored.score)]


def _example(
    diff: LexiconDiff, rule_id: str, change: str, call_id: str, agent_id: str, utterance: int | None, text: str,
    context: str,
) -> None:  # fmt: skip
    count = diff.gained[rule_id] if change == GAINED else diff.lost[rule_id]
    if count <= EXAMPLES_PER_RULE:
        diff.examples.append(
            {"rule_id": rule_id, "change": change, "call_id": call_id, "agent_id": agent_id, "utterance": utterance,
             "text": text, "context": context}
        )  # fmt: skip


def check_diff_path(path: Path) -> str:
    """The output's format (.xlsx or .csv), checked before a month is replayed, not after."""
    suffix = Path(path).suffix.lower()
    if suffix not in DIFF_FORMATS:
        raise ReportError(f"{path}: the diff is written as {' or '.join(DIFF_FORMATS)}, not {suffix or 'no suffix'}")
    return suffix


def write_diff(diff: LexiconDiff, path: Path) -> Path:
    """The diff as a workbook (规则变化, 坐席分数变化, 示例) or as three CSV files (FILE.csv for the
    rules, FILE-agents.csv, FILE-examples.csv); cells are safe against formula injection."""
    path = Path(path)
    suffix = check_diff_path(path)
    tables = (
        (diff.rules_frame(), "规则变化", RULE_HEADERS, path),
        (diff.agents_frame(), "坐席分数变化", AGENT_HEADERS, path.with_name(f"{path.stem}-agents{path.suffix}")),
        (diff.examples_frame(), "示例", EXAMPLE_HEADERS, path.with_name(f"{path.stem}-examples{path.suffix}")),
    )
    if suffix == ".csv":
        write_csv_files([(frame, where, headers) for frame, _name, headers, where in tables])
        return path
    with open_workbook(path) as workbook:
        head = workbook.add_format(HEADER_FORMAT)
        for frame, name, headers, _where in tables:
            sheet = workbook.add_worksheet(name)
            sheet.write_row(0, 0, [headers.get(c, c) for c in frame.columns], head)
            sheet.freeze_panes(1, 0)
            sheet.set_column(0, len(frame.columns) - 1, 14)
            if frame.empty:
                sheet.write_string(1, 0, f"{diff.month}：{diff.calls} 通无变化")
            write_rows(sheet, frame)
    return path
