"""Violation examples for trainers: each hit with the turns around it, the rewrite, and a clip.

Pure functions over stored hits (qc.store.db.load_hits); writing is in qc.reports.examples_write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qc.text.mask import mask_text
from qc.reports.monthly import CATEGORY_NAMES

SPEAKER_NAMES = {"agent": "坐席", "customer": "客户", "unknown": "未知"}


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str
    text: str
    start: float | None
    is_hit: bool


@dataclass(frozen=True, slots=True)
class Example:
    call_id: str
    agent_id: str
    agent_name: str | None
    started_at: str | None
    rule_id: str
    category: str
    rule_name: str
    text: str
    detail: str | None
    suggestion: str | None
    deduction: float
    start: float | None
    end: float | None
    turns: tuple[Turn, ...]
    audio: str | None


def build_examples(rows: list[dict[str, Any]], around: int = 2, mask: bool = True) -> list[Example]:
    """One example per stored hit, with ``around`` turns before and after it."""
    clean = mask_text if mask else (lambda s: s)
    out = []
    for row in rows:
        utts = (row.get("transcript") or {}).get("utterances") or []
        index = row.get("utterance")
        turns: list[Turn] = []
        if index is not None and 0 <= index < len(utts):
            for i in range(max(0, index - around), min(len(utts), index + around + 1)):
                u = utts[i]
                turns.append(
                    Turn(
                        SPEAKER_NAMES.get(u.get("speaker"), u.get("speaker", "")),
                        clean(u.get("text", "")) or "",
                        u.get("start"),
                        i == index,
                    )
                )
        out.append(
            Example(
                call_id=row["call_id"],
                agent_id=row["agent_id"],
                agent_name=row.get("agent_name"),
                started_at=row.get("started_at"),
                rule_id=row["rule_id"],
                category=CATEGORY_NAMES.get(row["category"], row["category"]),
                rule_name=row["name"],
                text=clean(row["text"]) or "",
                detail=row.get("detail"),
                suggestion=row.get("suggestion"),
                deduction=float(row["deduction"]),
                start=row.get("start"),
                end=row.get("end"),
                turns=tuple(turns),
                audio=row.get("audio"),
            )
        )
    return out


def example_record(e: Example) -> dict[str, Any]:
    """Flat form for CSV, Excel and JSON Lines (Chinese keys for the spreadsheet columns)."""
    return {
        "通话编号": e.call_id,
        "工号": e.agent_id,
        "姓名": e.agent_name,
        "通话时间": e.started_at,
        "规则编号": e.rule_id,
        "类别": e.category,
        "规则": e.rule_name,
        "原话": e.text,
        "说明": e.detail,
        "建议说法": e.suggestion,
        "扣分": e.deduction,
        "开始(秒)": e.start,
        "结束(秒)": e.end,
        "前后对话": "\n".join(f"{'▶' if t.is_hit else ' '}{t.speaker}：{t.text}" for t in e.turns),
    }
