"""notebooks/monthly_review.ipynb runs against a real database (so it cannot rot)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from qc.cli import cli
from tests.conftest import ROOT, SAMPLES

nbformat = pytest.importorskip("nbformat")
nbconvert = pytest.importorskip("nbconvert.preprocessors")


def test_monthly_review_notebook_executes(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'qc.db'}"
    assert CliRunner().invoke(cli, ["score", str(SAMPLES), "--db", url]).exit_code == 0
    monkeypatch.setenv("QC_DB", url)
    monkeypatch.setenv("QC_MONTH", "2026-11")
    nb = nbformat.read(ROOT / "notebooks" / "monthly_review.ipynb", as_version=4)
    nbconvert.ExecutePreprocessor(timeout=120, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(ROOT)}})
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.outputs
    )
    assert "month: 2026-11" in text
    assert "BAN-002" in text  # a top violation
    assert "3072" in text and "agents need coaching" in text
    assert os.environ["QC_DB"] == url
