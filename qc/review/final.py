"""A call's final score: the machine's hits as the reviewers judged them, plus what they found missing.

The same pricing as the engine (qc.inspection.scorecard, once per utterance and category, caps,
考评项): a hit judged true is charged even if the machine only suspected it; a hit judged false is
kept, as ``rejected``, at 0 points and never a veto; a manual finding (漏检) is charged at the
inspector's points or its rule's price, or — scored on a 考评项 without a rule — at the inspector's
points against that item; points an appeal gave back (a call appeal, or a partial one) are added
last. The current lexicon's scorecard prices them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qc.inspection.engine import item_scores, once_per_utterance_and_category
from qc.inspection.lexicon import Lexicon
from qc.inspection.rules.base import Finding, RuleInfo
from qc.inspection.scorecard import price_findings
from qc.schema import ItemScore


@dataclass(frozen=True, slots=True)
class FinalHit:
    status: str  # confirmed | suspected | rejected
    deduction: float
    veto: bool


@dataclass(frozen=True, slots=True)
class Final:
    score: float
    veto: bool
    hits: Mapping[str, FinalHit]  # by hit_id
    manual: tuple[float, ...]  # points each manual finding cost, in the order given
    items: Mapping[str, ItemScore]


def _info(lexicon: Lexicon, rule_id: str, name: str, category: str) -> RuleInfo:
    try:
        return lexicon.rule(rule_id).info
    except KeyError:  # the learned layer's SUS-*, or a rule since removed: priced by its category
        return RuleInfo(rule_id, name, category, None, None, "", None)


MANUAL_ITEM = "manual"  # the category of a 考评项 scored by hand, without a rule


def manual_rule(lexicon: Lexicon, rule_id: str, item: str | None) -> RuleInfo:
    """The rule a manual finding is charged as: its rule, or for a 考评项 scored without one a
    stand-in that counts against that item only."""
    if item is not None and rule_id == f"ITEM:{item}":
        return RuleInfo(rule_id, f"{item}（人工评分）", MANUAL_ITEM, None, None, "", None, item)
    return lexicon.rule(rule_id).info


def final_score(
    hit_rows: Sequence[Mapping[str, Any]],
    verdicts: Mapping[str, Mapping[str, Any]],
    manual: Sequence[Mapping[str, Any]],
    lexicon: Lexicon,
    given_back: float = 0.0,
) -> Final:
    """Price the stored hits (dicts with hit_id, rule_id, name, category, utterance, status) under
    the ``verdicts`` (by hit_id: verdict, machine_status) and the ``manual`` findings (rule_id,
    item, utterance, points); ``given_back``: points appeals returned."""
    findings: list[Finding] = []
    ids: list[str | None] = []
    for row in hit_rows:
        verdict = verdicts.get(row["hit_id"])
        # a judged hit is what the reviewer said; an unjudged one is what the machine said
        status = row["status"] if verdict is None else "confirmed" if verdict["verdict"] else "rejected"
        info = _info(lexicon, row["rule_id"], row["name"], row["category"])
        findings.append(Finding(info, row["utterance"], status=status))
        ids.append(row["hit_id"])
    prices: list[float | None] = [None] * len(findings)
    for m in manual:
        info = manual_rule(lexicon, m["rule_id"], m.get("item"))
        # an item scored by hand is charged as given, not merged with the utterance's other findings
        at = None if info.category == MANUAL_ITEM else m["utterance"]
        findings.append(Finding(info, at, status="confirmed"))
        ids.append(None)
        prices.append(m["points"])
    card = lexicon.scorecard
    charged_by = once_per_utterance_and_category(findings, card)
    unconfirmed = {i for i, f in enumerate(findings) if f.status != "confirmed"}
    keys = [(f.rule.id, f.rule.category) for f in findings]
    items = [card.item_of(f.rule.category, f.rule.item) for f in findings] if card.items else None
    priced, score, veto = price_findings(
        keys, card, free=charged_by.keys() | unconfirmed, items=items, prices=prices, no_veto=unconfirmed
    )
    hits = {
        hit_id: FinalHit(f.status, p.deduction, p.veto)
        for hit_id, f, p in zip(ids, findings, priced, strict=True)
        if hit_id is not None
    }
    manual_points = tuple(p.deduction for hit_id, p in zip(ids, priced, strict=True) if hit_id is None)
    if given_back:
        score = round(max(card.floor, min(card.base, score + given_back)), 2)
    return Final(score, veto, hits, manual_points, item_scores(card, items or [], priced))
