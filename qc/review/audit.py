"""The audit log: every change a person makes, append-only, each row chained to the one before.

A row's hash is sha256 over the previous row's hash and the row's own content (time, actor, action,
target, detail as canonical JSON). Editing a row, or deleting one, breaks every hash from there on;
``verify`` names the first row that no longer fits. (The chain shows tampering; it cannot stop
someone with write access from rewriting the whole chain — export the last hash to keep a witness.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from qc.store.tables import audit_log

GENESIS = "0" * 64


def _digest(prev_hash: str, at: str, actor: str, action: str, target: str, detail: str) -> str:
    payload = json.dumps([prev_hash, at, actor, action, target, detail], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(conn: Connection, at: str, actor: str, action: str, target: str, detail: Mapping[str, Any]) -> str:
    """Add one entry inside the caller's transaction; returns its hash."""
    last = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    text = json.dumps(dict(detail), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = _digest(prev, at, actor, action, target, text)
    conn.execute(
        audit_log.insert().values(
            at=at, actor=actor, action=action, target=target, detail=text, prev_hash=prev, hash=digest
        )
    )
    return digest


def verify(conn: Connection) -> int | None:
    """The id of the first entry whose hash or link does not hold (an edited or deleted row), or None."""
    prev = GENESIS
    rows = conn.execute(select(audit_log).order_by(audit_log.c.id))
    for row in rows:
        if row.prev_hash != prev or _digest(prev, row.at, row.actor, row.action, row.target, row.detail) != row.hash:
            return int(row.id)
        prev = row.hash
    return None
