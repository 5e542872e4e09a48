"""The pipeline: route inputs, transcribe recordings, inspect, store in batches, report failures.

Each CLI command is one call here (``score_inputs``, ``transcribe_inputs``); the console and
scripts call the same functions. Guarantees, whatever the input:
- a bad input is one ``Failure`` (file + reason) and every other input is still processed;
- two inputs with the same call_id in one run: the first is kept, the second is a failure naming
  both files (a silent replace once made an agent vanish from the database);
- a result is reported to the caller only after the transaction that stored it committed, so what
  the user sees printed is what the database holds;
- workers hand back plain data (qc.workers), so a crashed or failing worker costs its inputs only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from qc.classify.categories import CallCategorizer
from qc.errors import Failure, InputError, OutputError, QCError, StoreError
from qc.files import describe_os_error
from qc.formats import read_transcript
from qc.inspection.engine import Inspector, call_categorizer, with_categories
from qc.inspection.lexicon import Lexicon
from qc.inspection.rules import ScriptRule
from qc.schema import CallResult, Transcript
from qc.speech.audio import AUDIO_SUFFIXES
from qc.speech.recordings import DEFAULT_NAME_PATTERN, CallMeta, read_manifest, resolve_recordings
from qc.speech.transcribe import CallTranscriber, TranscribeOptions, write_transcript
from qc.store import Store
from qc.store.rows import CallRows, rows_of
from qc.workers import Task, run_in_workers

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".csv"
TRANSCRIPT_SUFFIX = ".json"
# Below this many transcripts, starting worker processes costs more than it saves.
PARALLEL_FROM = 200

Scored = tuple[Transcript, CallResult]


@dataclass(frozen=True, slots=True)
class Recognition:
    """How recordings are turned into transcripts: recogniser options, file-name pattern, workers.
    ``ray``: None for the local process pool, else a Ray address (``local``, ``auto``, ``HOST:PORT``)."""

    options: TranscribeOptions = field(default_factory=TranscribeOptions)
    name_pattern: str = DEFAULT_NAME_PATTERN
    jobs: int | None = None
    ray: str | None = None


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the paths named on the command line hold."""

    transcripts: tuple[Path, ...]
    recordings: tuple[CallMeta, ...]
    failures: tuple[Failure, ...]


@dataclass
class BatchSummary:
    """What a run did: counts for the closing line, every failure for the exit status.
    ``on_failure`` is told of each failure as it happens (the CLI prints it)."""

    done: int = 0
    failures: list[Failure] = field(default_factory=list)
    on_failure: Callable[[Failure], None] | None = field(default=None, repr=False)

    def fail(self, failure: Failure) -> None:
        self.failures.append(failure)
        if self.on_failure is not None:
            self.on_failure(failure)


def _start(
    paths: Sequence[str | Path], recognition: Recognition | None, on_failure: Callable[[Failure], None] | None
) -> tuple[Recognition, BatchSummary, Inputs]:
    """The opening of every batch: options, a summary, the inputs, and the problems found in them."""
    recognition = recognition or Recognition()
    summary = BatchSummary(on_failure=on_failure)
    inputs = collect_inputs(paths, recognition.name_pattern)
    for failure in inputs.failures:
        summary.fail(failure)
    return recognition, summary, inputs


