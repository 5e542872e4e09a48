"""Messy and hostile input through the whole pipeline (issue 7): every case loses no data silently,
reports one line naming the file, and lets the rest of the batch through."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.errors import Failure, StoreError
from qc.pipeline import collect_inputs, score_inputs
from qc.store import Store
from tests.conftest import SAMPLES

pytestmark = pytest.mark.issue(7)

GOOD = SAMPLES / "20261103-0915-1024-0001.json"


def _call(path: Path, **changes: object) -> Path:
    data = json.loads(GOOD.read_text(encoding="utf-8"))
    data.update(changes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _score(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["score", *args])
    return result.exit_code, result.stdout, result.stderr


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_duplicate_call_ids_name_both_files_and_keep_the_first(tmp_path):
    first = _call(tmp_path / "a" / "one.json", call_id="DUP-1", agent_id="1111")
    second = _call(tmp_path / "b" / "two.json", call_id="DUP-1", agent_id="2222")
    other = _call(tmp_path / "b" / "three.json", call_id="OTHER-1")
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    code, stdout, stderr = _score(str(tmp_path), "--db", db)
    assert code == 1
    (line,) = _error_lines(stderr)
    assert str(second) in line and str(first) in line and "duplicate call_id 'DUP-1'" in line
    stored = Store(db)
    assert stored.count_calls() == 2
    assert stored.load_result_rows("DUP-1")["agent_id"] == "1111"  # the agent of the first file did not vanish
    assert stored.load_result_rows("OTHER-1") is not None
    assert str(other) not in stderr


def test_duplicate_call_ids_in_a_manifest_are_caught_before_transcribing(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,call_id,agent_id\na.wav,C-1,1024\nb.wav,C-1,1024\n", encoding="utf-8")
    for name in ("a.wav", "b.wav"):
        (tmp_path / name).write_bytes(b"not audio at all")
    failures: list[Failure] = []
    summary = score_inputs([manifest], _lexicon(), Store(f"sqlite:///{tmp_path / 'qc.db'}"), on_failure=failures.append)
    reasons = [f.reason for f in failures]
    assert summary.done == 0
    assert any("duplicate call_id 'C-1'" in r and "a.wav" in r for r in reasons)
    assert any("b.wav" in f.path for f in failures if "duplicate" in f.reason)


@pytest.mark.parametrize("value", ["yesterday afternoon", "21/11/2026 10:00", "2026-02-30", "2026-13-01T10:00:00"])
def test_unreadable_start_times_are_errors_not_calls_without_a_month(tmp_path, value):
    bad = _call(tmp_path / "calls" / "bad.json", call_id="BAD-DATE", started_at=value)
    _call(tmp_path / "calls" / "good.json")
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    code, _, stderr = _score(str(tmp_path / "calls"), "--db", db)
    assert code == 1
    (line,) = _error_lines(stderr)
    assert str(bad) in line and "started_at" in line and value in line
    assert Store(db).load_result_rows("BAD-DATE") is None
    assert Store(db).count_calls() == 1


def test_iso_start_times_in_other_spellings_are_accepted(tmp_path):
    _call(tmp_path / "c.json", call_id="SPACE", started_at="2026-11-03 09:15")
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    assert _score(str(tmp_path / "c.json"), "--db", db)[0] == 0
    assert Store(db).load_result_rows("SPACE")["month"] == "2026-11"


def test_a_giant_utterance_is_refused_and_the_good_calls_are_stored(tmp_path):
    giant = _call(
        tmp_path / "calls" / "giant.json",
        call_id="GIANT",
        utterances=[{"speaker": "agent", "text": "你找领导去，" * 170_000}],
    )
    _call(tmp_path / "calls" / "good.json")
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    code, _, stderr = _score(str(tmp_path / "calls"), "--db", db)
    assert code == 1
    (line,) = _error_lines(stderr)
    assert str(giant) in line and "limit" in line
    assert Store(db).count_calls() == 1
    assert (tmp_path / "qc.db").stat().st_size < 5_000_000


@pytest.mark.parametrize(
    "changes,needle",
    [
        ({"call_id": "x" * 300}, "'call_id' is 300 characters"),
        ({"utterances": [{"speaker": "agent", "text": "您好\u0000你找领导去"}]}, "NUL"),
        ({"agent_id": "  "}, "'agent_id' is missing"),
    ],
)
def test_values_no_database_would_take_are_input_errors(tmp_path, changes, needle):
    bad = _call(tmp_path / "bad.json", **changes)
    code, _, stderr = _score(str(bad), "--db", f"sqlite:///{tmp_path / 'qc.db'}")
    assert code == 1
    (line,) = _error_lines(stderr)
    assert needle in line


def test_lone_surrogates_are_an_input_error(tmp_path):
    bad = tmp_path / "sur.json"
    data = json.loads(GOOD.read_text(encoding="utf-8"))
    data["utterances"][0]["text"] = "您好\ud800"
    bad.write_text(json.dumps(data), encoding="ascii")  # \ud800 as a JSON escape: valid JSON, invalid Unicode
    code, _, stderr = _score(str(bad), "--db", f"sqlite:///{tmp_path / 'qc.db'}")
    assert code == 1 and "invalid Unicode" in stderr and "internal error" not in stderr


def test_empty_folder_and_missing_path_say_why(tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, stderr = _score(
        str(tmp_path / "empty"), str(tmp_path / "nope.json"), "--db", f"sqlite:///{tmp_path / 'x.db'}"
    )
    assert code == 1
    lines = _error_lines(stderr)
    assert any("empty" in line and "no transcripts (.json) or recordings" in line for line in lines)
    assert any("nope.json: no such file or folder" in line for line in lines)


def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
    not_db = tmp_path / "notes.db"
    not_db.write_text("meeting notes, not a database\n" * 50, encoding="utf-8")
    code, _, stderr = _score(str(GOOD), "--db", f"sqlite:///{not_db}")
    assert code == 1
    assert "not a database" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_a_missing_database_folder_is_one_line(tmp_path):
    code, _, stderr = _score(str(GOOD), "--db", f"sqlite:///{tmp_path / 'no' / 'such' / 'qc.db'}")
    assert code == 1 and "does not exist" in stderr and len(stderr.strip().splitlines()) == 1


def test_results_are_printed_only_once_stored(tmp_path, monkeypatch):
    """A disk that fills up mid-batch: what was printed is exactly what the database holds."""
    for i in range(5):
        _call(tmp_path / "calls" / f"{i}.json", call_id=f"FULL-{i}")
    saved = {"batches": 0}
    original = Store.save_rows

    def filling_up(self, items, lexicon_root=None):
        items = list(items)
        if saved["batches"] >= 1:
            raise StoreError("database error in sqlite:///x: database or disk is full")
        saved["batches"] += 1
        return original(self, items, lexicon_root)

    monkeypatch.setattr(Store, "save_rows", filling_up)
    monkeypatch.setattr("qc.pipeline.PARALLEL_FROM", 10_000)
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    from qc.pipeline import score_inputs as run

    printed = []
    with pytest.raises(StoreError):
        run([tmp_path / "calls"], _lexicon(), Store(db), on_result=printed.append, commit_every=2)
    assert len(printed) == 2 == Store(db).count_calls()


def test_one_call_the_database_refuses_does_not_sink_its_batch(tmp_path, monkeypatch):
    for i in range(4):
        _call(tmp_path / "calls" / f"{i}.json", call_id=f"ONE-{i}")
    original = Store.save_rows

    def picky(self, items, lexicon_root=None):
        items = list(items)
        if any(c.call_id == "ONE-2" for c in items):
            raise StoreError("value too long for type character varying(128)")
        return original(self, items, lexicon_root)

    monkeypatch.setattr(Store, "save_rows", picky)
    failures: list[Failure] = []
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    summary = score_inputs([tmp_path / "calls"], _lexicon(), Store(db), on_failure=failures.append)
    assert summary.done == 3 and Store(db).count_calls() == 3
    (failure,) = failures
    assert failure.path.endswith("2.json") and "not stored" in failure.reason


def test_json_output_is_masked_unless_asked_not_to(tmp_path):
    call = _call(
        tmp_path / "c.json",
        call_id="MASK-1",
        utterances=[
            {"speaker": "agent", "text": "您好，中通速递。"},
            {"speaker": "agent", "text": "你找领导去，他电话13812345678。"},
        ],
    )
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    out = tmp_path / "r.jsonl"
    _score(str(call), "--db", db, "--json", str(out))
    masked = out.read_text(encoding="utf-8")
    assert "13812345678" not in masked and "你找领导去" in masked
    _score(str(call), "--db", db, "--json", str(out), "--no-mask")
    assert "13812345678" in out.read_text(encoding="utf-8")
    # the database keeps what was said
    assert "13812345678" in json.dumps(Store(db).load_result_rows("MASK-1")["transcript"], ensure_ascii=False)


def test_json_to_an_unwritable_place_is_one_line_and_no_partial_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, _, stderr = _score(str(GOOD), "--db", f"sqlite:///{tmp_path / 'qc.db'}", "--json", str(blocker / "r.jsonl"))
    assert code == 1 and "cannot write" in stderr and len(stderr.strip().splitlines()) == 1


def test_default_database_does_not_depend_on_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("QC_DB", raising=False)
    monkeypatch.setenv("QC_HOME", str(tmp_path / "home"))
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(here)
    assert _score(str(GOOD))[0] == 0
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(cli, ["report", "monthly", "--month", "2026-11", "--out", "m.csv"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "home" / "qc.db").is_file() and not (here / "qc.db").exists()


def test_default_home_is_the_user_data_folder(monkeypatch):
    import platformdirs

    from qc.config import database_url

    monkeypatch.delenv("QC_DB", raising=False)
    monkeypatch.delenv("QC_HOME", raising=False)
    assert database_url() == f"sqlite:///{platformdirs.user_data_path('qc') / 'qc.db'}"


def test_relative_audio_in_a_transcript_is_stored_absolute(tmp_path, monkeypatch):
    call = _call(tmp_path / "calls" / "c.json", call_id="AUDIO-1", audio="../rec/c.wav")
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    monkeypatch.chdir(tmp_path)
    _score(str(call.relative_to(tmp_path)), "--db", db)
    assert Store(db).load_result_rows("AUDIO-1")["audio"] == str((tmp_path / "rec" / "c.wav").resolve())


def test_quiet_leaves_only_error_lines(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--quiet", "score", str(GOOD), str(bad), "--db", f"sqlite:///{tmp_path / 'q.db'}"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == _error_lines(result.stderr)
    assert len(_error_lines(result.stderr)) == 1


def test_the_same_file_named_twice_is_scored_once(tmp_path):
    failures: list[Failure] = []
    inputs = collect_inputs([GOOD, str(GOOD), GOOD.parent])
    assert len([p for p in inputs.transcripts if p.resolve() == GOOD.resolve()]) == 1
    assert not failures


def test_symlinked_and_hidden_files_are_not_double_counted(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(GOOD, folder / "a.json")
    (folder / ".a.json.swp.json").write_text("{", encoding="utf-8")
    os.symlink(folder / "a.json", folder / "b.json")
    inputs = collect_inputs([folder])
    assert len(inputs.transcripts) == 1


def _lexicon():
    from qc.config import default_lexicon_dir
    from qc.inspection.lexicon import load_lexicon

    return load_lexicon(default_lexicon_dir())


def test_bad_recordings_with_several_workers_are_lines_not_a_broken_pool(tmp_path):
    """Zero bytes, not audio, a manifest naming a missing file: each one line, with --jobs 2."""
    (tmp_path / "1024_20261103091500.wav").write_bytes(b"")
    (tmp_path / "1024_20261103101500.wav").write_text("not audio", encoding="utf-8")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,call_id,agent_id\nmissing.wav,M-1,1024\n", encoding="utf-8")
    for command in (
        ["transcribe", "--out", str(tmp_path / "out")],
        ["score", "--db", f"sqlite:///{tmp_path / 'q.db'}"],
    ):
        result = CliRunner().invoke(cli, [*command, str(tmp_path), str(manifest), "--jobs", "2"])
        assert result.exit_code == 1
        lines = _error_lines(result.stderr)
        assert len(lines) == 3, result.stderr
        assert "BrokenProcessPool" not in result.stderr and "Traceback" not in result.stderr
        assert any("missing.wav" in line for line in lines)


def test_transcribe_to_an_unwritable_folder_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    (tmp_path / "1024_20261103091500.wav").write_bytes(b"")
    result = CliRunner().invoke(
        cli, ["transcribe", str(tmp_path / "1024_20261103091500.wav"), "--out", str(blocker / "out")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "cannot write" in result.stderr


def test_odd_files_in_a_folder_are_each_one_line(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    os.symlink("loop.json", folder / "loop.json")
    (folder / "unicode.json").write_text(
        json.dumps(dict(json.loads(GOOD.read_text(encoding="utf-8")), call_id="U16"), ensure_ascii=False),
        encoding="utf-16",
    )
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    code, _, stderr = _score(str(folder), "--db", db)
    assert code == 1
    lines = _error_lines(stderr)
    assert len(lines) == 2 and "internal error" not in stderr
    assert any("deep.json" in line and "nested too deeply" in line for line in lines)
    assert any("loop.json" in line and "cannot read" in line for line in lines)
    assert Store(db).load_result_rows("U16") is not None  # UTF-16 with a BOM is read, not refused


def test_transcripts_found_in_a_folder_are_not_errors_for_transcribe(tmp_path):
    """--out inside the recordings folder: the next run finds its own transcripts there, and says nothing
    about them; a transcript named on the command line is still reported."""
    (tmp_path / "1024_20261103091500.wav").write_bytes(b"")
    earlier = _call(tmp_path / "out" / "C-1.json", call_id="C-1")
    result = CliRunner().invoke(cli, ["transcribe", str(tmp_path), "--out", str(tmp_path / "out")])
    lines = _error_lines(result.stderr)
    assert len(lines) == 1 and "1024_20261103091500.wav" in lines[0], result.stderr
    named = CliRunner().invoke(cli, ["transcribe", str(earlier), "--out", str(tmp_path / "out")])
    assert any("not a recording" in line for line in _error_lines(named.stderr))
