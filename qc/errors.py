"""Exceptions raised by the qc library.

Library code raises; only ``qc.cli`` prints and chooses exit codes. Every error carries
the file (and where it makes sense the rule id, line or field) so that one line on stderr
tells an inspector what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


class QCError(Exception):
    """Base class of every error qc raises on purpose."""


class InputError(QCError):
    """One input (transcript, manifest row, recording) cannot be processed.

    A batch reports it and goes on with the other inputs.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Exceptions pickle as cls(*args), and args holds the one formatted message: without this a
        # worker process's InputError could not cross back and broke the whole pool.
        return (type(self), (self.path, self.reason))

    def failure(self) -> Failure:
        return Failure(self.path, self.reason)


@dataclass(frozen=True, slots=True)
class Failure:
    """One input that could not be processed: plain data, so it crosses process boundaries unchanged.

    Every stage (reading a transcript, decoding a recording, a worker that died) reports its problem
    as a Failure; the CLI prints each as one line ``error: <path>: <reason>``.
    """

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class LexiconError(QCError):
    """The lexicon folder is invalid; scoring must not start with a broken rulebook."""

    def __init__(self, problems: list[LexiconProblem]) -> None:
        self.problems = problems
        lines = [str(p) for p in problems]
        super().__init__(f"{len(problems)} lexicon problem(s):\n" + "\n".join(lines))

    def __reduce__(self) -> tuple[type, tuple[list[LexiconProblem]]]:
        return (type(self), (self.problems,))


class LexiconProblem:
    """One problem in one lexicon file, with enough location to find it in an editor."""

    __slots__ = ("file", "line", "rule_id", "message")

    def __init__(self, file: str, message: str, line: int | None = None, rule_id: str | None = None) -> None:
        self.file = file
        self.line = line
        self.rule_id = rule_id
        self.message = message

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{where}{rule}: {self.message}"

    def __repr__(self) -> str:
        return f"LexiconProblem({str(self)!r})"


class StoreError(QCError):
    """The results database cannot be opened or written."""


class AudioError(QCError):
    """A recording cannot be decoded."""


class AsrError(QCError):
    """The speech recogniser failed or its model cannot be found."""


class ReportError(QCError):
    """A report or export cannot be produced."""


class SettingError(QCError):
    """A ``QC_*`` setting holds a value qc cannot use."""


class OutputError(QCError):
    """A file qc was asked to write cannot be written (missing or read-only folder, full disk)."""
