"""The pattern language QA staff write variants in.

A pattern is text with four kinds of markup (documented in Chinese in lexicons/README.md):

- ``[们]``        optional part:            你[们]找领导
- ``(你|您)``      alternatives:             (你|您)找领导去
- ``{领导}``       a synonym group from lexicons/synonyms.yaml
- ``*``           a gap of up to ``max_gap`` characters: 不是我*管
- ``#``           a run of digits (工号 1024, 幺零二四 after normalisation)

Literal parts are normalised like transcripts (punctuation and spaces dropped, traditional →
simplified), so a pattern never needs to spell variants of script or punctuation.

A pattern compiles to a Python regular expression over normalised text, plus the set of
literal *anchors* one of which must occur in any match. Anchors feed one Aho-Corasick
automaton, so the regex runs only on the utterances that can match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from qc.text.normalize import CLAUSE_BREAK, normalize_pattern_text
from qc.text.numbers import DIGIT_RUN

_SPECIAL = set("[]()|{}*#")
DIGITS_RE = DIGIT_RUN
# A waybill or telephone number: normalisation has made digits read one by one (七五幺二…) arabic.
LONG_NUMBER_RE = "[0-9]{6,}"


class PatternError(ValueError):
    """A pattern cannot be parsed; the message says where."""


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    source: str
    regex: re.Pattern[str]
    anchors: frozenset[str] | None  # None: no literal is required, check every utterance
    literals: tuple[str, ...]  # every literal fragment, for the segmenter's user dictionary


# AST nodes are plain tuples: ("lit", s) ("seq", [...]) ("alt", [...]) ("opt", node) ("gap",) ("num",) ("longnum",)
Node = tuple


class _Parser:
    def __init__(self, text: str, groups: Mapping[str, tuple[str, ...]]) -> None:
        self.text = text
        self.pos = 0
        self.groups = groups

    def parse(self) -> Node:
        node = self._alternatives(closing=None)
        if self.pos != len(self.text):
            raise PatternError(f"unexpected {self.text[self.pos]!r} at position {self.pos + 1}")
        return node

    def _alternatives(self, closing: str | None) -> Node:
        options = [self._sequence(closing)]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            options.append(self._sequence(closing))
        return options[0] if len(options) == 1 else ("alt", options)

    def _sequence(self, closing: str | None) -> Node:
        items: list[Node] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                lit = normalize_pattern_text("".join(buf))
                if lit:
                    items.append(("lit", lit))
                buf.clear()

        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "|" or ch == closing:
                break
            if ch in "])}" and ch != closing:
                raise PatternError(f"unbalanced {ch!r} at position {self.pos + 1}")
            self.pos += 1
            if ch not in _SPECIAL:
                buf.append(ch)
                continue
            flush()
            if ch == "[":
                items.append(("opt", self._group("]")))
            elif ch == "(":
                items.append(self._group(")"))
            elif ch == "{":
                items.append(self._synonyms())
            elif ch == "*":
                items.append(("gap",))
            elif ch == "#" and self.text[self.pos : self.pos + 1] == "#":
                self.pos += 1
                items.append(("longnum",))  # ## : a number of six digits or more (单号, 电话)
            elif ch == "#":
                items.append(("num",))
        flush()
        if not items:
            if closing is None and not self.text.strip():
                raise PatternError("empty pattern")
            return ("seq", [])
        return items[0] if len(items) == 1 else ("seq", _merge_literals(items))

    def _group(self, closing: str) -> Node:
        start = self.pos
        node = self._alternatives(closing)
        if self.pos >= len(self.text) or self.text[self.pos] != closing:
            raise PatternError(f"{'[('[closing == ')']!r} at position {start} is never closed")
        self.pos += 1
        return node

    def _synonyms(self) -> Node:
        end = self.text.find("}", self.pos)
        if end < 0:
            raise PatternError(f"'{{' at position {self.pos} is never closed")
        name = self.text[self.pos : end]
        self.pos = end + 1
        if name not in self.groups:
            raise PatternError(f"unknown synonym group {{{name}}} (define it in synonyms.yaml)")
        words = [normalize_pattern_text(w) for w in self.groups[name]]
        return ("alt", [("lit", w) for w in words if w])


def _merge_literals(items: list[Node]) -> list[Node]:
    merged: list[Node] = []
    for item in items:
        if item[0] == "lit" and merged and merged[-1][0] == "lit":
            merged[-1] = ("lit", merged[-1][1] + item[1])
        else:
            merged.append(item)
    return merged


def _to_regex(node: Node, max_gap: int, cross: bool = False) -> str:
    """The regex of a pattern. ``cross``: the rule lets a match span clauses, so a clause break may
    stand between any two characters and a gap runs over breaks (never over an utterance break)."""
    kind = node[0]
    joint = _OPTIONAL_BREAK if cross else ""
    if kind == "lit":
        return joint.join(re.escape(ch) for ch in node[1])
    if kind == "seq":
        return joint.join(_to_regex(n, max_gap, cross) for n in node[1])
    if kind == "alt":
        # Longest alternatives first, so that the reported span is the fullest reading.
        parts = sorted((_to_regex(n, max_gap, cross) for n in node[1]), key=len, reverse=True)
        return "(?:" + "|".join(parts) + ")"
    if kind == "opt":
        return "(?:" + _to_regex(node[1], max_gap, cross) + ")?"
    if kind == "gap":
        # "." stops at UTTERANCE_BREAK ("\n", no DOTALL); the class stops at clause breaks too.
        return f".{{0,{max_gap}}}?" if cross else f"[^{re.escape(CLAUSE_BREAK)}\n]{{0,{max_gap}}}?"
    if kind == "num":
        return DIGITS_RE
    if kind == "longnum":
        return LONG_NUMBER_RE
    raise AssertionError(kind)


_OPTIONAL_BREAK = re.escape(CLAUSE_BREAK) + "?"


def _anchors(node: Node) -> frozenset[str] | None:
    """Literals of which at least one occurs in every match (None: no such set)."""
    kind = node[0]
    if kind == "lit":
        return frozenset([node[1]])
    if kind == "alt":
        sets = [_anchors(n) for n in node[1]]
        if any(s is None for s in sets):
            return None
        return frozenset().union(*sets)  # type: ignore[arg-type]
    if kind == "seq":
        best: frozenset[str] | None = None
        for cand in [*(_anchors(child) for child in node[1]), *_joined_runs(node[1])]:
            if cand is not None and "" not in cand and (best is None or _strength(cand) > _strength(best)):
                best = cand
        return best
    return None


# The most spellings a run of adjacent parts may expand to before it stops being worth an anchor.
_MAX_SPELLINGS = 64


def _joined_runs(children: list[Node]) -> list[frozenset[str]]:
    """Spellings of runs of adjacent children that can be written out in full: (你|您)(搞|弄)懂
    has the anchors 你搞懂, 您搞懂, 你弄懂, 您弄懂 — far rarer in speech than 你 or 您 alone, so
    the prefilter passes fewer utterances to the rule's regex. Every window of two or more
    adjacent children is tried (a whole run may have too many spellings, its tail not)."""
    runs: list[frozenset[str]] = []
    current: list[frozenset[str]] = []
    for child in [*children, ("gap",)]:
        spellings = _spellings(child)
        if spellings is not None:
            current.append(spellings)
            continue
        for i in range(len(current)):
            product = {""}
            for part in current[i:]:
                product = {a + b for a in product for b in part}
                if len(product) > _MAX_SPELLINGS:
                    break
                if len(product) > 1 or part is not current[i]:
                    runs.append(frozenset(product))
        current = []
    return runs


def _spellings(node: Node) -> frozenset[str] | None:
    """Every text ``node`` can match, when it is a few literals (None: a gap, a number, too many)."""
    kind = node[0]
    if kind == "lit":
        return frozenset([node[1]])
    if kind == "opt":
        inner = _spellings(node[1])
        return None if inner is None else inner | {""}
    if kind == "alt":
        sets = [_spellings(n) for n in node[1]]
        if any(s is None for s in sets):
            return None
        out = frozenset().union(*sets)  # type: ignore[arg-type]
        return out if len(out) <= _MAX_SPELLINGS else None
    if kind == "seq":
        product = {""}
        for child in node[1]:
            part = _spellings(child)
            if part is None:
                return None
            product = {a + b for a in product for b in part}
            if len(product) > _MAX_SPELLINGS:
                return None
        return frozenset(product)
    return None


def _strength(anchors: frozenset[str]) -> tuple[int, int]:
    return (min(len(a) for a in anchors), -len(anchors))


def _literals(node: Node) -> list[str]:
    kind = node[0]
    if kind == "lit":
        return [node[1]]
    if kind in ("seq", "alt"):
        return [lit for child in node[1] for lit in _literals(child)]
    if kind == "opt":
        return _literals(node[1])
    return []


def parse_pattern(text: str, groups: Mapping[str, tuple[str, ...]]) -> Node:
    """The pattern's syntax tree (plain tuples, see ``Node``), for readers other than the regex
    compiler: qc.inspection.sound turns its gap-free runs into syllable automata."""
    return _Parser(text, groups).parse()


def compile_pattern(
    text: str, groups: Mapping[str, tuple[str, ...]], max_gap: int = 8, cross_clauses: bool = False
) -> CompiledPattern:
    """Parse and compile one pattern; raises PatternError with the position of the problem.

    A match stays inside one clause unless ``cross_clauses`` (the rule's ``cross_clauses: true``)."""
    if not isinstance(text, str):
        raise PatternError(f"a pattern must be text, got {type(text).__name__}")
    mark = next((i for i, ch in enumerate(text) if ch in "?？"), None)
    if mark is not None:
        # normalisation drops "?" as punctuation, so "(非常)?抱歉" would silently require 非常
        raise PatternError(f"'?' at position {mark + 1} is not pattern syntax: write an optional part as [...]")
    node = _Parser(text, groups).parse()
    regex = _to_regex(node, max_gap, cross_clauses)
    if not regex or re.fullmatch(regex, ""):
        raise PatternError("pattern can match empty text")
    # A literal of a clause-crossing pattern may be split by a break in the text, so it cannot be a
    # prefilter anchor: such a rule is always tried (there are few).
    anchors = None if cross_clauses else _anchors(node)
    return CompiledPattern(text, re.compile(regex), anchors, tuple(dict.fromkeys(_literals(node))))
