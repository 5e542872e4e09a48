"""Violation examples for trainers: each hit with the turns around it, the rewrite, and a clip.

Pure functions over stored hits (qc.store.load_hits); writing is in qc.reports.examples_write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qc.reports.labels import CATEGORY_NAMES, EXAMPLE_HEADERS, SPEAKER_NAMES
from qc.text.mask import mask_text


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
    # The service manual's line the rule comes from (the hit's stored ``source``, else the rule's).
    source: str | None = None


def build_examples(
    rows: list[dict[str, Any]],
    around: int = 2,
    mask: bool = True,
    rule_sources: Mapping[str, str] | None = None,
) -> list[Example]:
    """One example per stored hit, with ``around`` turns before and after it; ``rule_sources``
    (rule id → the manual's line, from the lexicon) for hits stored without one."""
    sources = rule_sources or {}
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
                source=row.get("source") or sources.get(row["rule_id"]),
            )
        )
    return out


def example_record(e: Example) -> dict[str, Any]:
    """Flat form for CSV, Excel and JSON Lines, keyed by the Chinese headers (labels.EXAMPLE_HEADERS)."""
    values = {
        "call_id": e.call_id,
        "agent_id": e.agent_id,
        "agent_name": e.agent_name,
        "started_at": e.started_at,
        "rule_id": e.rule_id,
        "category": e.category,
        "rule_name": e.rule_name,
        "text": e.text,
        "detail": e.detail,
        "suggestion": e.suggestion,
        "source": e.source,
        "deduction": e.deduction,
        "start": e.start,
        "end": e.end,
        "turns": "\n".join(f"{'▶' if t.is_hit else ' '}{t.speaker}：{t.text}" for t in e.turns),
    }
    return {EXAMPLE_HEADERS[key]: value for key, value in values.items()}
