"""The week's 小结 and its training plan (培训计划), as seed 004 asks of a 质检员: "每周小结一次，依据检查结果
制定出培训安排，可全员培训，也可单独培训".

A rule broken by many agents in the week is a team problem: one whole-team session (全员培训) with the
manual's line, the suggested rewrite and two anonymised examples from different agents. A rule broken by
one or two agents is theirs: one-to-one coaching (一对一辅导) with their own examples. "Many" is the
``Threshold`` (default: 3 agents), so a small team can set a share instead.

Reads are aggregated per ISO week (``week_data``); building is pure (``build_weekly``); writing is in
qc.reports.weekly_write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select

from qc.errors import ReportError
from qc.reports.examples import Example, Turn, build_examples
from qc.reports.labels import CATEGORY_NAMES
from qc.store.db import Store
from qc.store.history import Week
from qc.store.queries import read_frame
from qc.store.tables import agents, calls, hits, results

TEAM_SESSION = "全员培训"
ONE_TO_ONE = "一对一辅导"
NO_TEAM = "未分组"


@dataclass(frozen=True, slots=True)
class Threshold:
    """When a rule is a whole-team matter: broken by at least ``agents`` agents, or by at least ``share``
    of the agents inspected that week. ``parse`` reads '3' or '20%'."""

    agents: int | None = 3
    share: float | None = None

    @classmethod
    def parse(cls, text: str) -> Threshold:
        text = text.strip()
        try:
            if text.endswith("%"):
                share = float(text[:-1]) / 100
                if not 0 < share <= 1:
                    raise ValueError
                return cls(None, share)
            count = int(text)
            if count < 1:
                raise ValueError
            return cls(count, None)
        except ValueError:
            raise ReportError(f"team threshold {text!r}: give a number of agents (3) or a share (20%)") from None

    def whole_team(self, broke: int, inspected: int) -> bool:
        if self.agents is not None:
            return broke >= self.agents
        return inspected > 0 and self.share is not None and broke / inspected >= self.share

    @property
    def label(self) -> str:
        if self.agents is not None:
            return f"同一规则本周有 ≥ {self.agents} 名坐席违反 → 全员培训；否则一对一辅导"
        return f"同一规则本周有 ≥ {self.share:.0%} 的受检坐席违反 → 全员培训；否则一对一辅导"


@dataclass(frozen=True, slots=True)
class TrainingItem:
    """One line of the training plan: a whole-team session (agent fields None) or one agent's coaching."""

    kind: str  # TEAM_SESSION | ONE_TO_ONE
    rule_id: str
    rule_name: str
    category: str
    agents: int  # how many agents broke the rule this week
    times: int  # how often (this agent's count for coaching)
    source: str | None  # the manual's line the rule comes from
    suggestion: str | None  # the suggested rewrite
    examples: tuple[Example, ...]
    agent_id: str | None = None
    agent_name: str | None = None
    team: str | None = None


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    week: Week
    threshold: Threshold
    calls: int
    agents: pd.DataFrame  # per agent (WEEKLY_AGENT_HEADERS)
    teams: pd.DataFrame  # per team
    rules: pd.DataFrame  # rules broken, most first, with who broke them
    plan: tuple[TrainingItem, ...]
    average: float  # over the week's calls


# --- reading --------------------------------------------------------------------------------------


def _in_week(query: Any, week: Week) -> Any:
    """``query`` (joined to calls) narrowed to the week: by month first (the index), then by day."""
    return query.where(
        calls.c.month.in_(week.months),
        calls.c.started_at >= week.start.isoformat(),
        calls.c.started_at < (week.end + timedelta(days=1)).isoformat(),
    )