def collect_inputs(paths: Iterable[str | Path], name_pattern: str = DEFAULT_NAME_PATTERN) -> Inputs:
    """Transcript files, recordings (with their metadata) and the problems found on the way.

    A folder is searched recursively for ``.json`` transcripts and recordings; a ``.csv`` is a
    manifest of recordings. A missing path, or a folder with nothing to process, is a failure with
    its reason (never a silent exit 1). The same file named twice is processed once.
    """
    transcripts: list[Path] = []
    audio: list[str] = []
    failures: list[Failure] = []
    metas: list[CallMeta] = []
    for raw in paths:
        path = Path(raw)
        suffix = path.suffix.lower()
        if suffix == MANIFEST_SUFFIX:
            for entry in read_manifest(path):
                (failures.append(entry.failure()) if isinstance(entry, InputError) else metas.append(entry))
        elif path.is_dir():
            # not is_dir() rather than is_file(): a broken link named *.json is reported, not skipped
            found = sorted(q for q in path.rglob("*") if not q.is_dir() and _wanted(q))
            if not found:
                failures.append(Failure(str(path), "no transcripts (.json) or recordings (.wav, .mp3…) in this folder"))
            transcripts += [q for q in found if q.suffix.lower() == TRANSCRIPT_SUFFIX]
            audio += [str(q) for q in found if q.suffix.lower() in AUDIO_SUFFIXES]
        elif not path.exists():
            failures.append(Failure(str(path), "no such file or folder"))
        elif suffix in AUDIO_SUFFIXES:
            audio.append(str(path))
        else:
            transcripts.append(path)
    for entry in resolve_recordings(audio, name_pattern):
        (failures.append(entry.failure()) if isinstance(entry, InputError) else metas.append(entry))
    return Inputs(tuple(_unique_paths(transcripts)), tuple(_unique_metas(metas)), tuple(failures))


def _wanted(path: Path) -> bool:
    suffix = path.suffix.lower()
    return (suffix == TRANSCRIPT_SUFFIX or suffix in AUDIO_SUFFIXES) and not path.name.startswith(".")


def _unique_paths(paths: list[Path]) -> Iterator[Path]:
    seen: set[str] = set()
    for p in paths:
        key = os.path.realpath(p)  # never raises, a symlink loop included (Path.resolve does)
        if key not in seen:
            seen.add(key)
            yield p


def _unique_metas(metas: list[CallMeta]) -> Iterator[CallMeta]:
    seen: set[tuple[str, str]] = set()
    for m in metas:
        key = (os.path.realpath(m.path), m.call_id)
        if key not in seen:
            seen.add(key)
            yield m


def protected_terms(lexicon: Lexicon) -> tuple[list[str], list[str]]:
    """(words the recogniser's homophone correction protects, company names), from the lexicon:
    the company names, ``asr.yaml``'s domain words, and the script lines' literals (≥ 4 characters).
    Never a banned phrase: correction must not be able to create a violation."""
    terms = list(lexicon.settings.company) + list(lexicon.asr_terms)
    for rule in lexicon.rules:
        if isinstance(rule, ScriptRule):
            terms += [lit for p in rule.patterns for lit in p.literals if len(lit) >= 4]
    return sorted(set(terms)), list(lexicon.settings.company)


