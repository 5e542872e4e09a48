"""Rule precision from reviewers' verdicts: which rules misfire, and how sure we are of it.

For each rule with verdicts: how many of its hits were reviewed, judged true and judged false, the
precision (true / reviewed) with a 95 % Wilson score interval — honest for the small counts a rule
gets in a month (3 of 3 true is not "100 %": the interval is 0.44–1.00) — and why the false ones
were false (asr, rule, context, other).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection

from qc.store.tables import calls, verdicts

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class RulePrecision:
    rule_id: str
    reviewed: int
    confirmed: int
    false: int
    precision: float
    low: float
    high: float
    reasons: dict[str, int] = field(default_factory=dict)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (0, 1 for n = 0)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def rule_precision(conn: Connection, month: str | None = None) -> list[RulePrecision]:
    """Per rule judged (in ``month``, by the calls' month, or ever), lowest precision first."""
    query = select(verdicts.c.rule_id, verdicts.c.verdict, verdicts.c.reason)
    if month is not None:
        query = query.join(calls, calls.c.call_id == verdicts.c.call_id).where(calls.c.month == month)
    true: Counter[str] = Counter()
    false: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for rule_id, verdict, reason in conn.execute(query):
        if verdict:
            true[rule_id] += 1
        else:
            false[rule_id] += 1
            reasons.setdefault(rule_id, Counter())[reason or "other"] += 1
    out = []
    for rule_id in set(true) | set(false):
        n = true[rule_id] + false[rule_id]
        low, high = wilson(true[rule_id], n)
        out.append(
            RulePrecision(rule_id, n, true[rule_id], false[rule_id], true[rule_id] / n, low, high,
                          dict(reasons.get(rule_id, {})))
        )  # fmt: skip
    return sorted(out, key=lambda r: (r.precision, -r.reviewed, r.rule_id))
