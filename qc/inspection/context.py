"""Word-level context conditions: when characters alone cannot tell a violation from a look-alike.

不行 is a refusal in 不行，这个不能改 and a report in 如果还是不行，建议您重启; 不知道 is the agent's
shrug in 我不知道 and a third party's in 快递员说他不知道门牌号; 没有办法 is the agent's in 我也没有办法
and the customer's, echoed, in 您是说网点说没有办法是吗. What decides is a word near the match:
who the subject is, whether the sentence is a condition, a report or an echo.

QA staff name such contexts once in ``lexicons/contexts.yaml`` as spaCy ``Matcher`` token patterns
over jieba's words and part-of-speech tags (posseg), each with where it must stand relative to
the match (before it in the same sentence, right before it, after it…), and a phrase rule lists
the contexts that cancel it (``unless: [转述, 条件句]``). The syntax is documented in Chinese in
lexicons/README.md.

Cost: a context is looked at only for a character match of a rule that names one — a few turns
per call — so jieba's posseg and spaCy run on those turns alone, never on the whole call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qc.inspection.lexicon_yaml import strip_lines
from qc.text.words import jieba_tokenizer

WHERE = ("before", "clause_before", "right_before", "after", "right_after", "overlap", "sentence")

# Sentence and clause ends in the original text. An utterance end is a sentence end too: the
# engine hands over one utterance at a time.
_SENTENCE_END = re.compile(r"[。！？!?；;…]+|\n")
_CLAUSE_END = re.compile(r"[。！？!?；;…，,、：:]+|\n")


class ContextError(ValueError):
    """A context definition is invalid; the message names the context and the problem."""


@dataclass(frozen=True, slots=True)
class Context:
    """One named condition: token patterns and where a match of them must stand."""

    name: str
    description: str
    where: str
    patterns: tuple[tuple[Mapping[str, Any], ...], ...]


class Contexts:
    """All contexts of a lexicon, compiled into one spaCy Matcher over jieba tokens.

    ``holds(name, text, start, end)`` answers whether context ``name`` occurs where it must
    around ``text[start:end]`` (a match in one utterance's original text). Token analyses are
    cached per utterance text, so several rules asking about the same turn pay once.
    """

    def __init__(self, contexts: Mapping[str, Context], user_words: Sequence[str] = ()) -> None:
        self.contexts = dict(contexts)
        # The words the patterns name are kept whole by jieba (快递员, not 快递/员), so that a
        # pattern's TEXT conditions meet the tokens they were written for.
        named = {w for c in self.contexts.values() for p in c.patterns for t in p for w in _texts(t)}
        self._user_words = tuple(sorted({w for w in (*user_words, *named) if len(w) > 1}))
        self._matcher: Any = None
        self._vocab: Any = None
        self._tagger: Any = None
        self._found = lru_cache(maxsize=2048)(self._find)
        if self.contexts:
            self._compile()

    def __bool__(self) -> bool:
        return bool(self.contexts)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its definitions (the lexicon goes to worker processes); compiled again there."""
        return (Contexts, (self.contexts, self._user_words))

    def _compile(self) -> None:
        """Build the Matcher; spaCy's own validation rejects a malformed token pattern here, at load."""
        from spacy.matcher import Matcher
        from spacy.vocab import Vocab

        self._vocab = Vocab()
        self._matcher = Matcher(self._vocab, validate=True)
        for ctx in self.contexts.values():
            try:
                self._matcher.add(ctx.name, [list(p) for p in ctx.patterns])
            except Exception as err:  # spaCy raises ValueError / MatchPatternError subclasses
                first = str(err).strip().splitlines()
                raise ContextError(f"context {ctx.name!r}: {' '.join(first[:3])}") from None

    def _posseg(self) -> Any:
        if self._tagger is None:
            import jieba.posseg

            self._tagger = jieba.posseg.POSTokenizer(jieba_tokenizer(self._user_words))
        return self._tagger

    def tokens(self, text: str) -> list[tuple[str, str]]:
        """(word, posseg tag) pairs covering ``text`` exactly (spaces and punctuation included)."""
        return [(pair.word, pair.flag) for pair in self._posseg().cut(text, HMM=False)]

    def _find(self, text: str) -> dict[str, tuple[tuple[int, int], ...]]:
        """Character spans of every context's matches in ``text``. Blanks are no tokens (ASR writes
        them between words; a pattern of two adjacent words must still match across one)."""
        from spacy.tokens import Doc

        words, tags, offsets = [], [], []
        pos = 0
        for word, tag in self.tokens(text):
            if word.strip():
                words.append(word)
                tags.append(tag)
                offsets.append(pos)
            pos += len(word)
        if not words:
            return {}
        doc = Doc(self._vocab, words=words, spaces=[False] * len(words))
        clause_start = True
        for token, tag in zip(doc, tags, strict=True):
            token.tag_ = tag
            # IS_SENT_START marks a clause start (after any punctuation): where 您说… begins a report
            token.is_sent_start = clause_start
            clause_start = bool(_CLAUSE_END.fullmatch(token.text))
        found: dict[str, list[tuple[int, int]]] = {}
        for match_id, start, end in self._matcher(doc):
            span = (offsets[start], offsets[end - 1] + len(words[end - 1]))
            found.setdefault(self._vocab.strings[match_id], []).append(span)
        return {name: tuple(spans) for name, spans in found.items()}

    def holds(self, name: str, text: str, start: int, end: int) -> bool:
        """Whether context ``name`` stands where it must around ``text[start:end]``."""
        spans = self._found(text).get(name)
        if not spans:
            return False
        where = self.contexts[name].where
        if where == "overlap":
            return any(s < end and start < e for s, e in spans)
        if where in ("right_before", "right_after"):
            if where == "right_before":
                return any(e <= start and not text[e:start].strip() for s, e in spans)
            return any(s >= end and not text[end:s].strip() for s, e in spans)
        bounds = _CLAUSE_END if where == "clause_before" else _SENTENCE_END
        lo, hi = _unit(text, start, end, bounds)
        if where in ("before", "clause_before"):
            return any(lo <= s and e <= start for s, e in spans)
        if where == "after":
            return any(end <= s and e <= hi for s, e in spans)
        return any(lo <= s and e <= hi for s, e in spans)  # sentence

    def first_holding(self, names: Sequence[str], text: str, start: int, end: int) -> str | None:
        """The first of ``names`` that holds around the match, or None."""
        for name in names:
            if self.holds(name, text, start, end):
                return name
        return None


def _texts(token: Mapping[str, Any]) -> list[str]:
    """Literal words a token condition names (TEXT: 说, TEXT: {IN: [说, 讲]})."""
    out: list[str] = []
    for key in ("TEXT", "ORTH", "LOWER"):
        value = token.get(key)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, Mapping):
            out.extend(v for v in value.get("IN", ()) if isinstance(v, str))
    return out


