"""The tables of the results database (SQLAlchemy Core), shared by the store and its queries.

``SCHEMA_VERSION`` is written into ``qc_meta``; a database made by a newer qc is refused rather
than misread, and an older one is migrated in place (``MIGRATIONS``).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

SCHEMA_VERSION = 6
metadata = MetaData()

meta = Table("qc_meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

rulesets = Table(
    "rulesets",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("lexicon_root", Text),
    Column("first_used_at", String(40), nullable=False),
    Column("fingerprints", JSON),  # per rule and "*" (Lexicon.fingerprints): what a later edit changed
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
    # the review queue's rule filter (qc.review.queue.queue_page): whether a call has a hit of a rule, read
    # from the index alone (no status or hit_id in it: older databases drop and re-add those columns)
    Index("ix_hits_call_rule", "call_id", "rule_id"),
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


# --- human review (issue 11) ----------------------------------------------------------------------
# Human work is keyed by call_id and hit_id, never by a foreign key to calls: re-scoring a call
# replaces its calls/results/hits rows, and a verdict must outlive that (it carries over to the same
# hit, or stays in the history when the hit is gone).

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # admin | qa_lead | inspector | team_lead | agent
    Column("agent_id", String(64)),  # an agent's own 工号
    Column("team", Text),
    Column("password_hash", Text),  # argon2
    Column("created_at", String(40), nullable=False),
)

verdicts = Table(
    "verdicts",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("hit_id", String(160), primary_key=True),
    Column("verdict", Boolean, nullable=False),  # true: the hit is right (真命中); false: a false hit (误命中)
    Column("reason", String(16)),  # asr | rule | context | other
    Column("comment", Text),
    Column("by_user", String(64), nullable=False),
    Column("at", String(40), nullable=False),
    # what the hit was when judged, so a verdict whose hit disappears after a re-score can be reported,
    # and the machine's own status (confirmed or suspected), which the stored hit loses once judged
    Column("machine_status", String(16), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("utterance", Integer),
    Column("text", Text),
)

manual_findings = Table(
    "manual_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("rule_id", String(64), nullable=False),
    Column("utterance", Integer),
    Column("points", Float),  # None: the rule's price in the scorecard
    Column("item", Text),  # a 考评项 scored by hand without a rule (rule_id is then "ITEM:<name>")
    Column("comment", Text, nullable=False),
    Column("by_user", String(64), nullable=False),
    Column("at", String(40), nullable=False),
)

score_versions = Table(
    "score_versions",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("n", Integer, primary_key=True),
    Column("score", Float, nullable=False),
    Column("veto", Boolean, nullable=False),
    Column("cause", String(16), nullable=False),  # auto | review | appeal | rule change
    Column("ruleset", String(32)),
    Column("by_user", String(64)),
    Column("at", String(40), nullable=False),
)

# Append-only: each row's hash covers its content and the previous row's hash, so editing or
# deleting a row breaks the chain from there on (qc.review.audit.verify).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", Text, nullable=False),
    Column("detail", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

month_locks = Table(
    "month_locks",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("by_user", String(64), nullable=False),
    Column("at", String(40), nullable=False),
)


# An agent's appeal (申诉) against one hit or a whole call: the team lead looks first (level 1) and
# either rejects it or passes it on; the QA lead decides (level 2). A QA lead may decide at level 1.
appeals = Table(
    "appeals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("hit_id", String(160)),  # None: the whole call
    Column("agent_id", String(64), nullable=False),
    Column("month", String(7)),
    Column("reason", Text, nullable=False),
    Column("proposed_points", Float),  # points the agent asks back
    # submitted | accepted | partial | rejected | withdrawn | expired
    Column("state", String(16), nullable=False),
    Column("level", Integer, nullable=False),  # 1 team lead, 2 QA lead
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", String(40), nullable=False),
    Column("deadline", String(40), nullable=False),  # undecided by then: expired
    Column("forwarded_by", String(64)),
    Column("forwarded_at", String(40)),
    Column("forward_comment", Text),
    Column("decided_by", String(64)),
    Column("decided_at", String(40)),
    Column("decision_comment", Text),
    Column("points", Float),  # points given back by the decision
    Index("ix_appeals_month_agent", "month", "agent_id"),
)

# A change decided after its month was locked: the locked sheet stays as it was, and the points
# land in the first month not locked when it was decided, shown there as an adjustment (调整).
adjustments = Table(
    "adjustments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("call_month", String(7), nullable=False),  # the locked month the call belongs to
    Column("month", String(7), nullable=False, index=True),  # the month whose sheet shows it
    Column("points", Float, nullable=False),  # + given back, - taken
    Column("cause", String(16), nullable=False),  # appeal | review
    Column("appeal_id", Integer),
    Column("comment", Text),
    Column("by_user", String(64), nullable=False),
    Column("at", String(40), nullable=False),
)

# The review queue: which inspector listens to which call (qc sample --assign, the console's queue).
assignments = Table(
    "assignments",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("month", String(7), index=True),
    Column("inspector", String(64), nullable=False, index=True),
    Column("reason", String(32)),
    Column("rank", Integer),  # order in the queue
    Column("assigned_by", String(64), nullable=False),
    Column("at", String(40), nullable=False),
    Column("done_at", String(40)),
    # the Queue page: one inspector's, one month's or every call in rank order (qc.review.queue.queue_page),
    # walked until the page is full rather than sorted whole
    Index("ix_assignments_inspector_month_rank", "inspector", "month", "rank"),
    Index("ix_assignments_month_rank", "month", "rank"),
    Index("ix_assignments_rank", "rank", "call_id"),
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
    5: (),  # issue 11: users, verdicts, manual findings, score versions, audit log, month locks (new tables)
    6: (  # issue 11: appeals, next-month adjustments, the review queue's assignments (new tables)
        "ALTER TABLE manual_findings ADD COLUMN item TEXT",
        "ALTER TABLE rulesets ADD COLUMN fingerprints JSON",
        # the review queue's indexes on a table that exists already (create_all adds none to it)
        "CREATE INDEX IF NOT EXISTS ix_hits_call_rule ON hits (call_id, rule_id)",
        "CREATE INDEX IF NOT EXISTS ix_assignments_inspector_month_rank ON assignments (inspector, month, rank)",
        "CREATE INDEX IF NOT EXISTS ix_assignments_month_rank ON assignments (month, rank)",
        "CREATE INDEX IF NOT EXISTS ix_assignments_rank ON assignments (rank, call_id)",
    ),
}
