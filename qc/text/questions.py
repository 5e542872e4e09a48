"""Is a clause a question? Read from the words, because punctuation is unreliable.

Recognised speech often has no question mark, and normalisation turns every punctuation run into
one clause break; so a clause is a question by its words: a final particle (吗/呢/么/嘛), an
A-not-A form (有没有, 是不是, 需不需要…), 请问, or a question word (什么/哪/多少) in a clause that is not a
condition or an invitation (如果还有什么问题，可以随时打过来 is a statement, not the closing question
the manual asks for: 请问您还有什么需要帮助？).
"""

from __future__ import annotations

import re

from qc.text.normalize import CLAUSE_BREAK, UTTERANCE_BREAK

_FINAL_PARTICLE = re.compile(r"[吗么呢嘛][啊呀哈]?$")
_ASKING = re.compile(r"请问|([有是要需能会可好对行])[没不]\1|需不需要|可不可以|有没")
_QUESTION_WORD = re.compile(r"什么|哪些|哪里|哪方面|哪个|多少|几")
_STATEMENT = re.compile(
    r"如果|要是|假如|万一|的话|随时|欢迎|可以(再|直接)?(打|拨|来电|联系|致电|咨询)|再(打|拨|来电|联系)"
)


def clause_at(text: str, start: int, end: int) -> str:
    """The clause of normalised ``text`` holding ``text[start:end]`` (clause or utterance breaks bound it;
    a match that itself crosses a break gets every clause it touches)."""
    lo = max(text.rfind(CLAUSE_BREAK, 0, start), text.rfind(UTTERANCE_BREAK, 0, start)) + 1
    ends = [p for p in (text.find(CLAUSE_BREAK, end), text.find(UTTERANCE_BREAK, end)) if p >= 0]
    return text[lo : min(ends) if ends else len(text)]


def is_question(clause: str) -> bool:
    """Whether a normalised clause asks (see the module docstring)."""
    if _FINAL_PARTICLE.search(clause) or _ASKING.search(clause):
        return True
    return bool(_QUESTION_WORD.search(clause)) and not _STATEMENT.search(clause)


def is_question_at(text: str, start: int, end: int) -> bool:
    """Whether the clause holding ``text[start:end]`` asks."""
    return is_question(clause_at(text, start, end))
