"""Re-scoring stored calls with the current lexicons, keeping human work (``qc rescore``), and
replaying a lexicon edit without writing anything (``qc lexicon diff``).

Both read the transcripts the database already holds — never the files again — in slices of a
thousand calls ordered by call_id (keyset paging: memory stays flat in the number of calls), score
them in worker processes, and compare each new machine result with the stored one:

- a call scored under the current ruleset already is skipped without reading its transcript;
- a call whose hits, score and checks come out the same only has its ruleset noted (one UPDATE
  per slice) — nothing else is written;
- a changed call is stored again, its verdicts, missed findings and appeals are applied again
  (a verdict carries over to the hit with the same hit_id: same rule, utterance and quoted words;
  one whose hit is gone stays in the history and is reported), and it gets a score version with
  cause ``rule change``.

Calls of a locked month are never re-scored (their sheet must not change); they are counted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Text, func, select, type_coerce, update

from qc.errors import Failure
from qc.formats import checks_to_dict, transcript_from_dict
from qc.inspection.engine import Inspector, call_categorizer, with_categories
from qc.inspection.lexicon import Lexicon
from qc.review.edit_scope import EditScope, changed_rules, scope_of
from qc.schema import CallResult, Hit, Transcript, Utterance
from qc.store import Store
from qc.store.tables import (
    appeals,
    calls,
    hits,
    manual_findings,
    month_locks,
    results,
    score_versions,
    verdicts,
)
from qc.workers import Task, WorkerPool

log = logging.getLogger(__name__)

SLICE = 1000
PARALLEL_FROM = 400


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database holds for a call before the replay."""

    call_id: str
    agent_id: str
    month: str | None
    ruleset: str
    scored_at: str
    score: float
    veto: bool
    hits: tuple[tuple[str, str, str, float, bool, str], ...]  # (hit_id, rule_id, status, deduction, veto, text)
    checks: Mapping[str, Any]
    reviewed: bool  # verdicts, missed findings or decided appeals: the stored score is the final one


@dataclass(frozen=True, slots=True)
class Replayed:
    """One call scored again: what was stored and what the current lexicons say."""

    stored: Stored
    item: tuple[str, dict[str, Any], str | None, str | None]  # call_id, transcript JSON, source, audio
    result: CallResult

    @property
    def transcript(self) -> Transcript:
        call_id, data, source, audio = self.item
        return replace(transcript_from_dict(data, f"stored call {call_id}"), source=source, audio=audio)

    @property
    def changed(self) -> bool:
        """The machine result differs from the stored one. For a reviewed call the stored hits and
        score are the final ones, so only which hits there are (and the checks) can be compared."""
        if self.stored.reviewed:
            return (
                _identities(self.result.hits) != {h[:2] + h[5:] for h in self.stored.hits}
                or checks_to_dict(self.result.checks) != self.stored.checks
            )
        return _signature(self.result) != (self.stored.score, self.stored.veto, self.stored.hits, self.stored.checks)


@dataclass(frozen=True, slots=True)
class Slice:
    """Calls of one slice: those scored again, and those the edit cannot touch (qc.review.edit_scope)."""

    replayed: list[Replayed]
    untouched: list[str]


@dataclass(slots=True)
class Progress:
    """Counts of a replay, updated as it goes."""

    seen: int = 0
    current: int = 0  # scored under the current ruleset already: skipped
    untouched: int = 0  # the edit cannot change them: only their ruleset is noted
    scored: int = 0
    changed: int = 0
    locked: int = 0
    failures: list[Failure] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # verdicts whose hit is gone


def _identities(found: Sequence[Hit]) -> set[tuple[str, str, str]]:
    return {(h.hit_id, h.rule_id, h.text) for h in found}


def _signature(r: CallResult) -> tuple[Any, ...]:
    hit_keys = tuple((h.hit_id, h.rule_id, h.status, h.deduction, h.veto, h.text) for h in r.hits)
    return (r.score, r.veto, hit_keys, checks_to_dict(r.checks))


