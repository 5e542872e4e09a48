"""A broken lexicon is refused up front, with file, line and rule id for every problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.errors import LexiconError
from qc.inspection.check import check_lexicon
from qc.inspection.lexicon import load_lexicon
from tests.conftest import DATA


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(root: Path) -> list[str]:
    with pytest.raises(LexiconError) as info:
        load_lexicon(root)
    return [str(p) for p in info.value.problems]


@pytest.fixture()
def small_copy(tmp_path: Path) -> Path:
    """A writable copy of the small test lexicon: edits here do not depend on the business rules."""
    dest = tmp_path / "lexicons"
    shutil.copytree(DATA / "lexicon_small", dest)
    return dest


RULES = Path("rules") / "test.yaml"


def test_duplicate_id(small_copy):
    _edit(small_copy / RULES, "id: T-NS-001", "id: T-BAN-001")
    (problem,) = _problems(small_copy)
    assert problem.startswith("lexicons/rules/test.yaml:") and "[T-BAN-001]: duplicate id" in problem


def test_gbk_file_is_rejected_by_name(lexicon_copy):
    path = lexicon_copy / "rules" / "filler.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    (problem,) = _problems(lexicon_copy)
    assert "filler.yaml" in problem and "not UTF-8" in problem


def test_unknown_key_names_rule_and_line(small_copy):
    _edit(small_copy / RULES, "    patterns: ['梨']", "    paterns: ['梨']")
    (problem,) = _problems(small_copy)
    assert "[T-FIL-001]" in problem and "unknown key(s) paterns" in problem
    line = int(problem.split(":")[1].split(" ")[0])
    assert "T-FIL-001" in (small_copy / RULES).read_text(encoding="utf-8").splitlines()[line - 1]


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("patterns: ['梨']", "patterns: ['梨(子']", "never closed"),
        ("patterns: ['梨']", "patterns: ['{没有这组}']", "unknown synonym group"),
        ("patterns: ['梨']", "patterns: []", "'patterns' is empty"),
        ("    category: filler\n", "    category: rude\n", "category must be one of"),
        ("name: 句首梨\n    kind: phrase\n", "name: 句首梨\n    kind: magic\n", "unknown kind 'magic'"),
        ("examples: {hit: ['好的，梨子'], miss: ['一个梨']}", "examples: {hit: ['好的，梨子']}", "at least one"),
    ],
)
def test_invalid_rule_is_reported(small_copy, old, new, message):
    _edit(small_copy / RULES, old, new)
    problems = _problems(small_copy)
    assert any(message in p and "T-FIL-001" in p for p in problems), problems


def test_invalid_yaml_reports_line(lexicon_copy):
    path = lexicon_copy / "rules" / "filler.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - id: [unclosed\n", encoding="utf-8")
    (problem,) = _problems(lexicon_copy)
    assert "filler.yaml:" in problem and "invalid YAML" in problem


def test_scorecard_unknown_veto_rule(small_copy):
    _edit(small_copy / "scorecard.yaml", "veto: [T-BAN-001", "veto: [T-BAN-999, T-BAN-001")
    (problem,) = _problems(small_copy)
    assert "scorecard.yaml" in problem and "T-BAN-999" in problem


def test_failing_example_is_reported_by_check(small_copy):
    _edit(small_copy / RULES, "miss: [我要香蕉]", "miss: [我要苹果]")
    _, problems = check_lexicon(small_copy)
    assert [p.rule_id for p in problems] == ["T-BAN-001"]
    assert "should not be found but is" in str(problems[0])


def test_polite_term_penalised_elsewhere_is_a_conflict(small_copy):
    _edit(small_copy / RULES, "patterns: ['香蕉']", "patterns: ['香蕉', '谢谢']")
    _, problems = check_lexicon(small_copy)
    assert any(p.rule_id == "T-POL-001" and "penalised by T-NS-001" in str(p) for p in problems)


def test_cli_lexicon_check(small_copy):
    ok = CliRunner().invoke(cli, ["lexicon", "check", "--lexicons", str(small_copy)])
    assert ok.exit_code == 0 and ok.stdout.startswith("OK: ")
    _edit(small_copy / RULES, "miss: [我要香蕉]", "miss: [我要苹果]")
    bad = CliRunner().invoke(cli, ["lexicon", "check", "--lexicons", str(small_copy)])
    assert bad.exit_code == 1 and "[T-BAN-001]" in bad.stderr


def test_version_changes_with_content(small_copy):
    before = load_lexicon(small_copy).version
    assert load_lexicon(small_copy).version == before
    _edit(small_copy / RULES, "patterns: ['苹果']", "patterns: ['苹果', '梨子']")
    assert load_lexicon(small_copy).version != before


@pytest.mark.issue(7)
def test_a_yaml_error_is_reported_once_without_follow_on_errors(lexicon_copy):
    """A broken rule file whose rules the scorecard prices: one problem, not one per missing rule id."""
    banned = lexicon_copy / "rules" / "banned.yaml"
    banned.write_text(banned.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    _, problems = check_lexicon(lexicon_copy)
    assert len(problems) == 1, problems
    assert "banned.yaml" in str(problems[0]) and "invalid YAML" in str(problems[0])


@pytest.mark.issue(7)
def test_every_bad_pattern_of_a_rule_is_reported(lexicon_copy):
    (lexicon_copy / "rules" / "zz_extra.yaml").write_text(
        "schema: qc.rules/1\n"
        "rules:\n"
        "  - id: ZZ-001\n"
        "    name: 测试\n"
        "    category: nonstandard\n"
        "    patterns: ['找[领导', '(经理|主管', '{没有这个组}', '好的']\n"
        "    examples: {hit: [好的], miss: [是的]}\n",
        encoding="utf-8",
    )
    _, problems = check_lexicon(lexicon_copy)
    messages = [str(p) for p in problems]
    assert len(messages) == 3, messages
    assert all("[ZZ-001]" in m for m in messages)
    assert any("找[领导" in m for m in messages) and any("(经理|主管" in m for m in messages)
    assert any("没有这个组" in m for m in messages)


@pytest.mark.issue(8)
def test_check_names_rules_that_hit_look_alikes_of_the_corpus(small_copy, tmp_path):
    corpus = tmp_path / "dev.jsonl"
    rows = [
        {"text": "我要苹果手机壳", "speaker": "agent", "label": "none", "kind": "lookalike", "rule": "T-BAN-001"},
        {"text": "一根香蕉", "speaker": "agent", "label": "nonstandard", "kind": "violation", "rule": "T-NS-001"},
        {"text": "苹果", "speaker": "customer", "label": "banned", "kind": "customer", "rule": None},
    ]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    args = ["lexicon", "check", "--lexicons", str(small_copy), "--corpus", str(corpus)]
    warned = CliRunner().invoke(cli, args)
    assert warned.exit_code == 0 and "1 look-alike(s) of dev.jsonl hit" in warned.stdout
    assert "dev.jsonl:1" in warned.stderr and "T-BAN-001" in warned.stderr and "香蕉" not in warned.stderr
    strict = CliRunner().invoke(cli, [*args, "--strict"])
    assert strict.exit_code == 1 and "error: dev.jsonl:1" in strict.stderr
