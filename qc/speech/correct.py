"""Fix near-homophones of the words that matter, after recognition, by toneless pinyin.

Whisper base hears 中通速递 as 中通宿地, 工号 as 公号, 快件 as 快剑, and 幺零二四 as 102死. Prompting
Whisper with these words made recognition worse (measured: CER up 3–15 points, prompt text
appearing on silence), so qc corrects afterwards: a window of recognised Han characters whose
toneless pinyin is exactly that of a protected term becomes the term. Only whole-term, same-sound
replacements are made, so nothing can appear that was not said (at most a same-sounding word is
respelt). Protected terms are the company names, the opening/closing lines and the domain words of
lexicons/asr.yaml — never the banned phrases, so a correction cannot create a violation (领到 must
stay 领到, not become 领导). After 工号, characters whose syllable is a digit's (死 si → 4) become digits.

Whisper also writes a digit as a near-homophone of it (issue 9: 工号102次 for 幺零二四): 次/此 (ci)
and 是 (shi) for 四, 山/衫 (shan) for 三, 林 (lin) for 零. These count as digits only inside a run
after 工号 that already holds a digit, and never as its first character: 工号是1024 keeps its 是
("the number is"), and 是 only between two digits (1是24), as a trailing 是 is more often 是吧 than 四.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

_DIGIT_SYLLABLES = {
    "ling": "0",
    "yao": "1",
    "yi": "1",
    "er": "2",
    "liang": "2",
    "san": "3",
    "si": "4",
    "wu": "5",
    "liu": "6",
    "qi": "7",
    "ba": "8",
    "jiu": "9",
}


# Syllables Whisper writes for a digit that are not the digit's own (see the module docstring).
_NEAR_DIGIT_SYLLABLES = {"ci": "4", "shi": "4", "shan": "3", "lin": "0"}
# Characters that are numbers themselves (十 shi is ten, not four) or too common to be read as one.
_NOT_NEAR_DIGITS = set("十百千万两")


def _syllables(text: str) -> list[str]:
    return lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars))


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True, slots=True)
class Correction:
    start: int
    original: str
    corrected: str


class HomophoneCorrector:
    """Respell recognised text so that protected terms come out right."""

    def __init__(self, terms: Iterable[str], job_number_word: str = "工号") -> None:
        self._by_sound: dict[tuple[str, ...], str] = {}
        for term in sorted({t for t in terms if len(t) >= 2 and all(_is_han(c) for c in t)}, key=len, reverse=True):
            self._by_sound.setdefault(tuple(_syllables(term)), term)
        self._lengths = sorted({len(k) for k in self._by_sound}, reverse=True)
        self._job = job_number_word

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        """The corrected text (same length as the input) and what was changed."""
        if not text:
            return text, []
        sounds = _syllables(text)
        if len(sounds) != len(text):  # pypinyin grouped something unexpectedly; leave the text alone
            return text, []
        chars = list(text)
        fixes: list[Correction] = []
        i = 0
        while i < len(chars):
            for n in self._lengths:
                if i + n > len(chars):
                    continue
                term = self._by_sound.get(tuple(sounds[i : i + n]))
                window = "".join(chars[i : i + n])
                if term and window != term and all(_is_han(c) for c in window):
                    chars[i : i + n] = list(term)
                    fixes.append(Correction(i, window, term))
                    i += n - 1
                    break
            i += 1
        fixed = "".join(chars)
        fixed, digit_fixes = self._job_digits(fixed, sounds)
        return fixed, fixes + digit_fixes

    def _job_digits(self, text: str, sounds: list[str]) -> tuple[str, list[Correction]]:
        """After 工号, a run that already holds digits: digit-sounding characters become digits (and,
        past the run's first character, near-homophones of digits: 102次 → 1024)."""
        pos = text.find(self._job)
        if pos < 0:
            return text, []
        start = pos + len(self._job)
        end = start
        while end < len(text) and end - start < 8 and self._digit_at(text, sounds, end, first=end == start):
            end += 1
        run = text[start:end]
        if len(run) < 3 or not any(c.isdigit() for c in run):
            return text, []
        digits = "".join(c if c.isdigit() else self._digit(sounds[start + k]) for k, c in enumerate(run))
        if digits == run:
            return text, []
        return text[:start] + digits + text[end:], [Correction(start, run, digits)]

    @staticmethod
    def _digit(sound: str) -> str:
        return _DIGIT_SYLLABLES.get(sound) or _NEAR_DIGIT_SYLLABLES[sound]

    @staticmethod
    def _digit_at(text: str, sounds: list[str], i: int, first: bool) -> bool:
        ch, sound = text[i], sounds[i]
        if ch.isdigit() or sound in _DIGIT_SYLLABLES:
            return True
        if first or sound not in _NEAR_DIGIT_SYLLABLES or ch in _NOT_NEAR_DIGITS or not _is_han(ch):
            return False
        if sound == "shi":  # 是: only between two digits
            return text[i - 1].isdigit() and i + 1 < len(text) and text[i + 1].isdigit()
        return True
