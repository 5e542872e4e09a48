"""The results database (SQLAlchemy Core): embedded SQLite by default, PostgreSQL by URL.

Re-scoring a call replaces its rows in one transaction, so a call is never stored twice or
half-stored; a batch commits as it goes, so a killed batch keeps every committed call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from qc.errors import StoreError
from qc.schema import CallResult, Hit, Transcript
from qc.formats import checks_to_dict, transcript_to_dict

SCHEMA_VERSION = 1
DEFAULT_URL = "sqlite:///qc.db"

metadata = MetaData()

meta = Table("qc_meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

rulesets = Table(
    "rulesets",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("lexicon_root", Text),
    Column("first_used_at", String(40), nullable=False),
)

agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("agent_name", Text),
    Column("team", Text),
)

calls = Table(
    "calls",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("agent_id", String(64), ForeignKey("agents.agent_id"), nullable=False),
    Column("agent_name", Text),
    Column("started_at", String(40)),
    Column("month", String(7)),
    Column("source", Text),
    Column("audio", Text),
    Column("transcript", JSON, nullable=False),
    Index("ix_calls_month_agent", "month", "agent_id"),
)

results = Table(
    "results",
    metadata,
    Column("call_id", String(128), ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True),
    Column("ruleset", String(32), ForeignKey("rulesets.version"), nullable=False),
    Column("score", Float, nullable=False),
    Column("veto", Boolean, nullable=False),
    Column("polite_count", Integer, nullable=False),
    Column("polite_terms", JSON, nullable=False),
    Column("checks", JSON, nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("scored_at", String(40), nullable=False),
)

hits = Table(
    "hits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("speaker", String(16), nullable=False),
    Column("utterance", Integer),
    Column("start", Float),
    Column("end", Float),
    Column("text", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("suggestion", Text),
    Column("deduction", Float, nullable=False),
    Column("veto", Boolean, nullable=False),
    Column("detail", Text),
    Column("source", Text),
    Index("ix_hits_call", "call_id"),
    Index("ix_hits_category_rule", "category", "rule_id"),
)


def _call_row(t: Transcript) -> dict[str, Any]:
    return {
        "call_id": t.call_id,
        "agent_id": t.agent_id,
        "agent_name": t.agent_name,
        "started_at": t.started_at,
        "month": month_of(t.started_at),
        "source": t.source,
        "audio": t.audio,
        "transcript": transcript_to_dict(t),
    }


def _result_row(r: CallResult, scored_at: str) -> dict[str, Any]:
    return {
        "call_id": r.call_id,
        "ruleset": r.ruleset,
        "score": r.score,
        "veto": r.veto,
        "polite_count": r.polite_count,
        "polite_terms": dict(r.polite_terms),
        "checks": checks_to_dict(r.checks),
        "warnings": list(r.warnings),
        "scored_at": scored_at,
    }


_HIT_FIELDS = tuple(Hit.__dataclass_fields__)


def _hit_row(call_id: str, seq: int, h: Hit) -> dict[str, Any]:
    return {"call_id": call_id, "seq": seq, **{f: getattr(h, f) for f in _HIT_FIELDS}}


def month_of(started_at: str | None) -> str | None:
    """'2026-11-03T09:15:00+08:00' → '2026-11' (None when absent or not a date)."""
    if not started_at or len(started_at) < 7:
        return None
    candidate = started_at[:7]
    try:
        datetime.strptime(candidate, "%Y-%m")
    except ValueError:
        return None
    return candidate


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN (pysqlite's own implicit BEGIN cannot be IMMEDIATE).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL below may have to wait too
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """Writers take the write lock up front (BEGIN IMMEDIATE), so two `qc score` processes queue on
    busy_timeout instead of failing when a read transaction cannot be upgraded; readers stay deferred."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("qc_write") else "BEGIN")


@contextmanager
def _write(conn: Connection) -> Iterator[None]:
    conn.info["qc_write"] = True
    try:
        yield
    finally:
        conn.info.pop("qc_write", None)


