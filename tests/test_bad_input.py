"""Each class of bad input: one clear line naming the file and the field, the batch goes on, exit 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.errors import InputError
from qc.formats import read_transcript
from qc.store import Store
from tests.conftest import DATA, SAMPLES

BAD = DATA / "bad"

# fmt: off
CASES = [
    ("invalid_json.json", "invalid JSON at line 1"),
    ("missing_call_id.json", "'call_id' is missing"),
    ("missing_agent_id.json", "'agent_id' is missing"),
    ("wrong_types.json", "utterances[0].start must be a number"),
    ("empty_utterances.json", "'utterances' is empty"),
    ("unknown_speaker.json", "utterances[0].speaker must be one of agent, customer, unknown, got '客服'"),
    ("gbk.json", "not UTF-8"),
    ("not_an_object.json", "top level must be a JSON object"),
]
# fmt: on


@pytest.mark.parametrize("name,message", CASES)
def test_bad_transcript_raises_input_error_naming_file(name, message):
    with pytest.raises(InputError) as info:
        read_transcript(BAD / name)
    assert message in str(info.value)
    assert str(BAD / name) in str(info.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        read_transcript(tmp_path / "nope.json")


def test_batch_with_bad_inputs_scores_and_stores_the_rest(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(BAD, folder / "bad")
    shutil.copytree(SAMPLES, folder / "good")
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    result = CliRunner().invoke(cli, ["score", str(folder), "--db", db, "--json", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(CASES)
    for name, message in CASES:
        assert any(name in line and message in line for line in errors), name
    good = len(list(SAMPLES.glob("*.json")))
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == good
    assert Store(db).count_calls() == good


def test_broken_lexicon_stops_scoring_with_file_and_rule(tmp_path, lexicon_copy: Path):
    path = lexicon_copy / "rules" / "banned.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("'{你}[就]去投诉", "'{你}[就去投诉", 1), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["score", str(SAMPLES), "--lexicons", str(lexicon_copy), "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 1
    assert "rules/banned.yaml:" in result.stderr and "[BAN-001]" in result.stderr
    assert "never closed" in result.stderr


def test_nonexistent_path_is_reported_and_others_scored(tmp_path):
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    one = sorted(SAMPLES.glob("*.json"))[0]
    result = CliRunner().invoke(cli, ["score", str(tmp_path / "missing.json"), str(one), "--db", db])
    assert result.exit_code == 1
    assert "missing.json: no such file or folder" in result.stderr
    assert Store(db).count_calls() == 1


def test_unwritable_json_output_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(SAMPLES),
            "--db",
            f"sqlite:///{tmp_path / 'q.db'}",
            "--json",
            str(tmp_path / "no" / "such" / "dir" / "out.jsonl"),
        ],
    )
    assert result.exit_code == 1
    assert "cannot write" in result.stderr


def test_transcript_with_bom_is_accepted(tmp_path):
    data = {"call_id": "bom", "agent_id": "1", "utterances": [{"speaker": "agent", "text": "您好"}]}
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(data, ensure_ascii=False).encode())
    assert read_transcript(path).call_id == "bom"
