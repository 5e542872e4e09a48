"""The database each store test runs on: embedded SQLite, and PostgreSQL when QC_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from qc.store import Store
from qc.store.tables import metadata

PG_URL = os.environ.get("QC_TEST_POSTGRES_URL")


def _sqlite(tmp_path):
    return f"sqlite:///{tmp_path / 'qc.db'}"


def _postgres(_tmp_path):
    if not PG_URL:
        pytest.skip("QC_TEST_POSTGRES_URL not set (CI starts PostgreSQL and sets it)")
    store = Store(PG_URL)
    with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):  # every table qc knows, dependants first
            conn.execute(text(f"DROP TABLE IF EXISTS {table.name} CASCADE"))
    store.close()
    return PG_URL


@pytest.fixture(params=[_sqlite, pytest.param(_postgres, marks=pytest.mark.postgres)], ids=["sqlite", "postgres"])
def db_url(request, tmp_path):
    return request.param(tmp_path)
