"""The results database (SQLAlchemy Core): embedded SQLite by default, PostgreSQL by URL.

Re-scoring a call replaces its rows in one transaction, so a call is never stored twice or
half-stored; a batch commits as it goes, so a killed batch keeps every committed call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, delete, event, func, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from qc.config import database_url
from qc.errors import StoreError
from qc.schema import CallResult, Transcript
from qc.store.rows import CallRows, rows_of
from qc.store.tables import (
    MIGRATIONS,
    SCHEMA_VERSION,
    agents,
    call_categories,
    calls,
    hits,
    meta,
    metadata,
    results,
    rulesets,
)


def call_and_result(call_id: str) -> Any:
    """SELECT one stored call joined with its result (every column of both)."""
    return select(calls, results).join(results, results.c.call_id == calls.c.call_id).where(calls.c.call_id == call_id)


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
    """--db, else the configured default (qc.config.database_url: $QC_DB, else qc.db in the user
    data folder — never the current folder). postgresql:// uses psycopg 3."""
    url = url or database_url()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def one_line(err: BaseException) -> str:
    """The driver's message without SQLAlchemy's background link or the driver's second lines."""
    text = str(getattr(err, "orig", None) or err)
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _sqlite_folder(url: str, explicit: bool) -> None:
    """Create the default database's folder; refuse a missing folder the user named."""
    try:
        database = make_url(url).database
    except ArgumentError:
        return
    if not database or database == ":memory:":
        return
    folder = Path(database).expanduser().resolve().parent
    if folder.is_dir():
        return
    if explicit:
        raise StoreError(f"cannot open database {url}: folder {folder} does not exist")
    folder.mkdir(parents=True, exist_ok=True)


_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", re.IGNORECASE)


def _column_there(conn: Connection, statement: str) -> bool:
    """An ADD COLUMN whose column exists already: its table was created by this qc's create_all
    (a table new since the database's version), so the step has nothing to add."""
    m = _ADD_COLUMN.match(statement)
    if m is None:
        return False
    return m.group(2) in {c["name"] for c in inspect(conn).get_columns(m.group(1))}


class Store:
    """Open (and create or check) the results database."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        try:
            self.engine: Engine = create_engine(self.url, future=True)
        except (ArgumentError, ImportError) as err:
            raise StoreError(f"cannot use database URL {self.url!r}: {one_line(err)}") from None
        if self.engine.dialect.name == "sqlite":
            _sqlite_folder(self.url, explicit=url is not None)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        try:
            self._prepare()
        except SQLAlchemyError as err:
            self.engine.dispose()
            reason = one_line(err)
            if "file is not a database" in reason:
                reason += " (this file is not a qc database; name another file)"
            raise StoreError(f"cannot open database {self._display()}: {reason}") from None
        self._known_rulesets: set[str] = set()
        self._fingerprinted: set[str] = set()

    def display(self) -> str:
        """The URL without its password, for messages."""
        return self._display()

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
            elif int(version) > SCHEMA_VERSION:
                raise StoreError(
                    f"{self._display()} has schema version {version}, made by a newer qc (this one knows "
                    f"{SCHEMA_VERSION}); upgrade qc or use another database"
                )
            elif int(version) < SCHEMA_VERSION:
                self._migrate(conn, int(version))

    def _migrate(self, conn: Connection, version: int) -> None:
        """Bring an older database up to SCHEMA_VERSION, step by step, inside the open transaction."""
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                if not _column_there(conn, statement):
                    conn.exec_driver_sql(statement)
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        try:
            with self.engine.connect() as conn, _write(conn), conn.begin():
                yield conn
        except SQLAlchemyError as err:
            raise StoreError(f"database error in {self._display()}: {one_line(err)}") from None

    def save(self, items: Iterable[tuple[Transcript, CallResult]], lexicon_root: str | None = None) -> int:
        """Store (or replace) a batch of calls and their results in one transaction; returns the count."""
        return self.save_rows([rows_of(t, r) for t, r in items], lexicon_root)

    def save_rows(self, items: Iterable[CallRows], lexicon_root: str | None = None) -> int:
        """Store (or replace) a batch of calls, as rows built where they were scored, in one
        transaction; returns the count.

        A handful of set-based statements per batch rather than eight per call: storing is what
        limits a month's re-score, not scoring.
        """
        batch = list({c.call_id: c for c in items}.values())  # the last of a repeated call_id wins
        if not batch:
            return 0
        ids = [c.call_id for c in batch]
        now = _now()
        with self.transaction() as conn:
            for version in sorted({c.result["ruleset"] for c in batch} - self._known_rulesets):
                conn.execute(
                    self._insert(rulesets)
                    .values(version=version, lexicon_root=lexicon_root, first_used_at=now)
                    .on_conflict_do_nothing()
                )
            named = {c.call["agent_id"]: c.call["agent_name"] for c in batch if c.call["agent_name"]}
            for agent_id in sorted({c.call["agent_id"] for c in batch}):
                upsert = self._insert(agents).values(agent_id=agent_id, agent_name=named.get(agent_id))
                if agent_id in named:
                    upsert = upsert.on_conflict_do_update(
                        index_elements=[agents.c.agent_id], set_={"agent_name": named[agent_id]}
                    )
                conn.execute(upsert if agent_id in named else upsert.on_conflict_do_nothing())
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                conn.execute(delete(hits).where(hits.c.call_id.in_(chunk)))
                conn.execute(delete(call_categories).where(call_categories.c.call_id.in_(chunk)))
                conn.execute(delete(results).where(results.c.call_id.in_(chunk)))
                conn.execute(delete(calls).where(calls.c.call_id.in_(chunk)))
            conn.execute(calls.insert(), [c.call for c in batch])
            conn.execute(results.insert(), [{**c.result, "scored_at": now} for c in batch])
            hit_rows = [h for c in batch for h in c.hits]
            if hit_rows:
                conn.execute(hits.insert(), hit_rows)
            category_rows = [row for c in batch for row in c.categories]
            if category_rows:
                conn.execute(call_categories.insert(), category_rows)
        self._known_rulesets.update(c.result["ruleset"] for c in batch)
        return len(batch)

    def note_ruleset(self, version: str, lexicon_root: str | None, fingerprints: Mapping[str, str]) -> None:
        """Record a ruleset version with its rules' fingerprints (what `qc rescore` compares a later
        edit with); a version recorded without them gets them."""
        if version in self._fingerprinted:
            return
        with self.transaction() as conn:
            conn.execute(
                self._insert(rulesets)
                .values(
                    version=version, lexicon_root=lexicon_root, first_used_at=_now(), fingerprints=dict(fingerprints)
                )
                .on_conflict_do_nothing()
            )
            conn.execute(
                update(rulesets)
                .where(rulesets.c.version == version, rulesets.c.fingerprints.is_(None))
                .values(fingerprints=dict(fingerprints))
            )
        self._known_rulesets.add(version)
        self._fingerprinted.add(version)

    def fingerprints(self, version: str) -> dict[str, str] | None:
        """The fingerprints recorded with a ruleset (None: recorded before qc kept them)."""
        import json

        with self.engine.connect() as conn:
            value = conn.execute(select(rulesets.c.fingerprints).where(rulesets.c.version == version)).scalar()
        return json.loads(value) if isinstance(value, str) else value

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
            row = conn.execute(call_and_result(call_id)).mappings().first()
            if row is None:
                return None
            hit_rows = conn.execute(select(hits).where(hits.c.call_id == call_id).order_by(hits.c.seq)).mappings()
            return {**dict(row), "hits": [dict(h) for h in hit_rows]}

    def close(self) -> None:
        self.engine.dispose()
