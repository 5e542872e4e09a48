"""The results database: tables, the Store, and the queries reports read."""

from qc.store.db import Store, load_hits, load_month, month_of, previous_month

__all__ = ["Store", "load_hits", "load_month", "month_of", "previous_month"]