class DuplicateGuard:
    """The first input with a call_id wins; a later one is a failure naming both files."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}

    def check(self, call_id: str, source: str) -> Failure | None:
        earlier = self.first.setdefault(call_id, source)
        if earlier == source:
            return None
        return Failure(source, f"duplicate call_id {call_id!r}: {earlier} has it too; kept that one, skipped this one")


def _first_of_each(metas: Sequence[CallMeta], fail: Callable[[Failure], None]) -> list[CallMeta]:
    """Recordings with a call_id already seen are failures before any time is spent on them."""
    guard = DuplicateGuard()
    kept = []
    for meta in metas:
        duplicate = guard.check(meta.call_id, os.path.realpath(meta.path))
        if duplicate is None:
            kept.append(meta)
        else:
            fail(duplicate)
    return kept


# --- worker tasks (module-level functions, so they pickle by name) -------------------------------


@dataclass(frozen=True, slots=True)
class ScoredCall:
    """A scored transcript file as a worker hands it back: the rows to store and the result to report."""

    rows: CallRows
    result: CallResult


def _setup_scoring(lexicon: Lexicon) -> tuple[Inspector, CallCategorizer | None]:
    # The validated lexicon itself travels to the workers: never read again from disk, where it
    # may have been edited since the run started. Each worker finds call categories too, a chunk at
    # a time, so the main process only writes.
    return Inspector(lexicon, categorize=False), call_categorizer(lexicon, lexicon.settings.learned_layer)


def _score_file(state: object, path: Path) -> ScoredCall:
    return _score_transcripts(state, [read_transcript(path)])[0]


def _score_files(state: object, paths: Sequence[Path]) -> list[ScoredCall | Failure]:
    """A chunk of transcript files: read each (a bad file is its own Failure), then score them
    together (one learned-layer call, one categorizer call for the chunk)."""
    outcomes: list[ScoredCall | Failure | None] = [None] * len(paths)
    read: list[tuple[int, Transcript]] = []
    for k, path in enumerate(paths):
        try:
            read.append((k, read_transcript(path)))
        except QCError as err:
            outcomes[k] = Failure(getattr(err, "path", None) or str(path), getattr(err, "reason", None) or str(err))
    for (k, _), scored in zip(read, _score_transcripts(state, [t for _, t in read]), strict=True):
        outcomes[k] = scored
    return outcomes  # type: ignore[return-value]


def _score_transcripts(state: object, transcripts: list[Transcript]) -> list[ScoredCall]:
    inspector, categorizer = state  # type: ignore[misc]
    pairs = with_categories(categorizer, list(zip(transcripts, inspector.score_many(transcripts), strict=True)))
    return [ScoredCall(rows_of(t, r), r) for t, r in pairs]


def _setup_recognition(
    options: TranscribeOptions, lexicon: Lexicon, score: bool
) -> tuple[CallTranscriber, Inspector | None]:
    terms, company = protected_terms(lexicon)
    return CallTranscriber(options, terms, company), Inspector(lexicon, categorize=False) if score else None


def _recognise(state: object, meta: CallMeta) -> Scored | Transcript:
    transcriber, inspector = state  # type: ignore[misc]
    transcript = transcriber.transcribe(meta)
    if inspector is None:
        return transcript
    if not transcript.utterances:
        raise InputError(meta.path, "no speech found (silent recording); nothing to score")
    return transcript, inspector.score(transcript)


def _run_recordings(
    task: Task[CallMeta, Scored] | Task[CallMeta, Transcript],
    recordings: Sequence[CallMeta],
    jobs: int,
    ray: str | None,
) -> Iterator[Scored | Transcript | Failure]:
    """Each recording's outcome: the local process pool (in order), or Ray at ``ray`` (as they finish;
    recordings already transcribed under the same settings are taken from the cache, nothing submitted)."""
    if ray is None:
        return run_in_workers(task, recordings, jobs, chunk=1)
    from qc.cluster.recordings import recognise_on_ray

    return recognise_on_ray(task, recordings, ray, jobs)


def _name_path(path: Path) -> str:
    return str(path)


def _name_meta(meta: CallMeta) -> str:
    return meta.path


def _per_worker(recognition: Recognition, count: int) -> tuple[TranscribeOptions, int]:
    """Worker count and the threads each gets, so that together they use every core once."""
    cores = os.cpu_count() or 1
    jobs = max(1, min(recognition.jobs or cores, count))
    threads = max(1, cores // jobs)
    options = recognition.options
    return replace(options, asr=replace(options.asr, cpu_threads=threads)), jobs


# --- commands ------------------------------------------------------------------------------------


def score_inputs(
    paths: Sequence[str | Path],
    lexicon: Lexicon,
    store: Store,
    recognition: Recognition | None = None,
    on_result: Callable[[CallResult], None] | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    commit_every: int = 200,
) -> BatchSummary:
    """Score transcripts and recordings and store every result (``qc score``).

    ``on_result`` sees each result once it is stored; ``on_failure`` each failure as it happens;
    ``on_progress(stage, done, total)`` drives a progress display. A database error stops the
    batch (raised as StoreError after everything stored so far is committed and reported).
    """
    recognition, summary, inputs = _start(paths, recognition, on_failure)
    fail = summary.fail
    guard = DuplicateGuard()
    pending: list[Scored | ScoredCall] = []
    from qc.review.desk import ReviewDesk

    categorizer: CallCategorizer | None = None  # built on the first batch (the classifier takes a second)
    categorizer_built = False
    desk = ReviewDesk(store, lexicon)
    store.note_ruleset(lexicon.version, lexicon.root, lexicon.fingerprints)

    def flush() -> None:
        if not pending:
            return
        nonlocal categorizer, categorizer_built
        recognised = [p for p in pending if isinstance(p, tuple)]  # recordings: categories found here
        if recognised and not categorizer_built:
            categorizer, categorizer_built = call_categorizer(lexicon, lexicon.settings.learned_layer), True
        found = iter(with_categories(categorizer, recognised))
        batch = [p if isinstance(p, ScoredCall) else _as_stored(next(found)) for p in pending]
        batch = _unlocked(store, batch, fail)
        saved = save_batch(store, batch, lexicon.root, fail) if batch else []
        # human work (verdicts, missed findings) is applied again to the calls just re-scored
        for line in desk.carry_over([s.rows.call_id for s in saved]):
            log.warning("%s", line)
        for stored in saved:
            summary.done += 1
            if on_result is not None:
                on_result(stored.result)
        pending.clear()

    def take(outcomes: Iterator[Scored | ScoredCall | Failure], stage: str, total: int) -> None:
        for done, outcome in enumerate(outcomes, start=1):
            if isinstance(outcome, Failure):
                fail(outcome)
            else:
                call_id, source = _identity(outcome)
                duplicate = guard.check(call_id, source)
                if duplicate is not None:
                    fail(duplicate)
                else:
                    pending.append(outcome)
                    if len(pending) >= commit_every:
                        flush()
            if on_progress is not None:
                on_progress(stage, done, total)
        flush()

    transcripts = inputs.transcripts
    if transcripts:
        task: Task[Path, ScoredCall] = Task(_setup_scoring, (lexicon,), _score_file, _name_path, _score_files)
        jobs = recognition.jobs if len(transcripts) >= PARALLEL_FROM else 1
        take(run_in_workers(task, transcripts, jobs), "scoring", len(transcripts))
    recordings = _first_of_each(inputs.recordings, fail)
    if recordings:
        options, jobs = _per_worker(recognition, len(recordings))
        rtask: Task[CallMeta, Scored] = Task(_setup_recognition, (options, lexicon, True), _recognise, _name_meta)
        log.info("transcribing %d recording(s) with %d worker(s)", len(recordings), jobs)
        # one recording at a time per worker: recordings differ in length by minutes, so fixed shares would
        # leave one worker idle while the other finishes its half
        take(_run_recordings(rtask, recordings, jobs, recognition.ray), "transcribing", len(recordings))  # type: ignore[arg-type]
    return summary


def _identity(outcome: Scored | ScoredCall) -> tuple[str, str]:
    """(call_id, the file it came from) of a scored call, for the duplicate check."""
    if isinstance(outcome, ScoredCall):
        return outcome.rows.call_id, outcome.rows.call.get("source") or "?"
    return outcome[0].call_id, outcome[0].source or "?"


def _as_stored(scored: Scored) -> ScoredCall:
    return ScoredCall(rows_of(*scored), scored[1])


def _unlocked(store: Store, batch: list[ScoredCall], fail: Callable[[Failure], None]) -> list[ScoredCall]:
    """The calls whose month is not locked (qc month lock); each other one is a failure: a locked
    month's results never change."""
    from sqlalchemy import select

    from qc.store.tables import month_locks

    with store.engine.connect() as conn:
        locked = {m for (m,) in conn.execute(select(month_locks.c.month))}
    if not locked:
        return batch
    kept = []
    for item in batch:
        month = item.rows.call["month"]
        if month in locked:
            fail(Failure(item.rows.label, f"{month} is locked (qc month lock); not scored again"))
        else:
            kept.append(item)
    return kept


