"""The scorecard: how many points each finding costs, caps per category, and veto rules (致命项).

Pure functions over findings; the prices live in lexicons/scorecard.yaml. Each hit carries the
points it actually cost after caps, so the deductions on a call always add up to base − score.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from qc.schema import CATEGORIES

# Categories added after scorecard.yaml's first schema, and their price when a scorecard written
# before them does not give one (a lexicon edited by QA staff keeps working after an upgrade).
LATER_CATEGORIES = {"process": {"deduction": 2, "cap": 10}}


class ScorecardError(ValueError):
    """scorecard.yaml is invalid."""


@dataclass(frozen=True, slots=True)
class CategoryPrice:
    deduction: float
    cap: float | None


@dataclass(frozen=True, slots=True)
class Item:
    """A 考评项 of seed 004's 服务质量综合考评表: its full marks (``weight``) and the categories whose
    deductions it takes; a rule may name its item itself (``item:`` in the rule)."""

    name: str
    weight: float
    categories: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Scorecard:
    SCHEMA: ClassVar[str] = "qc.scorecard/1"

    base: float
    floor: float
    pass_mark: float
    veto_score: float
    categories: Mapping[str, CategoryPrice]
    rule_deductions: Mapping[str, float]
    veto_rules: frozenset[str]
    # The 考评项 (empty: the card has none, every deduction comes straight off ``base``).
    items: tuple[Item, ...] = ()

    @classmethod
    def default(cls) -> Scorecard:
        return cls(100.0, 0.0, 60.0, 0.0, {c: CategoryPrice(0.0, None) for c in CATEGORIES}, {}, frozenset())

    def item_of(self, category: str, rule_item: str | None = None) -> str | None:
        """The item a finding counts against: the rule's own, else its category's."""
        if rule_item is not None:
            return rule_item
        for item in self.items:
            if category in item.categories:
                return item.name
        return None

    def item(self, name: str) -> Item:
        return next(i for i in self.items if i.name == name)

    @classmethod
    def from_spec(cls, data: Mapping[str, Any], rule_ids: set[str] | None) -> Scorecard:
        """Validate scorecard.yaml; ``rule_ids`` None skips the rule-id cross-check (rules failed to load)."""
        allowed = {"schema", "base", "floor", "pass_mark", "veto_score", "categories", "rules", "veto", "items"}
        unknown = set(data) - allowed
        if unknown:
            raise ScorecardError(f"unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")

        def num(value: Any, what: str) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ScorecardError(f"{what} must be a number ≥ 0, got {value!r}")
            return float(value)

        base = num(data.get("base", 100), "base")
        floor = num(data.get("floor", 0), "floor")
        if floor > base:
            raise ScorecardError(f"floor {floor} is above base {base}")
        categories: dict[str, CategoryPrice] = {}
        raw_cats = data.get("categories") or {}
        for name in raw_cats:
            if name not in CATEGORIES:
                raise ScorecardError(f"unknown category {name!r}; known: {', '.join(CATEGORIES)}")
        for name in CATEGORIES:
            spec = raw_cats.get(name, LATER_CATEGORIES.get(name))
            if spec is None:
                raise ScorecardError(f"category {name!r} has no price (add it under 'categories')")
            extra = set(spec) - {"deduction", "cap"}
            if extra:
                raise ScorecardError(f"category {name!r}: unknown key(s) {sorted(extra)}")
            cap = spec.get("cap")
            categories[name] = CategoryPrice(
                num(spec.get("deduction"), f"{name}.deduction"), None if cap is None else num(cap, f"{name}.cap")
            )
        rule_deductions = {}
        for rid, spec in (data.get("rules") or {}).items():
            if rule_ids is not None and rid not in rule_ids:
                raise ScorecardError(f"rules: {rid!r} is not a rule id in lexicons/rules")
            if not isinstance(spec, dict) or set(spec) != {"deduction"}:
                raise ScorecardError(f"rules: {rid!r} must be {{deduction: N}}")
            rule_deductions[rid] = num(spec["deduction"], f"rules.{rid}.deduction")
        veto = data.get("veto") or []
        if not isinstance(veto, list):
            raise ScorecardError("veto must be a list of rule ids")
        for rid in veto:
            if rule_ids is not None and rid not in rule_ids:
                raise ScorecardError(f"veto: {rid!r} is not a rule id in lexicons/rules")
        return cls(
            base,
            floor,
            num(data.get("pass_mark", 60), "pass_mark"),
            num(data.get("veto_score", 0), "veto_score"),
            categories,
            rule_deductions,
            frozenset(veto),
            _items(data.get("items"), base, num),
        )

    def price(self, rule_id: str, category: str) -> float:
        return self.rule_deductions.get(rule_id, self.categories[category].deduction)


def _items(raw: Any, base: float, num: Any) -> tuple[Item, ...]:
    """``items``: name → {weight, categories, description}; every category in exactly one item and
    the weights adding up to ``base``, so the subtotals add up to the score an inspector signs."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise ScorecardError("items must be a mapping of 考评项 name: {weight, categories}")
    items, owner = [], {}
    for name, spec in raw.items():
        if not isinstance(spec, dict) or "weight" not in spec:
            raise ScorecardError(f"item {name!r} must be {{weight: N, categories: [...]}}")
        extra = set(spec) - {"weight", "categories", "description"}
        if extra:
            raise ScorecardError(f"item {name!r}: unknown key(s) {sorted(extra)}")
        cats = spec.get("categories") or []
        if not isinstance(cats, list):
            raise ScorecardError(f"item {name!r}: categories must be a list")
        for cat in cats:
            if cat not in CATEGORIES:
                raise ScorecardError(f"item {name!r}: unknown category {cat!r}; known: {', '.join(CATEGORIES)}")
            if cat in owner:
                raise ScorecardError(f"category {cat!r} is in two items ({owner[cat]!r} and {name!r})")
            owner[cat] = name
        items.append(Item(str(name), num(spec["weight"], f"items.{name}.weight"), tuple(cats), spec.get("description")))
    missing = [c for c in CATEGORIES if c not in owner]
    if missing:
        raise ScorecardError(f"categories {', '.join(missing)} are in no item (add them under 'items')")
    total = sum(i.weight for i in items)
    if abs(total - base) > 1e-9:
        raise ScorecardError(f"the items' weights add up to {total:g}, not to base {base:g}")
    return tuple(items)


