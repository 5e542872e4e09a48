"""Which calls inspectors should still listen to by hand, and the listening list they work from.

Per agent, calls with suspected hits nobody judged, vetoed calls, mono calls whose roles are unsure
(a person must say who spoke), failing scores, complaint calls and the lowest of the rest come
first, then a seeded random share of the rest (so every agent's good calls get heard too, and the
same seed gives the same list): the order of the review queue, qc.review.queue, which also builds
it from the database. The list is a table with empty 复听结论/复听人 columns for the inspector to fill
in (and 质检员 when the calls were assigned), written as .csv or .xlsx through qc.reports.tables
(safe cells, numbers as numbers, atomic, one-line errors).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from qc.errors import ReportError
from qc.reports.labels import INSPECTOR_HEADER, NO, SAMPLE_HEADERS, SAMPLE_SHEET, YES
from qc.reports.tables import write_csv, write_xlsx_table
from qc.review.queue import LOW_BELOW, REASON_LABELS, classes, pick, roles_unsure

SAMPLE_FORMATS = (".csv", ".xlsx")
_WIDTHS = (6, 10, 10, 26, 20, 8, 8, 10, 40, 16, 10)


def sample_calls(
    calls: pd.DataFrame, per_agent: int, random_share: float = 0.4, seed: int = 0, low_below: float = LOW_BELOW
) -> pd.DataFrame:
    """Rows of ``calls`` (a month as ``qc.store.load_month`` reads it; a ``suspected`` column when
    known) to listen to, with a ``reason`` column (its label), grouped by agent."""
    calls = calls.assign(unsure=[roles_unsure(w) for w in calls.get("warnings", [[]] * len(calls))])
    picked = pick(calls.assign(cls=classes(calls, low_below)), per_agent, random_share, seed)
    return picked.assign(reason=[REASON_LABELS[r] for r in picked["reason"]]).drop(columns=["cls", "position"])


def sample_table(picked: pd.DataFrame) -> pd.DataFrame:
    """The listening list as written: one numbered row per picked call (SAMPLE_HEADERS columns)."""
    picked = picked.reset_index(drop=True)
    n = len(picked)

    def column(name: str) -> pd.Series:
        return picked[name] if name in picked else pd.Series([None] * n, dtype=object)

    table = pd.DataFrame(
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
    if "inspector" in picked:  # assigned (qc sample --assign): who listens, before their verdict
        table.insert(table.columns.get_loc("verdict"), "inspector", picked["inspector"])
    return table


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
    headers = {**SAMPLE_HEADERS, "inspector": INSPECTOR_HEADER}
    if suffix == ".csv":
        return write_csv(table, out_path, headers)
    widths = _WIDTHS if "inspector" not in table else (*_WIDTHS[:-2], 10, *_WIDTHS[-2:])
    return write_xlsx_table(table, out_path, SAMPLE_SHEET, headers, widths)
