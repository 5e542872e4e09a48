"""Text normalisation: the one place where transcripts and lexicon patterns are made comparable.

Typed transcripts, ASR output with spaces between words, punctuation or none, traditional or
simplified characters, full-width letters, 工号 read digit by digit in Chinese (幺零二四) — all of
them must score the same. Every step here is either one character for one character (script,
width, case, digits) or a deletion (spaces, punctuation), so a position in the normalised text
maps back to the original through a short list of shifts, and each hit can quote the raw
transcript exactly.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import opencc

# Runs of characters that never take part in a match: whitespace, punctuation, symbols, "_".
_DROP = re.compile(r"[\W_]+")
# A dropped run that contains anything but whitespace ends a clause (，。！？ etc.).
_SPACE_ONLY = re.compile(r"\s+")
# Digits read one by one, as 工号 and phone numbers are (幺零二四, 一三八…). Three or more in a
# row so that words like 一二线 or 三五 are left alone.
_CN_DIGIT_RUN = re.compile(r"[〇零幺一二两三四五六七八九]{3,}")
_CN_DIGITS = str.maketrans("〇零幺一二两三四五六七八九", "001122345678" + "9")


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


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """Normalised text plus what is needed to point back into the original."""

    original: str
    text: str
    # (normalised position, characters removed before it) at every place text was removed.
    shifts: tuple[tuple[int, int], ...]
    # Normalised positions where a clause begins (start of text, or after punctuation).
    clause_starts: frozenset[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span [start, end) to the span of the original text."""
        if not self.shifts:
            return start, end
        return self._orig(start), self._orig(end - 1) + 1 if end > start else self._orig(start)

    def _orig(self, pos: int) -> int:
        i = bisect_right(self.shifts, (pos, 1 << 30)) - 1
        return pos + (self.shifts[i][1] if i >= 0 else 0)

    def clause_end(self, pos: int) -> int:
        """Normalised position where the clause containing ``pos`` ends."""
        after = [s for s in self.clause_starts if s > pos]
        return min(after) if after else len(self.text)


def fold(text: str) -> str:
    """The 1:1 part of normalisation that needs no context: script, width and case."""
    return to_simplified(text).translate(_WIDTH_AND_CASE)


def spoken_digits_to_arabic(text: str) -> str:
    """幺零二四 → 1024 for runs of three or more (1:1), after spaces and punctuation are gone."""
    return _CN_DIGIT_RUN.sub(_spoken_digits, text)


def normalize(text: str) -> NormalizedText:
    """Normalise one utterance for matching; see the module docstring for what changes."""
    folded = fold(text)
    shifts: list[tuple[int, int]] = []
    clause_starts = {0}
    parts: list[str] = []
    removed = 0
    last = 0
    for m in _DROP.finditer(folded):
        parts.append(folded[last : m.start()])
        norm_pos = m.start() - removed
        removed += m.end() - m.start()
        shifts.append((norm_pos, removed))
        if not _SPACE_ONLY.fullmatch(m.group(0)):
            clause_starts.add(norm_pos)
        last = m.end()
    if not shifts:
        return NormalizedText(text, spoken_digits_to_arabic(folded), (), frozenset(clause_starts))
    parts.append(folded[last:])
    joined = spoken_digits_to_arabic("".join(parts))
    return NormalizedText(text, joined, tuple(shifts), frozenset(clause_starts))


def normalize_pattern_text(text: str) -> str:
    """Normalise a literal taken from a lexicon pattern exactly as transcripts are normalised."""
    return normalize(text).text
