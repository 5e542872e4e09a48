"""Which calls inspectors should still listen to by hand: per agent, vetoed and lowest-scoring calls
first, then a seeded random share of the rest (so every agent's good calls get heard too, and the
same seed gives the same list)."""

from __future__ import annotations

import random

import pandas as pd


def sample_calls(calls: pd.DataFrame, per_agent: int, random_share: float = 0.4, seed: int = 0) -> pd.DataFrame:
    """Rows of ``calls`` to listen to, with a ``reason`` column, grouped by agent."""
    if not 0 <= random_share <= 1:
        raise ValueError(f"random_share must be between 0 and 1, got {random_share}")
    picked = []
    rng = random.Random(seed)
    for _agent, group in calls.groupby("agent_id", sort=True):
        n_random = int(round(per_agent * random_share))
        worst = group.sort_values(["veto", "score", "call_id"], ascending=[False, True, True])
        vetoed = worst[worst["veto"]]
        n_worst = max(per_agent - n_random, min(len(vetoed), per_agent))
        head = worst.head(n_worst).assign(reason=lambda f: f["veto"].map({True: "致命项", False: "低分"}))
        rest = group[~group["call_id"].isin(head["call_id"])].sort_values("call_id")
        take = min(per_agent - len(head), len(rest))
        chosen = rng.sample(list(rest.index), take) if take > 0 else []
        tail = rest.loc[sorted(chosen)].assign(reason="随机抽样")
        picked.append(pd.concat([head, tail]))
    if not picked:
        return calls.head(0).assign(reason=[])
    return pd.concat(picked, ignore_index=True)