def week_data(store: Store, week: Week) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(calls, confirmed hits) of the week: one row per call (agent, name, team, score, veto, audio),
    one per confirmed hit (rule, name, category, source, suggestion, its call's agent). Suspected
    hits are not violations until a reviewer confirms them; rejected ones are not violations."""
    call_query = _in_week(
        select(
            calls.c.call_id, calls.c.agent_id, agents.c.agent_name, agents.c.team, calls.c.audio,
            results.c.score, results.c.veto,
        )
        .join(results, results.c.call_id == calls.c.call_id)
        .join(agents, agents.c.agent_id == calls.c.agent_id),
        week,
    )  # fmt: skip
    hit_query = _in_week(
        select(
            hits.c.call_id, hits.c.seq, hits.c.rule_id, hits.c.category, hits.c.name, hits.c.source,
            hits.c.suggestion, hits.c.deduction, hits.c.utterance, calls.c.agent_id, calls.c.audio,
        )
        .join(calls, calls.c.call_id == hits.c.call_id)
        .where(hits.c.status == "confirmed"),
        week,
    )  # fmt: skip
    call_df = read_frame(store, call_query)
    call_df["veto"] = call_df["veto"].astype(bool)
    call_df["team"] = call_df["team"].fillna(NO_TEAM)
    return call_df, read_frame(store, hit_query)


def example_rows(store: Store, picked: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """The stored hits ``picked`` ((call_id, seq)) with their calls and transcripts, as load_hits
    returns them: only a few per training item, so the transcripts of the whole week are never read."""
    wanted = set(picked)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    ids = sorted({c for c, _ in picked})
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        query = (
            select(hits, calls.c.agent_id, calls.c.started_at, calls.c.audio, calls.c.transcript, agents.c.agent_name)
            .join(calls, calls.c.call_id == hits.c.call_id)
            .join(agents, agents.c.agent_id == calls.c.agent_id)
            .where(hits.c.call_id.in_(chunk))
        )
        with store.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                key = (row["call_id"], row["seq"])
                if key in wanted:
                    out[key] = dict(row)
    return out


# --- building -------------------------------------------------------------------------------------


def _first(values: pd.Series) -> str | None:
    """The most common non-empty value (a rule's source line and rewrite are the same on every hit
    made by one ruleset; after a lexicon edit the usual one wins)."""
    present = values.dropna()
    present = present[present.astype(str).str.len() > 0]
    return None if present.empty else str(present.value_counts().index[0])


def _text(value: object) -> str | None:
    """A text cell of a frame, None for a gap (pandas turns None into NaN in places)."""
    return value if isinstance(value, str) and value else None


def summarise(calls_df: pd.DataFrame, hits_df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per agent, per team and per rule tables of the week."""
    per_agent = calls_df.groupby("agent_id", sort=True).agg(
        name=("agent_name", "first"), team=("team", "first"), calls=("call_id", "size"),
        average=("score", "mean"), lowest=("score", "min"), vetoes=("veto", "sum"),
    )  # fmt: skip
    violations = hits_df.groupby("agent_id").size()
    per_agent["violations"] = violations.reindex(per_agent.index).fillna(0).astype(int)
    if hits_df.empty:
        per_agent["top_rule"] = None
    else:
        counts = hits_df.groupby(["agent_id", "rule_id", "name"]).size().rename("n").reset_index()
        counts = counts.sort_values(["agent_id", "n", "rule_id"], ascending=[True, False, True])
        top = counts.drop_duplicates("agent_id").set_index("agent_id")
        labels = top["rule_id"] + " " + top["name"] + "（" + top["n"].astype(str) + " 次）"
        per_agent["top_rule"] = labels.reindex(per_agent.index)
    per_agent["vetoes"] = per_agent["vetoes"].astype(int)
    per_agent["average"] = per_agent["average"].round(1)
    per_agent = per_agent.reset_index().sort_values(["average", "agent_id"], ascending=[True, True])

    per_team = per_agent.groupby("team", sort=True).agg(
        agents=("agent_id", "size"), calls=("calls", "sum"), violations=("violations", "sum"), vetoes=("vetoes", "sum")
    )
    sums = calls_df.groupby("team")["score"].mean().round(1)
    per_team["average"] = sums.reindex(per_team.index)
    per_team["per_call"] = (per_team["violations"] / per_team["calls"]).round(2)
    per_team = per_team.reset_index()[["team", "agents", "calls", "average", "vetoes", "violations", "per_call"]]

    names = per_agent.set_index("agent_id")["name"]
    rows = []
    for rule_id, group in hits_df.groupby("rule_id", sort=True):
        by_agent = group.groupby("agent_id").size().sort_values(ascending=False, kind="stable")
        who = [f"{a} {names.get(a) or ''}".strip() + f"×{n}" for a, n in by_agent.head(10).items()]
        more = f" 等 {len(by_agent)} 人" if len(by_agent) > 10 else ""
        rows.append(
            {
                "rule_id": rule_id,
                "rule_name": str(group["name"].iloc[0]),
                "category": CATEGORY_NAMES.get(str(group["category"].iloc[0]), str(group["category"].iloc[0])),
                "times": len(group),
                "agents": len(by_agent),
                "who": "、".join(who) + more,
                "source": _first(group["source"]),
                "suggestion": _first(group["suggestion"]),
            }
        )
    columns = ["rule_id", "rule_name", "category", "times", "agents", "who", "source", "suggestion"]
    per_rule = pd.DataFrame(rows, columns=columns)
    if len(per_rule):
        per_rule = per_rule.sort_values(["times", "agents", "rule_id"], ascending=[False, False, True])
    return per_agent.reset_index(drop=True), per_team, per_rule.reset_index(drop=True)


def _example_order(group: pd.DataFrame) -> pd.DataFrame:
    """Hits in the order examples are taken: with a recording first (a clip can be played), then a
    quoted turn, then the heaviest deduction; the call id breaks ties so the pick is repeatable."""
    ranked = group.assign(
        _audio=group["audio"].notna() & (group["audio"].astype(str) != ""), _turn=group["utterance"].notna()
    )
    order = ["_audio", "_turn", "deduction", "call_id", "seq"]
    return ranked.sort_values(order, ascending=[False, False, False, True, True])


def plan_training(
    per_rule: pd.DataFrame, hits_df: pd.DataFrame, inspected: int, threshold: Threshold, examples_each: int = 2
) -> list[tuple[dict[str, Any], list[tuple[str, int]]]]:
    """The plan's items (as dicts) and the hits each should show: for a whole-team session the first
    hit of ``examples_each`` different agents, for coaching the agent's own first hits."""
    items: list[tuple[dict[str, Any], list[tuple[str, int]]]] = []
    by_rule = dict(tuple(hits_df.groupby("rule_id"))) if len(hits_df) else {}
    for rule in per_rule.itertuples(index=False):
        group = _example_order(by_rule[rule.rule_id])
        base = {
            "rule_id": rule.rule_id, "rule_name": rule.rule_name, "category": rule.category,
            "agents": int(rule.agents), "source": _text(rule.source), "suggestion": _text(rule.suggestion),
        }  # fmt: skip
        if threshold.whole_team(int(rule.agents), inspected):
            picked = group.drop_duplicates("agent_id").head(examples_each)
            keys = list(zip(picked["call_id"], picked["seq"].astype(int), strict=True))
            items.append(({**base, "kind": TEAM_SESSION, "times": int(rule.times)}, keys))
            continue
        for agent_id, own in group.groupby("agent_id", sort=True):
            first = own.head(examples_each)
            keys = list(zip(first["call_id"], first["seq"].astype(int), strict=True))
            items.append(({**base, "kind": ONE_TO_ONE, "times": len(own), "agent_id": agent_id}, keys))
    return items


_ALIASES = "甲乙丙丁戊己庚辛壬癸"


def anonymise(example: Example, alias: str, known: tuple[str, ...]) -> Example:
    """``example`` without who it is: the agent shown as ``alias``, no call id, and the agent's name and
    工号 blotted out of the quoted turns (an opening says 工号 1024 王芳 为您服务). Personal numbers in
    the text were masked when the example was built."""

    def blot(text: str) -> str:
        for word in known:
            if word and len(word) >= 2:
                text = text.replace(word, "＊" * len(word))
        return text

    turns = tuple(Turn(t.speaker, blot(t.text), t.start, t.is_hit) for t in example.turns)
    return replace(
        example, call_id="", agent_id=alias, agent_name=None, started_at=(example.started_at or "")[:10] or None,
        text=blot(example.text), detail=blot(example.detail) if example.detail else None, turns=turns,
        audio=example.audio,
    )  # fmt: skip


def build_weekly(
    week: Week,
    calls_df: pd.DataFrame,
    hits_df: pd.DataFrame,
    fetch: Callable[[list[tuple[str, int]]], dict[tuple[str, int], dict[str, Any]]] | None,
    threshold: Threshold,
    mask: bool = True,
    examples_each: int = 2,
) -> WeeklyReport:
    """The week's report from its calls and confirmed hits; ``fetch``: reads the example hits picked,
    with their transcripts (``example_rows``); None shows no examples."""
    per_agent, per_team, per_rule = summarise(calls_df, hits_df)
    planned = plan_training(per_rule, hits_df, len(per_agent), threshold, examples_each)
    names = per_agent.set_index("agent_id")
    every_name = tuple(str(n) for n in per_agent["name"].dropna()) + tuple(str(a) for a in per_agent["agent_id"])
    wanted = [k for _item, keys in planned for k in keys]
    rows = fetch(wanted) if fetch is not None and wanted else {}
    plan = []
    for item, keys in planned:
        found = [rows[k] for k in keys if k in rows]
        examples = build_examples(found, mask=mask or item["kind"] == TEAM_SESSION)
        if item["kind"] == TEAM_SESSION:
            examples = [anonymise(e, f"坐席{_ALIASES[i % 10]}", every_name) for i, e in enumerate(examples)]
        else:
            agent = names.loc[item["agent_id"]]
            item = {**item, "agent_name": agent["name"], "team": agent["team"]}
        plan.append(TrainingItem(examples=tuple(examples), **item))
    plan.sort(key=lambda t: (t.kind != TEAM_SESSION, -t.agents, -t.times, t.rule_id, t.agent_id or ""))
    average = float(calls_df["score"].mean())
    return WeeklyReport(week, threshold, len(calls_df), per_agent, per_team, per_rule, tuple(plan), average)


def load_weekly(
    store: Store, week: Week, threshold: Threshold, mask: bool = True, examples_each: int = 2
) -> WeeklyReport:
    """Read and build the week's report; ReportError when no call of the week was scored."""
    calls_df, hits_df = week_data(store, week)
    if calls_df.empty:
        raise ReportError(f"no scored calls for {week.label} ({week.span}) in {store.display()}; nothing written")
    return build_weekly(week, calls_df, hits_df, lambda keys: example_rows(store, keys), threshold, mask, examples_each)