class _Worker:
    """A worker's state: the compiled lexicon, and one probe per set of changed rules."""

    def __init__(self, lexicon: Lexicon) -> None:
        # call categories are found for the changed calls only, batched, in the main process
        self.inspector = Inspector(lexicon, categorize=False)
        self.lexicon = lexicon
        self.scopes: dict[frozenset[str] | None, EditScope] = {}

    def scope(self, changed: frozenset[str] | None) -> EditScope:
        found = self.scopes.get(changed)
        if found is None:
            found = self.scopes[changed] = scope_of(self.lexicon, changed, self.inspector)
        return found


# call_id, transcript (JSON text as stored), source, audio, rules changed (None: all), stored hits as
# (hit_id, rule_id, text, status) of the changed rules, reviewed
Job = tuple[str, Any, str | None, str | None, frozenset[str] | None, frozenset[tuple[str, str, str, str]], bool]


def _setup(lexicon: Lexicon) -> _Worker:
    return _Worker(lexicon)


def _score(worker: object, job: Job) -> CallResult | None:
    """The call scored again, or None when the edit cannot touch it (qc.review.edit_scope)."""
    assert isinstance(worker, _Worker)
    transcript = _to_score(worker, job)
    return None if transcript is None else worker.inspector.score(transcript)


def _score_batch(worker: object, batch: Sequence[Job]) -> list[CallResult | None | Failure]:
    """A chunk of calls: those the edit can touch scored together (one learned-layer call). Any
    error makes the pool run the chunk call by call with ``_score``, which names the call at fault."""
    assert isinstance(worker, _Worker)
    transcripts = [_to_score(worker, job) for job in batch]
    scored = iter(worker.inspector.score_many([t for t in transcripts if t is not None]))
    return [None if t is None else next(scored) for t in transcripts]


def _to_score(worker: _Worker, job: Job) -> Transcript | None:
    """The stored call's transcript, or None when the edit cannot touch it."""
    call_id, text, source, audio, changed, stored, reviewed = job
    data = _decoded(text)
    if changed is not None and not _touched(worker.scope(changed), call_id, data, audio, stored, reviewed):
        return None
    return replace(transcript_from_dict(data, f"stored call {call_id}"), source=source, audio=audio)


def _decoded(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str | bytes) else text


def _name(job: Job) -> str:
    return f"stored call {job[0]}"


def replay(
    store: Store,
    lexicon: Lexicon,
    month: str | None = None,
    agent: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    include_locked: bool = False,
) -> Iterator[Slice]:
    """Yield, slice by slice, the stored calls (of ``month``/``agent``) scored again with
    ``lexicon``, and those the edit cannot touch. Calls of locked months (unless
    ``include_locked``: a replay that writes nothing) and, unless ``force``, calls scored under
    this ruleset already, are counted in ``progress`` and not yielded; ``force`` also re-detects
    every call, whatever the edit."""
    progress = progress if progress is not None else Progress()
    with store.engine.connect() as conn:
        locked = set() if include_locked else {m for (m,) in conn.execute(select(month_locks.c.month))}
        total = conn.execute(_filtered(select(func.count()).select_from(calls), month, agent)).scalar_one()
    task: Task[Job, CallResult | None] = Task(_setup, (lexicon,), _score, _name, _score_batch)
    # a few calls are scored here: starting workers (each compiles the lexicon) would cost more
    with WorkerPool(task, 1 if total < PARALLEL_FROM else jobs) as pool:
        yield from _slices(store, lexicon, month, agent, force, progress, on_progress, pool, locked, total)


