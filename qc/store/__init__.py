"""The results database: tables, the Store that writes them, and the queries reports read."""

from qc.store.db import Store, resolve_url
from qc.store.queries import load_hits, load_month, previous_month
from qc.store.rows import month_of

__all__ = ["Store", "load_hits", "load_month", "month_of", "previous_month", "resolve_url"]
