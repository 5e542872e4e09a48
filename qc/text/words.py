"""Word segmentation with jieba, used only where a rule needs word boundaries.

Most rules match on normalised characters (fast, and immune to jieba cutting 不/知道 apart).
A rule with ``boundary: word`` (滚, but not 滚动; 嘛, but not 干嘛) additionally requires its match
to start and end on jieba token boundaries. jieba runs at ~0.3 Mchar/s, so it is called lazily,
only on utterances where such a rule already matched on characters, and its result is cached.

One ``jieba.Tokenizer`` instance per lexicon (never the global one), with the lexicon's phrases
as user dictionary so that a phrase stays one token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache

import jieba

# jieba attaches a DEBUG stderr handler to its logger at import; keep the library quiet.
jieba.setLogLevel(logging.WARNING)


def jieba_tokenizer(user_words: Iterable[str] = ()) -> jieba.Tokenizer:
    """A private, initialised jieba tokenizer that keeps each of ``user_words`` whole."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in user_words:
        tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word), 100))
    return tokenizer


class JiebaSegmenter:
    """Token boundaries of normalised text, from a private jieba tokenizer."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._words = tuple(sorted({w for w in user_words if len(w) > 1}))
        self._tokenizer: jieba.Tokenizer | None = None
        self.boundaries = lru_cache(maxsize=4096)(self._boundaries)

    def _get(self) -> jieba.Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = jieba_tokenizer(self._words)
        return self._tokenizer

    def tokens(self, text: str) -> list[str]:
        return list(self._get().cut(text, HMM=False))

    def _boundaries(self, text: str) -> frozenset[int]:
        cuts = {0}
        pos = 0
        for token in self._get().cut(text, HMM=False):
            pos += len(token)
            cuts.add(pos)
        return frozenset(cuts)

    def log_probability(self, text: str) -> float:
        """The natural log-probability of ``text`` under jieba's word-frequency model (its best
        segmentation): which of two same-sounding sentences is the likelier one (qc.inspection.sound)."""
        tokenizer = self._get()
        route: dict[int, tuple[float, int]] = {}
        tokenizer.calc(text, tokenizer.get_DAG(text), route)
        return route[0][0]

    def on_boundaries(self, text: str, start: int, end: int) -> bool:
        """True when [start, end) begins and ends between two jieba tokens."""
        cuts = self.boundaries(text)
        return start in cuts and end in cuts
