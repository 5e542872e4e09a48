"""Aggregated reads for the weekly 小结 and the monthly 质检分析报告.

These reports need counts and averages per agent, rule, category and month, never a month's every
row: the database groups, and only the small result comes back (a 300,000-call month answers in
a second or two). Reads go through the driver's cursor, as ``qc.store.queries`` does, because
SQLAlchemy's row processing costs more than the query on large results.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from qc.errors import StoreError
from qc.store.db import Store, one_line


def read_frame(store: Store, query: Any) -> pd.DataFrame:
    """The rows of a SQLAlchemy Core ``query`` as a DataFrame; a database error is one StoreError line."""
    return read_sql(store, str(query.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True})))


def read_sql(store: Store, sql: str) -> pd.DataFrame:
    """Rows of a plain SQL text (a dialect's own JSON functions), as ``read_frame``."""
    try:
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)
        finally:
            raw.close()
    except (SQLAlchemyError, store.engine.dialect.dbapi.Error) as err:  # type: ignore[union-attr]
        raise StoreError(f"cannot read {store.display()}: {one_line(err)}") from None
