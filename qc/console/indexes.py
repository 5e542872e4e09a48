"""What the console's reads need from the database, made sure of when the console starts:

- every index ``qc.store.tables`` declares (``create_all`` adds indexes only with new tables, so a
  database made before an index was declared lacks it), and the console's own read indexes: an
  agent's calls by month, a rule's hits, precision per rule, agents by team;
- on SQLite, fresh planner statistics (``ANALYZE``) when there are none or the calls table has
  doubled since: without them SQLite walks an inspector's whole queue to find one agent's calls
  (1.2 s instead of 20 ms on a 300,000-call month). ANALYZE reads every index once — about a second
  for such a month — and only runs again when the data has grown that much. PostgreSQL keeps its
  statistics itself (autovacuum).

``CREATE INDEX IF NOT EXISTS`` at start rather than a schema version step: these serve reads only and
a database without them is still correct, only slower.
"""

from __future__ import annotations

import logging

from sqlalchemy import Index, text
from sqlalchemy.engine import Connection, Engine

from qc.store.tables import agents, calls, hits, metadata, verdicts

log = logging.getLogger(__name__)

CONSOLE_INDEXES = (
    # the agent page: one agent's calls by month (the trend), and the queue filtered by agent
    Index("ix_console_calls_agent_month", calls.c.agent_id, calls.c.month, calls.c.started_at),
    # the rules page: a rule's hits, newest calls first
    Index("ix_console_hits_rule_call", hits.c.rule_id, hits.c.call_id),
    # precision per rule without reading every verdict's row
    Index("ix_console_verdicts_rule", verdicts.c.rule_id),
    # the queue filtered by team
    Index("ix_console_agents_team", agents.c.team),
)
GROWTH = 2.0  # ANALYZE again once the calls table is this many times bigger than when last analysed


def ensure_indexes(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)
        for index in CONSOLE_INDEXES:
            index.create(conn, checkfirst=True)
        if conn.dialect.name == "sqlite" and _stale(conn):
            log.info("updating the query planner's statistics (ANALYZE)")
            conn.exec_driver_sql("ANALYZE")


def _stale(conn: Connection) -> bool:
    """No statistics yet, or the calls table has grown ``GROWTH`` times since they were taken."""
    rows = conn.execute(text("SELECT max(rowid) FROM calls")).scalar() or 0
    if rows < 1000:  # a small database is fast whatever plan SQLite picks
        return False
    has_stats = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    if has_stats is None:
        return True
    stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'calls' AND idx IS NOT NULL LIMIT 1")).scalar()
    analysed = int(str(stat).split()[0]) if stat else 0
    return analysed * GROWTH < rows