def _slices(
    store: Store,
    lexicon: Lexicon,
    month: str | None,
    agent: str | None,
    force: bool,
    progress: Progress,
    on_progress: Callable[[int, int], None] | None,
    pool: WorkerPool[Job, CallResult | None],
    locked: set[str],
    total: int,
) -> Iterator[Slice]:
    after = ""
    changed_since: dict[str, frozenset[str] | None] = {}
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(
                _filtered(
                    select(calls.c.call_id, calls.c.agent_id, calls.c.month, results.c.ruleset,
                           results.c.scored_at, results.c.score, results.c.veto, results.c.checks)
                    .join(results, results.c.call_id == calls.c.call_id)
                    .where(calls.c.call_id > after)
                    .order_by(calls.c.call_id)
                    .limit(SLICE),
                    month, agent,
                )
            ).all()  # fmt: skip
            if not rows:
                return
            first, after = rows[0].call_id, rows[-1].call_id
            progress.seen += len(rows)
            todo = []
            for row in rows:
                if row.month in locked:
                    progress.locked += 1
                elif row.ruleset == lexicon.version and not force:
                    progress.current += 1
                else:
                    todo.append(row)
            if todo:
                stored = _stored(conn, todo, first, after, month, agent)
                texts = _transcripts(conn, first, after, month, agent)
        if todo:
            work: list[Job] = []
            for row in todo:
                if force:
                    changed = None
                elif row.ruleset in changed_since:
                    changed = changed_since[row.ruleset]
                else:
                    changed = changed_since[row.ruleset] = changed_rules(store.fingerprints(row.ruleset), lexicon)
                text, source, audio = texts[row.call_id]
                mine = stored[row.call_id]
                before = frozenset((h[0], h[1], h[5], h[2]) for h in mine.hits if changed and h[1] in changed)
                work.append((row.call_id, text, source, audio, changed, before, mine.reviewed))
            out, untouched = [], []
            for job, outcome in zip(work, pool.map(work), strict=True):
                if isinstance(outcome, Failure):
                    progress.failures.append(outcome)
                elif outcome is None:
                    untouched.append(job[0])
                else:
                    out.append(Replayed(stored[job[0]], (job[0], _decoded(job[1]), job[2], job[3]), outcome))
            progress.scored += len(out)
            progress.untouched += len(untouched)
            yield Slice(out, untouched)
        if on_progress is not None:
            on_progress(progress.seen, total)


def _touched(
    scope: EditScope,
    call_id: str,
    data: Any,
    audio: str | None,
    stored: frozenset[tuple[str, str, str, str]],
    reviewed: bool,
) -> bool:
    """Whether the edit can change this call. The stored transcript was validated when it was
    scored, so it is read here without validating it again (a third of the time): speakers and
    words are all the anchors need."""
    try:
        utterances = tuple(Utterance(u["speaker"], u["text"]) for u in data["utterances"])
        transcript = Transcript(
            call_id, data["agent_id"], utterances, asr=data.get("asr"), audio=audio or data.get("audio")
        )
    except (KeyError, TypeError):  # scoring it will report the problem as a failure of this call
        return True
    return scope.touches(transcript, stored, reviewed)


def _filtered(query: Any, month: str | None, agent: str | None) -> Any:
    if month is not None:
        query = query.where(calls.c.month == month)
    if agent is not None:
        query = query.where(calls.c.agent_id == agent)
    return query


def _transcripts(
    conn: Any, first: str, last: str, month: str | None, agent: str | None
) -> dict[str, tuple[Any, str | None, str | None]]:
    """The slice's stored transcripts as JSON text (decoded in the workers), with source and audio."""
    query = select(calls.c.call_id, type_coerce(calls.c.transcript, Text), calls.c.source, calls.c.audio).where(
        calls.c.call_id >= first, calls.c.call_id <= last
    )
    return {
        call_id: (text, source, audio) for call_id, text, source, audio in conn.execute(_filtered(query, month, agent))
    }


def _stored(
    conn: Any, rows: Sequence[Any], first: str, last: str, month: str | None, agent: str | None
) -> dict[str, Stored]:
    """The stored machine signature of each call of the slice, and whether humans touched it
    (read by the slice's call_id range: no thousand-item IN lists to compile)."""
    by_call: dict[str, list[tuple[str, str, str, float, bool, str]]] = {r.call_id: [] for r in rows}
    in_range = (hits.c.call_id >= first) & (hits.c.call_id <= last)
    query = (
        select(hits.c.call_id, hits.c.hit_id, hits.c.rule_id, hits.c.status, hits.c.deduction, hits.c.veto, hits.c.text)
        .where(in_range)
        .order_by(hits.c.call_id, hits.c.seq)
    )
    for call_id, hit_id, rule_id, status, deduction, veto, text in conn.execute(query):
        found = by_call.get(call_id)
        if found is not None:
            found.append((hit_id, rule_id, status, float(deduction), bool(veto), text))
    reviewed: set[str] = set()
    for table in (verdicts, manual_findings, appeals):
        query = select(table.c.call_id).where(table.c.call_id >= first, table.c.call_id <= last)
        if table is appeals:
            query = query.where(appeals.c.points.is_not(None))
        reviewed |= {c for (c,) in conn.execute(query)}
    return {
        r.call_id: Stored(
            r.call_id, r.agent_id, r.month, r.ruleset, r.scored_at, float(r.score), bool(r.veto),
            tuple(by_call[r.call_id]), json.loads(r.checks) if isinstance(r.checks, str) else r.checks,
            r.call_id in reviewed,
        )
        for r in rows
    }  # fmt: skip


