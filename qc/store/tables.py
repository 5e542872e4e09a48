"""The tables of the results database (SQLAlchemy Core), shared by the store and its queries.

``SCHEMA_VERSION`` is written into ``qc_meta``; a database made by a newer qc is refused rather
than misread, and an older one is migrated in place (``MIGRATIONS``).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

SCHEMA_VERSION = 4
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
    Column("item_scores", JSON),  # 考评项 subtotals {name: {weight, lost, score}}
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
    Column("hit_id", String(160)),
    Column("status", String(16), nullable=False, server_default="confirmed"),
    Column("confidence", Float, nullable=False, server_default="1.0"),
    Column("heard", Text),
    Column("read_as", Text),
    Index("ix_hits_call", "call_id"),
    Index("ix_hits_category_rule", "category", "rule_id"),
)


# What each call was about (查件, 投诉, 计费争议…), one row per category: reports and examples are cut
# by it (qc report monthly --call-category 投诉), so it is a table, not a JSON column.
call_categories = Table(
    "call_categories",
    metadata,
    Column("call_id", String(128), ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(32), primary_key=True),
    Column("source", String(8), nullable=False),  # rule | model
    Column("rule_id", String(64)),
    Column("evidence", Text),
    Column("confidence", Float, nullable=False),
    Index("ix_call_categories_name", "name"),
)


# Statements that take a database from version N-1 to N (the key), run in one transaction.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (  # SPEC §2, second round: every hit has a stable id, a status and a confidence
        "ALTER TABLE hits ADD COLUMN hit_id VARCHAR(160)",
        "ALTER TABLE hits ADD COLUMN status VARCHAR(16) DEFAULT 'confirmed' NOT NULL",
        "ALTER TABLE hits ADD COLUMN confidence FLOAT DEFAULT 1.0 NOT NULL",
        "UPDATE hits SET hit_id = rule_id || '@' || COALESCE(CAST(utterance AS VARCHAR(12)), 'call') || '#' || "
        "CAST(seq AS VARCHAR(12))",
    ),
    3: (  # issue 9: a hit found by sound in a recognised call keeps what was heard and how it was read
        "ALTER TABLE hits ADD COLUMN heard TEXT",
        "ALTER TABLE hits ADD COLUMN read_as TEXT",
    ),
    4: (  # issue 10: the 考评项 subtotals of each result (the call_categories table is new: create_all makes it)
        "ALTER TABLE results ADD COLUMN item_scores JSON",
    ),
}
