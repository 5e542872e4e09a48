"""False hits as regression cases: each verdict "误命中" becomes a must-not-hit example that
``qc lexicon check`` runs (``lexicons/cases/*.yaml``), so the rule that misfired is fixed against
the very sentence an inspector rejected, and stays fixed.

The case is the whole utterance the hit quoted, not the quoted words alone: a false hit is almost
always about context (你快点讲 said of the courier, not to the customer), and the quoted span on
its own is exactly what the rule is meant to catch. Verdicts whose reason is ``asr`` are left out
by default: the rule read the recognised words right; the recogniser misheard them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from qc.files import atomic_output
from qc.store import Store
from qc.store.tables import calls, verdicts

CASES_SCHEMA = "qc.cases/1"
DEFAULT_REASONS = ("rule", "context", "other")


def false_hit_cases(
    store: Store, month: str | None = None, rule_id: str | None = None, reasons: tuple[str, ...] = DEFAULT_REASONS
) -> list[dict[str, Any]]:
    """One case per false verdict (oldest first): rule, the utterance's text, and where it came from."""
    query = (
        select(verdicts, calls.c.transcript, calls.c.month)
        .join(calls, calls.c.call_id == verdicts.c.call_id)
        .where(verdicts.c.verdict.is_(False))
        .order_by(verdicts.c.at, verdicts.c.call_id, verdicts.c.hit_id)
    )
    if month is not None:
        query = query.where(calls.c.month == month)
    if rule_id is not None:
        query = query.where(verdicts.c.rule_id == rule_id)
    out = []
    seen: set[tuple[str, str]] = set()
    with store.engine.connect() as conn:
        for v in conn.execute(query).mappings():
            if (v["reason"] or "other") not in reasons or v["rule_id"].startswith("SUS-"):
                continue  # the learned layer has no examples to add to
            text = _utterance(v["transcript"], v["utterance"]) or v["text"]
            if not text or (v["rule_id"], text) in seen:
                continue
            seen.add((v["rule_id"], text))
            out.append(
                {"rule": v["rule_id"], "miss": text, "quoted": v["text"], "call": v["call_id"], "hit": v["hit_id"],
                 "reason": v["reason"] or "other", "comment": v["comment"], "by": v["by_user"], "at": v["at"]}
            )  # fmt: skip
    return out


def _utterance(transcript: Any, index: int | None) -> str | None:
    import json

    if index is None:
        return None
    data = json.loads(transcript) if isinstance(transcript, str) else transcript
    utterances = data.get("utterances", []) if isinstance(data, dict) else []
    return utterances[index].get("text") if 0 <= index < len(utterances) else None


def write_cases(cases: list[dict[str, Any]], path: Path) -> Path:
    """The cases as a YAML file for ``lexicons/cases/`` (written whole or not at all)."""
    document = {"schema": CASES_SCHEMA, "cases": cases}
    with atomic_output(Path(path)) as tmp:
        Path(tmp).write_text(
            "# 复核判为误命中的句子：规则不应再命中（qc review export-cases 导出，qc lexicon check 运行）\n"
            + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000),
            encoding="utf-8",
        )
    return Path(path)
