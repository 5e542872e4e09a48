"""Text normalisation: the one place where transcripts and lexicon patterns are made comparable.

Typed transcripts, ASR output with spaces between words, punctuation or none, traditional or
simplified characters, full-width letters, 工号 read digit by digit in Chinese (幺零二四) — all of
them must score the same. Every step here is either one character for one character (script,
width, case, digits) or a deletion (spaces, symbols), so a position in the normalised text maps
back to the original through a short list of shifts, and each hit can quote the raw transcript
exactly.

Clause boundaries survive: a run of punctuation (，。！？；：、… and the like) becomes one
``CLAUSE_BREAK`` character, so a pattern never matches across two clauses (这个箱子偏大点，声明价值
is not 大点声) unless its rule says so, and ``clause_start`` means a real clause start. Spaces are
dropped like any other separator that is no punctuation (ASR writes them between words).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import opencc

from qc.text.numbers import CN_DIGIT_VALUES, CN_DIGITS

# Runs of characters that never take part in a match: whitespace, punctuation, symbols, "_".
# "\n" is kept: it separates the utterances of a call joined into one text, and no pattern
# (nor a "*" gap, which is "." without DOTALL) can match across it.
_DROP = re.compile(r"[^\w\n]+|_+")
UTTERANCE_BREAK = "\n"
# What a run of punctuation becomes: one character that no pattern literal contains and no "*"
# gap crosses. ("|" cannot occur otherwise: _DROP removes every symbol.)
CLAUSE_BREAK = "|"
# A dropped run that contains anything but whitespace (and "_") ends a clause (，。！？ etc.).
_NOT_A_CLAUSE_END = re.compile(r"[\s_]+")


def _is_clause_end(run: str) -> bool:
    return not _NOT_A_CLAUSE_END.fullmatch(run)


# The same runs as _DROP, in two C-level passes instead of a Python call per run: first every run
# holding a punctuation mark becomes CLAUSE_BREAK, then what is left (blanks, "_") goes.
# (Blanks before the first mark are left to the second pass, which drops them anyway: a leading
# "[^\w\n]*" made the regex try, and fail, at every character of the text.)
_CLAUSE_RUN = re.compile(r"[^\w\s][^\w\n]*")
_BLANKS = re.compile(r"[^\w\n" + re.escape(CLAUSE_BREAK) + r"]+|_+")


# Digits read one by one, as 工号 and phone numbers are (幺零二四, 一三八…). Three or more in a
# row so that words like 一二线 or 三五 are left alone.
_CN_DIGIT_RUN = re.compile(f"[{CN_DIGITS}]{{3,}}")
_CN_DIGITS = str.maketrans(CN_DIGITS, CN_DIGIT_VALUES)


def _width_and_case_table() -> dict[int, int]:
    table = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # full-width ASCII
    table[0x3000] = 0x20  # ideographic space
    for cp in range(ord("A"), ord("Z") + 1):
        table[cp] = cp + 32
    for cp in range(0xFF21, 0xFF3B):  # full-width capitals straight to lower case
        table[cp] = cp - 0xFEE0 + 32
    return table


_WIDTH_AND_CASE = _width_and_case_table()


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified, guaranteed one character for one character.

    OpenCC converts phrases first; when a phrase conversion changes the length (rare) the text
    is converted character by character instead, so offsets stay valid.
    """
    if text.isascii():
        return text
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(ch if len(c := _t2s().convert(ch)) != 1 else c for ch in text)


def _spoken_digits(match: re.Match[str]) -> str:
    return match.group(0).translate(_CN_DIGITS)


