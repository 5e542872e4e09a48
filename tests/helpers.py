"""Shared builders and assertions for the tests."""

from __future__ import annotations

from qc.inspection.engine import Inspector
from qc.schema import CallResult, Transcript, Utterance


def call(*turns: tuple, call_id: str = "t-1", agent_id: str = "1024") -> Transcript:
    """turns: (speaker, text) or (speaker, text, start, end)."""
    utts = tuple(Utterance(t[0], t[1], *(t[2:4] if len(t) > 2 else ())) for t in turns)
    return Transcript(call_id=call_id, agent_id=agent_id, utterances=utts)


def agent_says(inspector: Inspector, text: str) -> CallResult:
    return inspector.score(call(("agent", text)))


def rule_ids(result: CallResult, categories: tuple[str, ...] = ("banned", "nonstandard", "filler", "negative")) -> set:
    return {h.rule_id for h in result.hits if h.category in categories}
