"""A scored call as the rows the database stores: plain dicts, built where the call was scored.

A worker process hands back these rows rather than the Transcript itself: pickling a call's ~100
frozen Utterance dataclasses back to the main process cost 1.5 ms a call (more than storing it),
the same transcript as nested dicts 0.2 ms. The main process then only writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from qc.formats import checks_to_dict, transcript_to_dict
from qc.schema import CallResult, Hit, Transcript


@dataclass(frozen=True, slots=True)
class CallRows:
    """One call's rows for the tables calls, results (without ``scored_at``, set when stored),
    hits and call_categories."""

    call: dict[str, Any]
    result: dict[str, Any]
    hits: tuple[dict[str, Any], ...]
    categories: tuple[dict[str, Any], ...]

    @property
    def call_id(self) -> str:
        return str(self.call["call_id"])

    @property
    def label(self) -> str:
        """What a failure about this call names: its file, else its call_id."""
        return str(self.call.get("source") or self.call_id)


def rows_of(transcript: Transcript, result: CallResult) -> CallRows:
    """The rows of one scored call (its result's categories included)."""
    return CallRows(
        call_row(transcript),
        result_row(result),
        tuple(hit_row(result.call_id, i, h) for i, h in enumerate(result.hits)),
        tuple({"call_id": result.call_id, **asdict(c)} for c in result.categories),
    )


def call_row(t: Transcript) -> dict[str, Any]:
    return {
        "call_id": t.call_id,
        "agent_id": t.agent_id,
        "agent_name": t.agent_name,
        "started_at": t.started_at,
        "month": month_of(t.started_at),
        "source": t.source,
        "audio": t.audio,
        "transcript": transcript_to_dict(t),
    }


def result_row(r: CallResult) -> dict[str, Any]:
    return {
        "call_id": r.call_id,
        "ruleset": r.ruleset,
        "score": r.score,
        "veto": r.veto,
        "polite_count": r.polite_count,
        "polite_terms": dict(r.polite_terms),
        "checks": checks_to_dict(r.checks),
        "warnings": list(r.warnings),
        "item_scores": {name: asdict(score) for name, score in r.items.items()},
    }


_HIT_FIELDS = tuple(Hit.__dataclass_fields__)


def hit_row(call_id: str, seq: int, h: Hit) -> dict[str, Any]:
    return {"call_id": call_id, "seq": seq, **{f: getattr(h, f) for f in _HIT_FIELDS}}


def month_of(started_at: str | None) -> str | None:
    """'2026-11-03T09:15:00+08:00' → '2026-11' (None when absent or not a date)."""
    if not started_at or len(started_at) < 7:
        return None
    candidate = started_at[:7]
    try:
        datetime.strptime(candidate, "%Y-%m")
    except ValueError:
        return None
    return candidate
