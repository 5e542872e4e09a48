"""The words of the 考评表's title block that come from the lexicon: the call centre, how a call's
score is made (said from the scorecard, not written by hand), and which 考评项 each hit counts against."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from qc.reports.labels import CATEGORY_NAMES
from qc.reports.monthly import SheetFacts

if TYPE_CHECKING:
    from qc.inspection.lexicon import Lexicon
    from qc.inspection.scorecard import Scorecard


def scoring_text(card: Scorecard) -> str:
    """How a call's score is made, from the scorecard's own numbers."""
    parts = [f"每通电话满分{card.base:g}分，每条违规按类别扣分："]
    prices = []
    for category, price in card.categories.items():
        if price.deduction <= 0 and price.cap is None:
            continue
        cap = f"，封顶{price.cap:g}" if price.cap is not None else ""
        prices.append(f"{CATEGORY_NAMES.get(category, category)}每条{price.deduction:g}{cap}")
    parts.append("；".join(prices) + "。")
    if card.rule_deductions:
        own = "、".join(f"{rule}扣{points:g}" for rule, points in sorted(card.rule_deductions.items()))
        parts.append(f"个别规则单独定价（{own}）。")
    if card.items:
        items = "、".join(f"{i.name}{i.weight:g}分" for i in card.items)
        parts.append(f"扣分归入{len(card.items)}个考评项（{items}），每项最多扣到该项满分为止，各项小计之和即得分。")
    if card.veto_rules:
        vetoes = "、".join(sorted(card.veto_rules))
        parts.append(f"致命项（{vetoes}）命中即不合格，得分记{card.veto_score:g}分。")
    parts.append(f"得分不低于{card.pass_mark:g}分且无致命项为合格。")
    return "".join(parts)


def sheet_facts(lexicon: Lexicon, inspectors: Sequence[str] = (), made_on: date | None = None) -> SheetFacts:
    """The title block's facts for ``lexicon``: centre (settings' company, else the profile's title),
    scoring in words, and the 考评项 of each category and of each rule that names its own."""
    card = lexicon.scorecard
    profile = lexicon.profile
    company = lexicon.settings.company[0] if lexicon.settings.company else ""
    centre = company or (profile.title if profile is not None else "")
    if profile is not None and company:
        centre = f"{company}（档案 {profile.name}）"
    item_of_category = {c: i.name for i in card.items for c in i.categories}
    item_of_rule = {r.info.id: r.info.item for r in lexicon.rules if r.info.item}
    return SheetFacts(
        centre=centre,
        scoring=scoring_text(card),
        inspectors=tuple(inspectors),
        made_on=made_on or date.today(),
        base=card.base,
        veto_score=card.veto_score,
        item_of_category=item_of_category,
        item_of_rule=item_of_rule,
    )
