"""Issue 11: a false verdict exported as a must-not-hit case that `qc lexicon check` runs."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner

from qc.cli import cli
from tests.conftest import LEXICONS, SAMPLES

pytestmark = pytest.mark.issue(11)

NEG = "20261105-0900-2048-0002"


def _run(*args: str, stdin: str | None = None):  # noqa: ANN202
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_false_hits_become_cases_that_lexicon_check_runs(tmp_path):
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    assert _run("score", str(SAMPLES), "--db", db).exit_code == 0
    assert (
        _run("user", "add", "wang", "--role", "inspector", "--password-stdin", "--db", db, stdin="pw\n").exit_code == 0
    )
    shown = json.loads(_run("show", NEG, "--json", "--no-mask", "--db", db).stdout)
    negative = [h for h in shown["hits"] if h["category"] == "negative"]
    judged = {negative[0]["hit_id"]: "context", negative[1]["hit_id"]: "asr"}
    for hit_id, reason in judged.items():
        done = _run("review", "hit", NEG, hit_id, "--verdict", "false", "--reason", reason, "--by", "wang", "--db", db)
        assert done.exit_code == 0, done.stderr
    out = tmp_path / "cases.yaml"
    exported = _run("review", "export-cases", "--month", "2026-11", "--out", str(out), "--db", db)
    assert exported.exit_code == 0 and "1 case(s)" in exported.stdout  # the asr one is left out
    (case,) = yaml.safe_load(out.read_text(encoding="utf-8"))["cases"]
    first = negative[0]
    assert case["rule"] == first["rule_id"] and case["hit"] == first["hit_id"] and case["reason"] == "context"
    assert first["text"] in case["miss"] and case["call"] == NEG and case["by"] == "wang"
    lexicons = tmp_path / "lexicons"
    shutil.copytree(LEXICONS, lexicons)
    checked = _run("lexicon", "check", "--lexicons", str(lexicons))
    assert checked.exit_code == 0, checked.stderr
    (lexicons / "cases").mkdir()
    shutil.copy(out, lexicons / "cases" / "2026-11.yaml")
    checked = _run("lexicon", "check", "--lexicons", str(lexicons))
    assert checked.exit_code == 1
    assert f"[{first['rule_id']}]" in checked.stderr or first["rule_id"] in checked.stderr
    assert "is still hit" in checked.stderr and case["miss"] in checked.stderr
    with_asr = _run("review", "export-cases", "--reason", "asr", "--out", str(tmp_path / "asr.yaml"), "--db", db)
    assert "1 case(s)" in with_asr.stdout