def save_batch(
    store: Store, batch: list[ScoredCall], lexicon_root: str, fail: Callable[[Failure], None]
) -> list[ScoredCall]:
    """Store a batch in one transaction; returns what was stored.

    If the batch is refused, each call is tried on its own, so one call the database will not take
    is a failure of that call alone. If none can be stored the database itself is the problem
    (disk full, connection lost): the error is raised and the batch stops.
    """
    try:
        store.save_rows([item.rows for item in batch], lexicon_root)
        return batch
    except StoreError as err:
        if len(batch) == 1:
            raise
        log.warning("storing a batch of %d failed (%s); storing one by one", len(batch), err)
        first_error = err
    stored = []
    errors = []
    for item in batch:
        try:
            store.save_rows([item.rows], lexicon_root)
            stored.append(item)
        except StoreError as err:
            errors.append((item, err))
    if not stored:
        raise first_error
    for item, err in errors:
        fail(Failure(item.rows.label, f"not stored: {err}"))
    return stored


def transcribe_inputs(
    paths: Sequence[str | Path],
    out_dir: Path,
    lexicon: Lexicon,
    recognition: Recognition | None = None,
    on_written: Callable[[Transcript, Path], None] | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> BatchSummary:
    """Transcribe recordings into SPEC §1 files in ``out_dir`` (``qc transcribe``).

    The output folder is checked before any recording is transcribed, so an unwritable folder is
    one OutputError, not an hour of recognition followed by one error per file.
    """
    check_writable(out_dir)
    recognition, summary, inputs = _start(paths, recognition, on_failure)
    fail = summary.fail
    # A transcript named on the command line is a mistake; one found in a folder is usually this
    # command's own output from an earlier run (--out inside the recordings folder) and is left alone.
    named = {os.path.realpath(p) for p in paths}
    for path in inputs.transcripts:
        if os.path.realpath(path) in named:
            fail(Failure(str(path), "not a recording (qc transcribe takes audio files, folders or a manifest .csv)"))
    recordings = _first_of_each(inputs.recordings, fail)
    options, jobs = _per_worker(recognition, len(recordings))
    task: Task[CallMeta, Transcript] = Task(_setup_recognition, (options, lexicon, False), _recognise, _name_meta)
    total = len(recordings)
    outcomes = _run_recordings(task, recordings, jobs, recognition.ray)  # one recording per task: see score_inputs
    for done, outcome in enumerate(outcomes, start=1):
        if isinstance(outcome, Failure):
            fail(outcome)
        else:
            transcript: Transcript = outcome  # type: ignore[assignment]
            written = write_transcript(transcript, out_dir)  # call_ids are unique: _first_of_each
            summary.done += 1
            if not transcript.utterances:
                fail(Failure(transcript.source or "?", "no speech found (silent recording); empty transcript written"))
            if on_written is not None:
                on_written(transcript, written)
        if on_progress is not None:
            on_progress("transcribing", done, total)
    return summary


def check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be written there; OutputError otherwise."""
    probe = folder / f".qc-write-test-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise OutputError(f"cannot write to {folder}: {describe_os_error(err)}") from None


# --- reports over the stored results ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """A report that was written: where, and how much it holds."""

    path: Path
    rows: int
    agents: int = 0
    also: Path | None = None
    matched: int = 0  # rows that matched before --limit cut them (0: nothing was cut)


def monthly_report(
    store: Store,
    month: str,
    out_path: Path,
    pass_mark: float,
    agent: str | None = None,
    mask: bool = True,
    call_category: str | None = None,
    rule_names: Mapping[str, str] | None = None,
    lexicon: Lexicon | None = None,
) -> Written:
    """The month's quality sheets (服务质量综合考评表) as .xlsx or .csv (``qc report monthly``), with
    final scores, review and appeals per agent, rule precision and adjustments for earlier months,
    teams, the last months' averages (whatever run stored them) and, given ``lexicon``, the title
    block's centre, scoring in words and each hit's 考评项.

    A locked month is shown as it stood at its lock time (review figures, names, last month's
    scores), so its sheet made later is the same. ``rule_names``: rule id → name (the lexicon's), for
    judged rules that have no hit left in the month.
    """
    from qc.errors import ReportError
    from qc.reports.monthly import TREND_MONTHS, SheetFacts, build_monthly
    from qc.reports.monthly_facts import sheet_facts
    from qc.reports.write import write_monthly_csv, write_monthly_xlsx
    from qc.store import load_month, previous_month
    from qc.store.history import load_agent_teams, load_inspectors, load_month_averages, months_before
    from qc.store.queries import load_month_review, month_lock, scores_as_of

    suffix = out_path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ReportError(f"{out_path}: the monthly report is written as .xlsx or .csv")
    lock = month_lock(store, month)
    calls, hits = load_month(store, month, agent, call_category, names_as_called=lock is not None)
    if calls.empty:
        who = (f" and agent {agent}" if agent else "") + (
            f" and call category {call_category}" if call_category else ""
        )
        raise ReportError(f"no scored calls for {month}{who} in {store.display()}; nothing written")
    # last month in full only for a locked month (its scores as they stood at the lock); the trend
    # itself is averaged in the database (load_month_averages)
    previous = load_month(store, previous_month(month), agent, call_category)[0] if lock is not None else None
    if previous is not None and len(previous):  # last month's scores as they stood when this one was locked
        then = scores_as_of(store, previous_month(month), lock[0], agent)
        previous["score"] = previous["call_id"].map(then).fillna(previous["score"])
    review = load_month_review(store, month, agent, call_category)
    history = load_month_averages(store, months_before(month, TREND_MONTHS), agent, call_category)
    if previous is not None and len(previous):  # last month as it stood at the lock (see above)
        then = previous.groupby("agent_id")["score"].mean()
        last = history["month"] == previous_month(month)
        history.loc[last, "avg_score"] = history.loc[last, "agent_id"].map(then).to_numpy()
    inspectors = load_inspectors(store, month)
    facts = sheet_facts(lexicon, inspectors) if lexicon is not None else SheetFacts(inspectors=tuple(inspectors))
    built = build_monthly(
        month, calls, hits, previous, pass_mark, mask=mask, review=review, rule_names=rule_names,
        teams=load_agent_teams(store), history=history, facts=facts, per_agent=suffix == ".xlsx",
    )  # fmt: skip
    if suffix == ".xlsx":
        write_monthly_xlsx(built, out_path)
        return Written(out_path, len(calls), len(built.summary))
    also = write_monthly_csv(built, out_path)
    return Written(out_path, len(calls), len(built.summary), Path(also))


def examples_report(
    store: Store,
    out_path: Path,
    category: str | None = None,
    rule: str | None = None,
    agent: str | None = None,
    month: str | None = None,
    limit: int | None = 200,
    mask: bool = True,
    call_category: str | None = None,
    *,
    week: str | None = None,
    item: str | None = None,
    lexicon: Lexicon | None = None,
) -> Written:
    """Violation examples for trainers (``qc examples``): .html with clips, .xlsx, .csv or .jsonl.

    ``week`` (ISO, 2026-W45): calls of that week. ``item`` (a 考评项 of the scorecard, 服务态度…):
    hits of the rules that count against it, per ``lexicon`` (required with ``item``; it also
    gives the manual's line of hits stored without one). ``Written.matched``: how many hits matched
    when ``limit`` cut the list (0 when it did not).
    """
    from qc.errors import ReportError
    from qc.reports.examples import build_examples
    from qc.reports.examples_write import write_examples
    from qc.store import load_hits
    from qc.store.history import iso_week_range
    from qc.store.queries import count_hits

    span = iso_week_range(week) if week else None
    rules = None
    if item is not None:
        if lexicon is None:
            raise ReportError("--item needs the lexicon (its scorecard says which rules count against each item)")
        names = [i.name for i in lexicon.scorecard.items]
        if item not in names:
            raise ReportError(f"unknown 考评项 {item!r}; the scorecard has: {'、'.join(names) or 'none'}")
        card = lexicon.scorecard
        rules = {r.info.id for r in lexicon.rules if card.item_of(r.info.category, r.info.item) == item}
    rows = load_hits(store, category, rule, agent, month, limit, call_category, week=span, rules=rules)
    if not rows:
        raise ReportError("no stored hits match these filters; nothing written")
    total = len(rows)
    if limit and len(rows) >= limit:
        total = count_hits(store, category, rule, agent, month, call_category, week=span, rules=rules)
    sources = {r.info.id: r.info.source for r in lexicon.rules if r.info.source} if lexicon is not None else {}
    write_examples(build_examples(rows, mask=mask, rule_sources=sources), out_path, total=total)
    return Written(out_path, len(rows), matched=total if total > len(rows) else 0)


def sample_report(
    store: Store,
    month: str,
    out_path: Path,
    per_agent: int = 5,
    random_share: float = 0.4,
    seed: int = 0,
    agent: str | None = None,
    *,
    assign_to: Sequence[str] | None = None,
    assign_all: bool = False,
    by: str | None = None,
    reassign: bool = False,
    include_reviewed: bool = False,
    low_below: float = 60.0,
) -> Written:
    """The calls inspectors should listen to (``qc sample``), in the review queue's order
    (qc.review.queue: suspected hits, vetoes, unsure roles, low scores, complaints, then random).

    With ``assign_to`` (inspector names) or ``assign_all`` (every inspector) the queue is also dealt
    round-robin into ``assignments`` by ``by``, a QA lead or admin, and the list gains a 质检员 column;
    the database is written first, so a list that fails to write can be made again (the calls stay
    assigned). Without them nothing is written to the database.
    """
    from dataclasses import asdict

    import pandas as pd

    from qc.errors import ReportError
    from qc.reports.sampling import write_sample
    from qc.review.queue import REASON_LABELS, assign, build_queue
    from qc.review.users import ReviewError

    if out_path.suffix.lower() not in (".csv", ".xlsx"):
        raise ReportError(f"{out_path}: the listening list is written as .csv or .xlsx")
    assigning = assign_to is not None or assign_all
    if assigning and not by:
        raise ReviewError("assigning the queue needs --by (a QA lead or admin)")
    queue = build_queue(
        store, month, per_agent, random_share, seed, agent, low_below, include_reviewed=include_reviewed
    )
    if not queue:
        skipped = "" if include_reviewed else " (fully reviewed calls are left out; --include-reviewed lists them)"
        raise ReportError(f"no scored calls to review for {month} in {store.display()}{skipped}; nothing written")
    picked = pd.DataFrame([asdict(q) for q in queue])
    picked["reason"] = [REASON_LABELS[r] for r in picked["reason"]]
    if assigning:
        settings = {"per_agent": per_agent, "random_share": random_share, "seed": seed, "agent": agent}
        done = assign(store, month, queue, str(by), None if assign_all else assign_to, reassign, settings)
        picked["inspector"] = [done.assigned.get(c) or done.kept.get(c) for c in picked["call_id"]]
        log.info(
            "assigned %d call(s) to %s (%d moved); %d already assigned kept",
            len(done.assigned), ", ".join(done.inspectors), done.reassigned, len(done.kept),
        )  # fmt: skip
    return Written(out_path, write_sample(picked, out_path))
