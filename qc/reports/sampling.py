"""Which calls inspectors should still listen to by hand, and the listening list they work from.

Per agent, vetoed calls, then mono calls whose roles are unsure (a person must say who spoke), then
the lowest-scoring calls come first, then a seeded random share of the rest (so
every agent's good calls get heard too, and the same seed gives the same list). The list is a
table with empty 复听结论/复听人 columns for the inspector to fill in, written as .csv or .xlsx
through qc.reports.tables (safe cells, numbers as numbers, atomic, one-line errors).
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from qc.errors import ReportError
from qc.reports.labels import (
    NO,
    REASON_LOW,
    REASON_RANDOM,
    REASON_ROLES,
    REASON_VETO,
    SAMPLE_HEADERS,
    SAMPLE_SHEET,
    YES,
)
from qc.reports.tables import write_csv, write_xlsx_table

SAMPLE_FORMATS = (".csv", ".xlsx")
_WIDTHS = (6, 10, 10, 26, 20, 8, 8, 10, 40, 16, 10)


def sample_calls(calls: pd.DataFrame, per_agent: int, random_share: float = 0.4, seed: int = 0) -> pd.DataFrame:
    """Rows of ``calls`` to listen to, with a ``reason`` column, grouped by agent."""
    if not 0 <= random_share <= 1:
        raise ValueError(f"random_share must be between 0 and 1, got {random_share}")
    picked = []
    rng = random.Random(seed)
    for _agent, group in calls.groupby("agent_id", sort=True):
        n_random = int(round(per_agent * random_share))
        group = group.assign(unsure=[_roles_unsure(w) for w in group.get("warnings", [[]] * len(group))])
        worst = group.sort_values(["veto", "unsure", "score", "call_id"], ascending=[False, False, True, True])
        first = worst[worst["veto"] | worst["unsure"]]
        n_worst = max(per_agent - n_random, min(len(first), per_agent))
        head = worst.head(n_worst)
        head = head.assign(
            reason=[
                REASON_VETO if veto else REASON_ROLES if unsure else REASON_LOW
                for veto, unsure in zip(head["veto"], head["unsure"], strict=True)
            ]
        )
        rest = group[~group["call_id"].isin(head["call_id"])].sort_values("call_id")
        take = min(per_agent - len(head), len(rest))
        chosen = rng.sample(list(rest.index), take) if take > 0 else []
        tail = rest.loc[sorted(chosen)].assign(reason=REASON_RANDOM)
        picked.append(pd.concat([head, tail]))
    if not picked:
        return calls.head(0).assign(reason=[])
    return pd.concat(picked, ignore_index=True)


def _roles_unsure(warnings: object) -> bool:
    """The engine's warning that a mono call's roles are a guess (qc.inspection.engine)."""
    return isinstance(warnings, list) and any(str(w).startswith("roles unsure") for w in warnings)


def sample_table(picked: pd.DataFrame) -> pd.DataFrame:
    """The listening list as written: one numbered row per picked call (SAMPLE_HEADERS columns)."""
    picked = picked.reset_index(drop=True)
    n = len(picked)

    def column(name: str) -> pd.Series:
        return picked[name] if name in picked else pd.Series([None] * n, dtype=object)

    return pd.DataFrame(
        {
            "seq": range(1, n + 1),
            "agent_id": column("agent_id"),
            "name": column("name"),
            "call_id": column("call_id"),
            "started_at": column("started_at"),
            "score": column("score"),
            "veto": column("veto").map({True: YES, False: NO}),
            "reason": column("reason"),
            "audio": column("audio"),
            "verdict": "",
            "reviewer": "",
        },
        columns=list(SAMPLE_HEADERS),
    )


def write_sample(picked: pd.DataFrame, out_path: Path) -> int:
    """Write the listening list for ``picked`` (from ``sample_calls``) as .csv or .xlsx; returns rows written.

    Raises ReportError for another suffix and qc.errors.OutputError (one line, naming the file) when
    it cannot be written; no partial file is left.
    """
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in SAMPLE_FORMATS:
        raise ReportError(f"{out_path}: the listening list is written as .csv or .xlsx")
    table = sample_table(picked)
    if suffix == ".csv":
        return write_csv(table, out_path, SAMPLE_HEADERS)
    return write_xlsx_table(table, out_path, SAMPLE_SHEET, SAMPLE_HEADERS, _WIDTHS)
