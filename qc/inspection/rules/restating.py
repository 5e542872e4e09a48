"""需求归纳: after the customer states a need, the agent restates or confirms it.

The manual's case 2 is the model: 客户「我的快件1月1号就发出了，现在都4号了还没收到！」→ agent
「您的快件从1号就发出了，现在还没收到，是吗？」. A restatement is recognised two ways: a confirming
form (您是说…, 您的意思是…, …是吗？) or enough of the customer's own content words in the agent's
reply (words of two or more characters, not function words). The customer's need is the first
customer turn with a need marker (我想, 我要, 怎么, 还没…) and at least ``min_chars`` characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from qc.inspection.pattern import CompiledPattern
from qc.inspection.rules.base import CallView, Definitions, Finding, RuleInfo, SpecReader
from qc.inspection.rules.dialogue import DialogueRule, agent_turns_after, quote, read_status, says, turns_saying
from qc.text.words import JiebaSegmenter

# Words that say nothing about the need (they occur in any turn): never counted as shared.
FUNCTION_WORDS = frozenset(
    [
        "我们",
        "你们",
        "您们",
        "他们",
        "这个",
        "那个",
        "这边",
        "那边",
        "就是",
        "然后",
        "一下",
        "怎么",
        "什么",
        "可以",
        "现在",
        "还是",
        "已经",
        "没有",
        "不是",
        "一个",
        "您好",
        "你好",
        "好的",
        "请问",
        "一些",
        "这样",
        "那样",
        "因为",
        "所以",
        "但是",
        "如果",
        "的话",
        "时候",
        "知道",
        "谢谢",
        "麻烦",
        "帮忙",
        "需要",
        "问题",
        "是不是",
        "有没有",
        "能不能",
        "可不可以",
        "为什么",
        "多少",
        "哪里",
        "这里",
        "那里",
        "还有",
        "应该",
        "可能",
        "一直",
        "今天",
    ]
)


@dataclass(frozen=True, slots=True)
class RestatingRule(DialogueRule):
    """Fires when no agent turn soon after the customer's need restates or confirms it."""

    kind: ClassVar[str] = "restating"
    keys: ClassVar[tuple[str, ...]] = (
        "status",
        "need",
        "confirm",
        "within_turns",
        "min_shared",
        "min_chars",
        "max_gap",
    )

    info: RuleInfo
    need: tuple[CompiledPattern, ...]
    confirm: tuple[CompiledPattern, ...]
    within_turns: int
    min_shared: int
    min_chars: int
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]
    status: str = "confirmed"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> RestatingRule:
        r = SpecReader(spec, cls.keys, defs)
        max_gap = int(r.number("max_gap", 8))
        hits, misses = r.examples()
        return cls(
            r.info(file),
            r.patterns("need", max_gap),
            r.patterns("confirm", max_gap),
            int(r.number("within_turns", 3, minimum=1)),
            int(r.number("min_shared", 2, minimum=1)),
            int(r.number("min_chars", 8)),
            tuple(hits),
            tuple(misses),
            read_status(r),
        )

    def find(self, view: CallView) -> list[Finding]:
        need = next(
            (i for i in turns_saying(view, "customer", self.need) if view.norm_length(i) >= self.min_chars), None
        )
        if need is None:
            return []
        window = agent_turns_after(view, need, self.within_turns, None)
        if not window:
            return []
        if any(says(view, i, self.confirm) is not None for i in window):
            return []
        words = self._content(view, need)  # segmentation costs more than the patterns: only now
        if any(len(words & self._content(view, i)) >= self.min_shared for i in window):
            return []
        detail = f"客户说「{quote(view, need)}」后 {self.within_turns} 句内未复述或确认客户的需求"
        return [self.finding(window[0], detail)]

    def _content(self, view: CallView, index: int) -> frozenset[str]:
        return _content_words(view.segmenter, view.norm_text(index))


@lru_cache(maxsize=8192)
def _content_words(segmenter: JiebaSegmenter, text: str) -> frozenset[str]:
    """Words of two or more characters that are not function words. Cached: segmentation is the
    rule's dearest step, and agents say the same lines (请问运单号是多少) call after call."""
    return frozenset(w for w in segmenter.tokens(text) if len(w) >= 2 and w not in FUNCTION_WORDS and w.isalnum())
