"""Counts in one call: more than N hits of a category or rule, in as many utterances (两次服务禁语),
or more than N uses of a word (频繁使用口头禅). The manual lists 频繁使用口头禅 among the
不规范服务用语 categories: one 嘛 is a filler; the same filler again and again is its own fault.

A rule counting findings reads the other rules' confirmed findings (the engine runs it last);
suspected hits are not counted, since nobody has confirmed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from qc.inspection.pattern import CompiledPattern
from qc.inspection.rules.base import CallView, Definitions, Finding, RuleInfo, RuleSpecError, SpecReader, iter_matches
from qc.inspection.rules.dialogue import DialogueRule, read_status, turns_of
from qc.schema import CATEGORIES


@dataclass(frozen=True, slots=True)
class FrequencyRule(DialogueRule):
    """Fires when what it counts occurs more than ``more_than`` times in one call."""

    kind: ClassVar[str] = "frequency"
    keys: ClassVar[tuple[str, ...]] = (
        "status",
        "count_category",
        "count_rules",
        "patterns",
        "more_than",
        "speaker",
        "max_gap",
    )

    info: RuleInfo
    count_category: str | None
    count_rules: frozenset[str]
    patterns: tuple[CompiledPattern, ...]
    speaker: str
    more_than: int
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]
    status: str = "confirmed"

    @property
    def after_findings(self) -> bool:  # type: ignore[override]
        return not self.patterns

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> FrequencyRule:
        r = SpecReader(spec, cls.keys, defs)
        category = r.get("count_category", str)
        if category is not None and category not in CATEGORIES:
            raise RuleSpecError(f"'count_category' must be one of {', '.join(CATEGORIES)}, got {category!r}")
        rules = frozenset(map(str, r.get("count_rules", list, [])))
        patterns = r.patterns("patterns", int(r.number("max_gap", 8)), required=False)
        if sum(bool(x) for x in (category, rules, patterns)) != 1:
            raise RuleSpecError("count exactly one of: 'count_category', 'count_rules', 'patterns'")
        hits, misses = r.examples()
        return cls(
            r.info(file),
            category,
            rules,
            patterns,
            r.speakers()[0],
            int(r.number("more_than", required=True, minimum=1)),
            tuple(hits),
            tuple(misses),
            read_status(r),
        )

    def find(self, view: CallView) -> list[Finding]:
        places = self._counted(view)
        if len(places) <= self.more_than:
            return []
        what = "、".join(sorted({w for _, w in places}))
        detail = f"{self.info.name}：{len(places)} 次（超过 {self.more_than} 次）：{what}"
        return [self.finding(places[self.more_than][0], detail)]

    def _counted(self, view: CallView) -> list[tuple[int | None, str]]:
        """(utterance, what) of every occurrence counted, in call order."""
        if self.patterns:
            out: list[tuple[int | None, str]] = []
            for i in turns_of(view, self.speaker):
                text = view.norm_text(i)
                spans = sorted({s for p in self.patterns for s in iter_matches(p, text)})
                out += [(i, text[a:b]) for a, b in spans]
            return out
        found = [
            f
            for f in view.findings
            if f.status == "confirmed"
            and f.rule.id != self.info.id
            and (f.rule.category == self.count_category or f.rule.id in self.count_rules)
        ]
        last = len(view.transcript.utterances)
        found.sort(key=lambda f: f.utterance if f.utterance is not None else last)
        # one utterance counts once, as the scorecard charges it once per category (我就这态度，你又能
        # 怎样 matches BAN-004 twice: one 禁语, not two); findings about the whole call count each
        out: list[tuple[int | None, str]] = []
        seen: set[int] = set()
        for f in found:
            if f.utterance is not None:
                if f.utterance in seen:
                    continue
                seen.add(f.utterance)
            out.append((f.utterance, f.rule.id))
        return out