def rescore(
    store: Store,
    lexicon: Lexicon,
    month: str | None = None,
    agent: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    by: str = "qc",
    on_progress: Callable[[int, int], None] | None = None,
) -> Progress:
    """Re-score stored calls with ``lexicon`` and write only what changed (module docstring)."""
    from qc.review.desk import ReviewDesk, now_utc

    progress = Progress()
    desk = ReviewDesk(store, lexicon)
    categorizer = None
    categorizer_built = False
    store.note_ruleset(lexicon.version, lexicon.root, lexicon.fingerprints)
    for part in replay(store, lexicon, month, agent, jobs, force, progress, on_progress):
        replayed = part.replayed
        changed = [r for r in replayed if r.changed or r.stored.reviewed]
        same = part.untouched + [r.stored.call_id for r in replayed if not (r.changed or r.stored.reviewed)]
        if same:
            with store.transaction() as conn:
                conn.execute(update(results).where(results.c.call_id.in_(same)).values(ruleset=lexicon.version))
        if not changed:
            continue
        if not categorizer_built:
            categorizer, categorizer_built = call_categorizer(lexicon, lexicon.settings.learned_layer), True
        batch = with_categories(categorizer, [(r.transcript, r.result) for r in changed])
        now = now_utc().isoformat(timespec="seconds")
        with store.transaction() as conn:
            before = _versions_before(conn, changed)
        store.save(batch, lexicon.root)
        reviewed = [r.stored.call_id for r in changed if r.stored.reviewed]
        progress.stale.extend(desk.carry_over(reviewed, cause="rule change", by=by))
        progress.changed += sum(1 for r in changed if r.changed or _final_moved(store, r.stored))
        plain = [r for r in changed if not r.stored.reviewed]
        with store.transaction() as conn:
            rows = []
            for r in plain:
                last = before.get(r.stored.call_id)
                if last is None:
                    rows.append(_version(r.stored.call_id, 1, r.stored.score, r.stored.veto, "auto",
                                         r.stored.ruleset, None, r.stored.scored_at))  # fmt: skip
                    last = 1
                rows.append(_version(r.stored.call_id, last + 1, r.result.score, r.result.veto, "rule change",
                                     lexicon.version, by, now))  # fmt: skip
            if rows:
                conn.execute(score_versions.insert(), rows)
    return progress


def _final_moved(store: Store, stored: Stored) -> bool:
    """A reviewed call whose final score or veto moved when its verdicts were applied again."""
    if not stored.reviewed:
        return False
    with store.engine.connect() as conn:
        row = conn.execute(select(results.c.score, results.c.veto).where(results.c.call_id == stored.call_id)).one()
    return (float(row.score), bool(row.veto)) != (stored.score, stored.veto)


def _versions_before(conn: Any, changed: Sequence[Replayed]) -> dict[str, int]:
    ids = [r.stored.call_id for r in changed]
    query = (
        select(score_versions.c.call_id, func.max(score_versions.c.n))
        .where(score_versions.c.call_id.in_(ids))
        .group_by(score_versions.c.call_id)
    )
    return {call_id: int(n) for call_id, n in conn.execute(query)}


def _version(
    call_id: str, n: int, score: float, veto: bool, cause: str, ruleset: str, by: str | None, at: str
) -> dict[str, Any]:
    return {"call_id": call_id, "n": n, "score": score, "veto": veto, "cause": cause, "ruleset": ruleset,
            "by_user": by, "at": at}  # fmt: skip