def resolve_url(url: str | None) -> str:
    """--db, else $QC_DB, else an embedded SQLite file qc.db here. postgresql:// uses psycopg 3."""
    url = url or os.environ.get("QC_DB") or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """Open (and create or check) the results database."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        try:
            self.engine: Engine = create_engine(self.url, future=True)
        except (ArgumentError, ImportError) as err:
            raise StoreError(f"cannot use database URL {self.url!r}: {err}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        try:
            self._prepare()
        except OperationalError as err:
            raise StoreError(f"cannot open database {self._display()}: {err.orig}") from None
        self._known_rulesets: set[str] = set()

    def _display(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def _prepare(self) -> None:
        with self.engine.connect() as conn, _write(conn), conn.begin():
            existing = set(inspect(conn).get_table_names())
            if existing and "qc_meta" not in existing and existing & {"calls", "results", "hits"}:
                raise StoreError(f"{self._display()} holds tables qc did not create; use another database")
            metadata.create_all(conn)
            version = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
            if version is None:
                conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(version) != SCHEMA_VERSION:
                raise StoreError(
                    f"{self._display()} has schema version {version}, this qc needs {SCHEMA_VERSION}; "
                    "use a database made by this version or re-score into a new one"
                )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        try:
            with self.engine.connect() as conn, _write(conn), conn.begin():
                yield conn
        except SQLAlchemyError as err:
            raise StoreError(f"database error in {self._display()}: {getattr(err, 'orig', err)}") from None

    def save(self, items: Iterable[tuple[Transcript, CallResult]], lexicon_root: str | None = None) -> int:
        """Store (or replace) a batch of calls and their results in one transaction; returns the count.

        A handful of set-based statements per batch rather than eight per call: storing is what
        limits a month's re-score, not scoring.
        """
        batch = list({t.call_id: (t, r) for t, r in items}.values())  # the last of a repeated call_id wins
        if not batch:
            return 0
        ids = [t.call_id for t, _ in batch]
        now = _now()
        with self.transaction() as conn:
            for version in sorted({r.ruleset for _, r in batch} - self._known_rulesets):
                conn.execute(
                    self._insert(rulesets)
                    .values(version=version, lexicon_root=lexicon_root, first_used_at=now)
                    .on_conflict_do_nothing()
                )
            named = {t.agent_id: t.agent_name for t, _ in batch if t.agent_name}
            for agent_id in sorted({t.agent_id for t, _ in batch}):
                upsert = self._insert(agents).values(agent_id=agent_id, agent_name=named.get(agent_id))
                if agent_id in named:
                    upsert = upsert.on_conflict_do_update(
                        index_elements=[agents.c.agent_id], set_={"agent_name": named[agent_id]}
                    )
                conn.execute(upsert if agent_id in named else upsert.on_conflict_do_nothing())
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                conn.execute(delete(hits).where(hits.c.call_id.in_(chunk)))
                conn.execute(delete(results).where(results.c.call_id.in_(chunk)))
                conn.execute(delete(calls).where(calls.c.call_id.in_(chunk)))
            conn.execute(calls.insert(), [_call_row(t) for t, _ in batch])
            conn.execute(results.insert(), [_result_row(r, now) for _, r in batch])
            hit_rows = [_hit_row(r.call_id, i, h) for _, r in batch for i, h in enumerate(r.hits)]
            if hit_rows:
                conn.execute(hits.insert(), hit_rows)
        self._known_rulesets.update(r.ruleset for _, r in batch)
        return len(batch)

    def _insert(self, table: Table) -> Any:
        """INSERT with ON CONFLICT support for the two dialects qc runs on (two writers may race)."""
        if self.engine.dialect.name == "postgresql":
            return postgresql_insert(table)
        return sqlite_insert(table)

    def count_calls(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(calls)).scalar_one())

    def load_result_rows(self, call_id: str) -> dict[str, Any] | None:
        """One stored call with its result and hits (for tests and exports)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(calls, results)
                    .join(results, results.c.call_id == calls.c.call_id)
                    .where(calls.c.call_id == call_id)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            hit_rows = conn.execute(select(hits).where(hits.c.call_id == call_id).order_by(hits.c.seq)).mappings()
            return {**dict(row), "hits": [dict(h) for h in hit_rows]}

    def close(self) -> None:
        self.engine.dispose()


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def load_month(store: Store, month: str, agent: str | None = None):  # noqa: ANN201
    """(calls, hits) of one month as pandas DataFrames; calls carry their result columns.

    Read through the driver's cursor rather than SQLAlchemy's row processing: for a 300,000-call
    month that is most of the report's reading time.
    """
    import json

    query = (
        select(
            calls.c.call_id,
            calls.c.agent_id,
            calls.c.started_at,
            calls.c.audio,
            agents.c.agent_name.label("name"),
            results.c.ruleset,
            results.c.score,
            results.c.veto,
            results.c.polite_count,
            results.c.checks,
        )
        .join(results, results.c.call_id == calls.c.call_id)
        .join(agents, agents.c.agent_id == calls.c.agent_id)
        .where(calls.c.month == month)
        .order_by(calls.c.agent_id, calls.c.started_at, calls.c.call_id)
    )
    hit_query = (
        select(
            hits.c.call_id,
            hits.c.seq,
            hits.c.rule_id,
            hits.c.category,
            hits.c.name,
            hits.c.start,
            hits.c.text,
            hits.c.suggestion,
            hits.c.deduction,
            hits.c.detail,
        )
        .join(calls, calls.c.call_id == hits.c.call_id)
        .where(calls.c.month == month)
        .order_by(hits.c.call_id, hits.c.seq)
    )
    if agent is not None:
        query = query.where(calls.c.agent_id == agent)
        hit_query = hit_query.where(calls.c.agent_id == agent)
    try:
        call_df = _frame(store, query)
        hit_df = _frame(store, hit_query)
    except (SQLAlchemyError, store.engine.dialect.dbapi.Error) as err:  # type: ignore[union-attr]
        raise StoreError(f"cannot read {store._display()}: {getattr(err, 'orig', err)}") from None
    call_df["veto"] = call_df["veto"].astype(bool)
    call_df["checks"] = [json.loads(c) if isinstance(c, str) else c for c in call_df["checks"]]
    return call_df, hit_df


def _frame(store: Store, query: Any) -> Any:
    import pandas as pd

    sql = str(query.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)
    finally:
        raw.close()


def load_hits(
    store: Store,
    category: str | None = None,
    rule: str | None = None,
    agent: str | None = None,
    month: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Stored hits with their call (and transcript), newest calls first, filtered as asked."""
    query = (
        select(hits, calls.c.agent_id, calls.c.started_at, calls.c.audio, calls.c.transcript, agents.c.agent_name)
        .join(calls, calls.c.call_id == hits.c.call_id)
        .join(agents, agents.c.agent_id == calls.c.agent_id)
    )
    if category:
        query = query.where(hits.c.category == category)
    if rule:
        query = query.where(hits.c.rule_id == rule)
    if agent:
        query = query.where(calls.c.agent_id == agent)
    if month:
        query = query.where(calls.c.month == month)
    query = query.order_by(calls.c.started_at.desc(), hits.c.call_id, hits.c.seq)
    if limit:
        query = query.limit(limit)
    try:
        with store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
    except SQLAlchemyError as err:
        raise StoreError(f"cannot read {store._display()}: {getattr(err, 'orig', err)}") from None