class NormalizedText:
    """Normalised text plus what is needed to point back into the original.

    Immutable. The offset map (``shifts``) and the clause starts are computed on first use:
    most utterances have no hit and never need them.
    """

    __slots__ = ("original", "folded", "text", "_shifts", "_clause_starts", "_clause_order", "_lines")

    def __init__(self, original: str, folded: str, text: str) -> None:
        self.original = original
        self.folded = folded  # 1:1 with original: script, width, case
        self.text = text
        self._shifts: tuple[tuple[int, int], ...] | None = None
        self._clause_starts: frozenset[int] | None = None
        self._clause_order: list[int] | None = None
        self._lines: tuple[list[int], list[int]] | None = None

    def __repr__(self) -> str:
        return f"NormalizedText({self.text!r})"

    @property
    def shifts(self) -> tuple[tuple[int, int], ...]:
        """(normalised position, characters removed before it) at every place text was removed."""
        if self._shifts is None:
            shifts = []
            removed = 0
            for m in _DROP.finditer(self.folded):
                start, end = m.span()
                if _is_clause_end(m.group(0)):
                    # the run's first punctuation mark stays, as CLAUSE_BREAK; blanks before it go
                    lead = _NOT_A_CLAUSE_END.match(m.group(0))
                    if lead:
                        shifts.append((start - removed, removed := removed + lead.end()))
                        start += lead.end()
                    start += 1
                if end > start:
                    shifts.append((start - removed, removed := removed + end - start))
            self._shifts = tuple(shifts)
        return self._shifts

    @property
    def clause_starts(self) -> frozenset[int]:
        """Normalised positions where a clause begins: the start, and after every clause or utterance break."""
        if self._clause_starts is None:
            starts = {0}
            starts.update(p + 1 for p in _find_all(self.text, CLAUSE_BREAK))
            starts.update(p + 1 for p in _find_all(self.text, UTTERANCE_BREAK))
            self._clause_starts = frozenset(starts)
        return self._clause_starts

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span [start, end) to the span of the original text."""
        if self.folded == self.text or not self.shifts:
            return start, end
        return self._orig(start), self._orig(end - 1) + 1 if end > start else self._orig(start)

    def _orig(self, pos: int) -> int:
        i = bisect_right(self.shifts, (pos, 1 << 30)) - 1
        return pos + (self.shifts[i][1] if i >= 0 else 0)

    def clause_end(self, pos: int) -> int:
        """Normalised position where the clause containing ``pos`` ends."""
        if self._clause_order is None:
            self._clause_order = sorted(self.clause_starts)
        k = bisect_right(self._clause_order, pos)
        end = self._clause_order[k] if k < len(self._clause_order) else len(self.text)
        return end - 1 if end > 0 and self.text[end - 1] in (UTTERANCE_BREAK, CLAUSE_BREAK) else end

    def original_line(self, pos: int) -> tuple[str, int]:
        """The line of the original text (one utterance of a joined text) holding normalised
        position ``pos``, and where that line starts in the original."""
        if self._lines is None:
            self._lines = (_find_all(self.text, UTTERANCE_BREAK), _find_all(self.original, UTTERANCE_BREAK))
        norm_breaks, raw_breaks = self._lines
        if len(norm_breaks) != len(raw_breaks):  # a lone utterance whose original held a line break
            return self.original, 0
        k = bisect_right(norm_breaks, pos - 1) if pos > 0 else 0
        lo = raw_breaks[k - 1] + 1 if k > 0 else 0
        hi = raw_breaks[k] if k < len(raw_breaks) else len(self.original)
        return self.original[lo:hi], lo

    def utterance_bounds(self, pos: int) -> tuple[int, int]:
        """Normalised [start, end) of the utterance containing ``pos`` (the whole text if only one)."""
        start = self.text.rfind(UTTERANCE_BREAK, 0, pos) + 1
        end = self.text.find(UTTERANCE_BREAK, pos)
        return start, len(self.text) if end < 0 else end


# The characters _WIDTH_AND_CASE changes, replaced one match at a time: Chinese text has a
# full-width mark every dozen characters, and str.translate with a dict costs a failed lookup
# for every other character (twice the time of this).
_NEEDS_WIDTH_OR_CASE = re.compile("[A-Z\u3000\uff01-\uff5e]")
_FOLDED = {chr(k): chr(v) for k, v in _WIDTH_AND_CASE.items()}


def _fold_char(match: re.Match[str]) -> str:
    return _FOLDED[match.group()]


# Variant forms of the same word, written either way in simplified Chinese (OpenCC leaves them):
# one spelling each, so a rule written with 其他 also reads 其它. Each pair has the same length, so
# offsets stay 1:1. Only whole words whose variants mean the same (帐篷 keeps its 帐).
VARIANTS = {
    "其它": "其他",
    "帐号": "账号",
    "帐户": "账户",
    "帐单": "账单",
    "帐目": "账目",
    "对帐": "对账",
    "结帐": "结账",
    "转帐": "转账",
    "查帐": "查账",
    "到帐": "到账",
    "算帐": "算账",
    "部份": "部分",
    "谘询": "咨询",
    "身分证": "身份证",
    "定单": "订单",
    "稍侯": "稍候",
    "惟一": "唯一",
}
_VARIANT = re.compile("|".join(sorted(VARIANTS, key=len, reverse=True)))


def _variant(match: re.Match[str]) -> str:
    return VARIANTS[match.group()]


def fold(text: str) -> str:
    """The 1:1 part of normalisation that needs no context: script, variant forms, width and case."""
    return _NEEDS_WIDTH_OR_CASE.sub(_fold_char, _VARIANT.sub(_variant, to_simplified(text)))


def spoken_digits_to_arabic(text: str) -> str:
    """幺零二四 → 1024 for runs of three or more (1:1), after spaces and punctuation are gone."""
    return _CN_DIGIT_RUN.sub(_spoken_digits, text)


def normalize(text: str) -> NormalizedText:
    """Normalise one utterance for matching; see the module docstring for what changes."""
    return _normalize(text.replace(UTTERANCE_BREAK, " "), text)


def _normalize(text: str, original: str) -> NormalizedText:
    folded = fold(text)
    return NormalizedText(
        original, folded, spoken_digits_to_arabic(_BLANKS.sub("", _CLAUSE_RUN.sub(CLAUSE_BREAK, folded)))
    )


def _find_all(text: str, char: str) -> list[int]:
    out, pos = [], text.find(char)
    while pos >= 0:
        out.append(pos)
        pos = text.find(char, pos + 1)
    return out


@dataclass(frozen=True, slots=True)
class JoinedText:
    """Several utterances normalised as one text, separated by UTTERANCE_BREAK.

    One normalisation and one matching pass per call instead of one per utterance: the
    per-utterance Python overhead, not the matching, is what limits throughput.
    """

    norm: NormalizedText
    indices: tuple[int, ...]  # transcript utterance index of each part
    starts: tuple[int, ...]  # normalised start of each part in norm.text

    def locate(self, pos: int) -> int:
        """Which part (0-based, into ``indices``) holds normalised position ``pos``."""
        return bisect_right(self.starts, pos) - 1

    def part_text(self, k: int) -> str:
        """The normalised text of part ``k`` (exactly ``normalize(texts[k]).text``)."""
        start = self.starts[k]
        return self.norm.text[start : start + self.part_length(k)]

    def part_length(self, k: int) -> int:
        end = self.starts[k + 1] - 1 if k + 1 < len(self.starts) else len(self.norm.text)
        return end - self.starts[k]


def normalize_joined(texts: list[str], indices: list[int]) -> JoinedText:
    """Normalise utterances together; part k of the result is exactly ``normalize(texts[k]).text``."""
    if not texts:
        return JoinedText(NormalizedText("", "", ""), (), ())
    raw = UTTERANCE_BREAK.join(t.replace(UTTERANCE_BREAK, " ") for t in texts)
    norm = _normalize(raw, raw)
    starts = [0, *(p + 1 for p in _find_all(norm.text, UTTERANCE_BREAK))]
    return JoinedText(norm, tuple(indices), tuple(starts))


def normalize_pattern_text(text: str) -> str:
    """Normalise a literal taken from a lexicon pattern exactly as transcripts are normalised (its
    punctuation, if any, dropped: a literal never contains a clause break)."""
    return normalize(text).text.replace(CLAUSE_BREAK, "")


def speech_length(text: str) -> int:
    """Characters actually spoken in normalised text (breaks are not speech)."""
    return len(text) - text.count(CLAUSE_BREAK) - text.count(UTTERANCE_BREAK)