def _unit(text: str, start: int, end: int, ends: re.Pattern[str]) -> tuple[int, int]:
    """[lo, hi) of the sentence (or clause) around text[start:end]."""
    lo, hi = 0, len(text)
    for m in ends.finditer(text):
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    return lo, hi


def parse_contexts(data: Mapping[str, Any]) -> tuple[dict[str, Context], list[tuple[str, int | None]]]:
    """Contexts from the ``contexts`` mapping of contexts.yaml, and (problem, line) for each bad one."""
    contexts: dict[str, Context] = {}
    problems: list[tuple[str, int | None]] = []
    raw = data.get("contexts")
    if not isinstance(raw, Mapping) or not [k for k in raw if k != "__line__"]:
        return {}, [("'contexts' must be a mapping of names to definitions", data.get("__line__"))]
    for name, spec in raw.items():
        if name == "__line__":
            continue
        line = spec.get("__line__") if isinstance(spec, Mapping) else raw.get("__line__")
        try:
            contexts[str(name)] = _context(str(name), spec)
        except ContextError as err:
            problems.append((str(err), line))
    return contexts, problems


def _context(name: str, spec: Any) -> Context:
    if not isinstance(spec, Mapping):
        raise ContextError(f"context {name!r} must be a mapping with 'where' and 'patterns'")
    unknown = sorted(set(spec) - {"说明", "where", "patterns", "__line__"})
    if unknown:
        raise ContextError(f"context {name!r}: unknown key(s) {', '.join(unknown)}; allowed: 说明, where, patterns")
    where = spec.get("where")
    if where not in WHERE:
        raise ContextError(f"context {name!r}: 'where' must be one of {', '.join(WHERE)}, got {where!r}")
    patterns = spec.get("patterns")
    if not isinstance(patterns, list) or not patterns:
        raise ContextError(f"context {name!r}: 'patterns' must be a non-empty list of token lists")
    clean = []
    for p in patterns:
        if not isinstance(p, list) or not p or not all(isinstance(t, Mapping) for t in p):
            raise ContextError(f"context {name!r}: each pattern must be a list of token conditions, got {p!r}")
        clean.append(tuple(strip_lines(t) for t in p))
    return Context(name, str(spec.get("说明") or ""), where, tuple(clean))
