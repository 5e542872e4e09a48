"""A broken lexicon is refused up front, with file, line and rule id for every problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.errors import LexiconError
from qc.inspection.check import check_lexicon
from qc.inspection.lexicon import load_lexicon


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(root: Path) -> list[str]:
    with pytest.raises(LexiconError) as info:
        load_lexicon(root)
    return [str(p) for p in info.value.problems]


def test_duplicate_id(lexicon_copy):
    _edit(lexicon_copy / "rules" / "banned.yaml", "id: BAN-002", "id: BAN-001")
    (problem,) = _problems(lexicon_copy)
    assert problem.startswith("lexicons/rules/banned.yaml:") and "[BAN-001]: duplicate id" in problem


def test_gbk_file_is_rejected_by_name(lexicon_copy):
    path = lexicon_copy / "rules" / "filler.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    (problem,) = _problems(lexicon_copy)
    assert "filler.yaml" in problem and "not UTF-8" in problem


def test_unknown_key_names_rule_and_line(lexicon_copy):
    _edit(lexicon_copy / "rules" / "filler.yaml", "    patterns: ['搞定']", "    paterns: ['搞定']")
    (problem,) = _problems(lexicon_copy)
    assert "[FIL-009]" in problem and "unknown key(s) paterns" in problem
    line = int(problem.split(":")[1].split(" ")[0])
    text = (lexicon_copy / "rules" / "filler.yaml").read_text(encoding="utf-8").splitlines()
    assert "FIL-009" in text[line - 1]


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("patterns: ['一塌糊涂']", "patterns: ['一塌(糊涂']", "never closed"),
        ("patterns: ['一塌糊涂']", "patterns: ['{没有这组}']", "unknown synonym group"),
        ("patterns: ['一塌糊涂']", "patterns: []", "'patterns' is empty"),
        (
            'category: filler\n    source: "001 减少口头禅与地方语「一塌糊涂」"',
            "category: rude",
            "category must be one of",
        ),
        ("name: 一塌糊涂\n", "name: 一塌糊涂\n    kind: magic\n", "unknown kind 'magic'"),
        ("examples: {hit: [弄得一塌糊涂], miss: [处理得很清楚]}", "examples: {hit: [弄得一塌糊涂]}", "at least one"),
    ],
)
def test_invalid_rule_is_reported(lexicon_copy, old, new, message):
    _edit(lexicon_copy / "rules" / "filler.yaml", old, new)
    problems = _problems(lexicon_copy)
    assert any(message in p and "FIL-001" in p for p in problems), problems


def test_invalid_yaml_reports_line(lexicon_copy):
    path = lexicon_copy / "rules" / "filler.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - id: [unclosed\n", encoding="utf-8")
    (problem,) = _problems(lexicon_copy)
    assert "filler.yaml:" in problem and "invalid YAML" in problem


def test_scorecard_unknown_veto_rule(lexicon_copy):
    _edit(lexicon_copy / "scorecard.yaml", "veto: [BAN-003", "veto: [BAN-999, BAN-003")
    (problem,) = _problems(lexicon_copy)
    assert "scorecard.yaml" in problem and "BAN-999" in problem


def test_failing_example_is_reported_by_check(lexicon_copy):
    _edit(lexicon_copy / "rules" / "filler.yaml", "miss: [处理得很清楚]", "miss: [处理得一塌糊涂]")
    _, problems = check_lexicon(lexicon_copy)
    assert [p.rule_id for p in problems] == ["FIL-001"]
    assert "should not be found but is" in str(problems[0])


def test_polite_term_penalised_elsewhere_is_a_conflict(lexicon_copy):
    _edit(
        lexicon_copy / "rules" / "negative.yaml",
        "patterns: ['不可能', '不会', '不对']",
        "patterns: ['不可能', '不会', '不对', '不客气']",
    )
    _, problems = check_lexicon(lexicon_copy)
    assert any(p.rule_id == "POL-008" and "penalised by NEG-014" in str(p) for p in problems)


def test_cli_lexicon_check(lexicon_copy):
    ok = CliRunner().invoke(cli, ["lexicon", "check", "--lexicons", str(lexicon_copy)])
    assert ok.exit_code == 0 and ok.stdout.startswith("OK: ")
    _edit(lexicon_copy / "rules" / "filler.yaml", "miss: [处理得很清楚]", "miss: [处理得一塌糊涂]")
    bad = CliRunner().invoke(cli, ["lexicon", "check", "--lexicons", str(lexicon_copy)])
    assert bad.exit_code == 1 and "[FIL-001]" in bad.stderr


def test_version_changes_with_content(lexicon_copy, lexicon):
    assert load_lexicon(lexicon_copy).version == lexicon.version
    _edit(lexicon_copy / "rules" / "filler.yaml", "patterns: ['搞定']", "patterns: ['搞定', '搞掂']")
    assert load_lexicon(lexicon_copy).version != lexicon.version


@pytest.mark.issue(7)
def test_a_yaml_error_is_reported_once_without_follow_on_errors(lexicon_copy):
    banned = lexicon_copy / "rules" / "banned.yaml"
    lines = banned.read_text(encoding="utf-8").splitlines()
    lines[7] += " :["
    banned.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, problems = check_lexicon(lexicon_copy)
    assert len(problems) == 1, problems
    assert "banned.yaml" in str(problems[0]) and "invalid YAML" in str(problems[0])


@pytest.mark.issue(7)
def test_every_bad_pattern_of_a_rule_is_reported(lexicon_copy):
    banned = lexicon_copy / "rules" / "banned.yaml"
    text = banned.read_text(encoding="utf-8")
    start = text.index("patterns:", text.index("id: BAN-002"))
    end = text.index("\n", start)
    banned.write_text(
        text[:start] + "patterns: ['找[领导', '(经理|主管', '{没有这个组}']" + text[end:], encoding="utf-8"
    )
    _, problems = check_lexicon(lexicon_copy)
    messages = [str(p) for p in problems]
    assert len(messages) == 3, messages
    assert all("[BAN-002]" in m for m in messages)
    assert any("找[领导" in m for m in messages) and any("(经理|主管" in m for m in messages)
    assert any("没有这个组" in m for m in messages)
