"""What the call page shows, built from the review desk's ``show`` object and the stored transcript:
turns by speaker and time with each hit's quoted words marked, customers' data masked where the role
asks for it, and the labels QA staff read.

A hit's ``hit_id`` names the characters it quotes (``BAN-002@2:7-12``: utterance 2, characters 7–12 of
the original text); masking replaces characters one for one, so those offsets still line up.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from qc.text.mask import mask_text

SPEAKERS = {"agent": "坐席", "customer": "客户", "unknown": "未知"}
STATUSES = {"confirmed": "确认", "suspected": "待复核", "rejected": "已驳回"}
CATEGORY_NAMES = {
    "banned": "服务禁语", "nonstandard": "不规范用语", "filler": "口头禅", "negative": "负面表达",
    "opening": "开场白", "closing": "结束语", "silence": "静默", "interruption": "抢话", "speech_rate": "语速",
    "process": "服务流程", "suspected": "疑似",
}  # fmt: skip
REASONS = {"asr": "识别错误", "rule": "规则误判", "context": "语境不符", "other": "其他"}
APPEAL_STATES = {
    "submitted": "处理中", "accepted": "已采纳", "partial": "部分采纳", "rejected": "已驳回",
    "withdrawn": "已撤回", "expired": "已过期",
}  # fmt: skip
VERSION_CAUSES = {
    "auto": "机器评分",
    "review": "复核",
    "appeal": "申诉",
    "rescore": "重新评分",
    "rule change": "规则变更",
}

_SPAN = re.compile(r"@(\d+):(\d+)-(\d+)$")


def clock(seconds: float | None) -> str:
    """12.3 → '00:12' (minutes:seconds), '' when there is no time."""
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def mask_shown(shown: dict[str, Any]) -> dict[str, Any]:
    """The ``show`` object with customers' numbers and addresses masked in every quoted text."""
    out = copy.deepcopy(shown)
    for hit in out["hits"]:
        for key in ("text", "context", "detail", "heard", "read_as"):
            if hit.get(key):
                hit[key] = mask_text(hit[key])
    for appeal in out["review"].get("appeals", []):
        for key in ("reason", "decision_comment"):
            if appeal.get(key):
                appeal[key] = mask_text(appeal[key])
    for finding in out["review"].get("manual", []):
        if finding.get("comment"):
            finding["comment"] = mask_text(finding["comment"])
    return out


@dataclass
class Piece:
    text: str
    hits: list[int] = field(default_factory=list)  # indexes into the call's hits


@dataclass
class Turn:
    index: int
    speaker: str
    start: float | None
    end: float | None
    pieces: list[Piece]
    hits: list[int]  # every hit on this turn, marked in the text or not


def hit_span(hit: dict[str, Any], text: str) -> tuple[int, int] | None:
    """Where in the utterance's text the hit's quoted words are (from its hit_id, else by search)."""
    found = _SPAN.search(hit.get("hit_id") or "")
    if found and int(found.group(1)) == hit.get("utterance"):
        start, end = int(found.group(2)), int(found.group(3))
        if 0 <= start < end <= len(text):
            return start, end
    quoted = hit.get("text") or ""
    at = text.find(quoted) if quoted else -1
    return (at, at + len(quoted)) if at >= 0 else None


def turns(transcript: dict[str, Any], hits: list[dict[str, Any]], masked: bool) -> list[Turn]:
    """The transcript's utterances with each hit's words cut out as marked pieces."""
    out = []
    for index, utt in enumerate(transcript.get("utterances") or []):
        text = str(utt.get("text") or "")
        if masked:
            text = mask_text(text) or ""
        on_turn = [k for k, h in enumerate(hits) if h.get("utterance") == index]
        spans = [(k, hit_span(hits[k], text)) for k in on_turn]
        cuts = sorted({0, len(text), *(p for _, s in spans if s for p in s)})
        pieces = []
        for a, b in zip(cuts, cuts[1:], strict=False):
            covering = [k for k, s in spans if s and s[0] <= a and b <= s[1]]
            pieces.append(Piece(text[a:b], covering))
        out.append(Turn(index, str(utt.get("speaker") or "unknown"), utt.get("start"), utt.get("end"), pieces, on_turn))
    return out


def deductions(shown: dict[str, Any]) -> list[dict[str, Any]]:
    """The hits that cost points, and the missed findings, for the score panel."""
    return [h for h in shown["hits"] if (h.get("deduction") or 0) > 0 or h.get("veto")]


def mask_text_or_none(text: str | None) -> str | None:
    return mask_text(text) if text else text