@dataclass(frozen=True, slots=True)
class Priced:
    deduction: float
    veto: bool


def price_findings(
    keys: Iterable[tuple[str, str]],
    card: Scorecard,
    free: Collection[int] = (),
    items: Sequence[str | None] | None = None,
    prices: Sequence[float | None] | None = None,
    no_veto: Collection[int] = (),
) -> tuple[list[Priced], float, bool]:
    """Price (rule_id, category) pairs in call order; returns per-finding prices, score, veto.

    ``free``: positions of findings listed at no cost (another finding already charged the same
    utterance for the same category); a veto rule among them still fails the call, unless its
    position is in ``no_veto`` (a suspected or rejected hit: nobody has confirmed it). ``items``: the
    考评项 of each finding; an item never loses more than its weight. ``prices``: a price per
    finding that overrides the card's (an inspector's own points for a missed finding), None to keep it.
    """
    spent: dict[str, float] = {}
    item_spent: dict[str, float] = {}
    priced = []
    total = 0.0
    vetoed = False
    for position, (rule_id, category) in enumerate(keys):
        own = prices[position] if prices is not None else None
        want = 0.0 if position in free else own if own is not None else card.price(rule_id, category)
        # a 考评项 scored by hand has no category of its own (qc.review.final): no category cap
        cap = card.categories[category].cap if category in card.categories else None
        used = spent.get(category, 0.0)
        take = want if cap is None else max(0.0, min(want, cap - used))
        item = items[position] if items is not None else None
        if item is not None:
            take = min(take, max(0.0, card.item(item).weight - item_spent.get(item, 0.0)))
        take = min(take, max(0.0, card.base - card.floor - total))
        if item is not None:
            item_spent[item] = item_spent.get(item, 0.0) + take
        spent[category] = used + take
        total += take
        is_veto = rule_id in card.veto_rules and position not in no_veto
        vetoed = vetoed or is_veto
        priced.append(Priced(take, is_veto))
    score = card.veto_score if vetoed else card.base - total
    return priced, round(max(card.floor, min(card.base, score)), 2), vetoed
