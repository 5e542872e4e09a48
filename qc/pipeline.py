"""Score many transcript files: parallel workers, a progress callback, failures kept per file.

A bad file never stops the batch: it becomes a ``Failure`` (file + reason) and every other call
is still scored and stored. Results are committed every ``commit_every`` calls, so a killed batch
keeps what it committed and a re-run replaces rather than duplicates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from qc.inspection.engine import Inspector
from qc.errors import InputError, QCError
from qc.inspection.lexicon import Lexicon, load_lexicon
from qc.schema import CallResult, Transcript
from qc.formats import read_transcript


@dataclass(frozen=True, slots=True)
class Failure:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


Outcome = tuple[Transcript, CallResult] | Failure

_worker_inspector: Inspector | None = None


def _init_worker(lexicon_root: str) -> None:
    global _worker_inspector
    _worker_inspector = Inspector(load_lexicon(lexicon_root))


def score_file(inspector: Inspector, path: Path) -> Outcome:
    """Read and score one transcript file; any input problem becomes a Failure."""
    try:
        transcript = read_transcript(path)
        return transcript, inspector.score(transcript)
    except InputError as err:
        return Failure(err.path, err.reason)
    except QCError as err:
        return Failure(str(path), str(err))


def _score_chunk(paths: list[str]) -> list[Outcome]:
    assert _worker_inspector is not None
    return [score_file(_worker_inspector, Path(p)) for p in paths]


def _chunks(items: list[Path], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield [str(p) for p in items[i : i + size]]


def score_files(paths: Iterable[Path], lexicon: Lexicon, jobs: int | None = None) -> Iterator[Outcome]:
    """Yield one outcome per input file, in input order. ``jobs``: worker processes (default: cores)."""
    items = list(paths)
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(items) < 200:
        inspector = Inspector(lexicon)
        for path in items:
            yield score_file(inspector, path)
        return
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(lexicon.root,)) as pool:
        for chunk in pool.map(_score_chunk, _chunks(items, 100)):
            yield from chunk


@dataclass
class BatchSummary:
    scored: int = 0
    failures: list[Failure] = field(default_factory=list)


def run_batch(
    paths: Iterable[Path],
    lexicon: Lexicon,
    save: Callable[[list[tuple[Transcript, CallResult]]], object] | None = None,
    emit: Callable[[CallResult], None] | None = None,
    on_progress: Callable[[Outcome], None] | None = None,
    jobs: int | None = None,
    commit_every: int = 200,
) -> BatchSummary:
    """Score, store in batches, emit each result; never stops on a bad input."""
    summary = BatchSummary()
    pending: list[tuple[Transcript, CallResult]] = []
    for outcome in score_files(paths, lexicon, jobs):
        if isinstance(outcome, Failure):
            summary.failures.append(outcome)
        else:
            pending.append(outcome)
            summary.scored += 1
            if emit is not None:
                emit(outcome[1])
            if save is not None and len(pending) >= commit_every:
                save(pending)
                pending = []
        if on_progress is not None:
            on_progress(outcome)
    if save is not None and pending:
        save(pending)
    return summary
