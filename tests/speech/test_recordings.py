"""Which recordings, and each call's metadata: absolute paths, and a bad date is an error for that row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qc.errors import InputError
from qc.speech.recordings import CallMeta, meta_from_name, read_manifest, resolve_recordings
from tests.conftest import DATA

STEREO = DATA / "audio" / "stereo_call_8k.wav"
HEADER = "path,call_id,agent_id,agent_name,started_at\n"


def test_file_name_pattern():
    meta = meta_from_name("x/1024_20261103091500.wav")
    assert (meta.agent_id, meta.started_at, meta.call_id) == ("1024", "2026-11-03T09:15:00", "1024_20261103091500")
    custom = meta_from_name("a/王芳-1024-0001.mp3", "{agent_name}-{agent_id}-{call_id}")
    assert (custom.agent_name, custom.agent_id, custom.call_id) == ("王芳", "1024", "0001")
    with pytest.raises(InputError, match="no agent"):
        meta_from_name("x/recording.wav")


@pytest.mark.issue(7)
def test_paths_from_file_names_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meta = meta_from_name("rec/1024_20261103091500.wav")
    assert Path(meta.path).is_absolute()
    assert meta.path == str((tmp_path / "rec" / "1024_20261103091500.wav").resolve())


@pytest.mark.issue(7)
@pytest.mark.parametrize(
    "name,pattern",
    [
        ("1024_20260230120000.wav", "{agent_id}_{started_at:%Y%m%d%H%M%S}"),  # 30 February
        ("1024_yesterday.wav", "{agent_id}_{started_at}"),
        ("1024_21-11-2026.wav", "{agent_id}_{started_at}"),
    ],
)
def test_bad_start_time_in_a_file_name_is_an_error_for_that_file(name, pattern):
    with pytest.raises(InputError) as caught:
        meta_from_name(f"rec/{name}", pattern)
    assert caught.value.path.endswith(name) and "started_at" in caught.value.reason


def test_iso_start_time_in_a_file_name(tmp_path):
    meta = meta_from_name(tmp_path / "1024_2026-11-03T09:15:00.wav", "{agent_id}_{started_at}")
    assert meta.started_at == "2026-11-03T09:15:00"


def _manifest(folder: Path, rows: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "m.csv").write_text(HEADER + rows, encoding="utf-8-sig")
    return folder / "m.csv"


def test_manifest(tmp_path):
    shutil.copy(STEREO, tmp_path / "a.wav")
    shutil.copy(STEREO, tmp_path / "b.wav")
    manifest = _manifest(tmp_path, "a.wav,c1,1024,王芳,2026-11-03T09:15:00+08:00\nb.wav,c2,,,\n")
    first, second = read_manifest(manifest)
    assert first == CallMeta(str((tmp_path / "a.wav").resolve()), "c1", "1024", "王芳", "2026-11-03T09:15:00+08:00")
    assert isinstance(second, InputError) and "m.csv:3" in str(second) and "no agent_id" in str(second)


@pytest.mark.issue(7)
def test_manifest_paths_are_anchored_at_the_manifest_not_the_current_folder(tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    (calls / "audio").mkdir(parents=True)
    shutil.copy(STEREO, calls / "audio" / "x.wav")
    _manifest(calls, "audio/x.wav,X-1,1024,,\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (meta,) = read_manifest(Path("..") / "calls" / "m.csv")
    assert meta.path == str((calls / "audio" / "x.wav").resolve())
    assert Path(meta.path).is_absolute() and Path(meta.path).is_file()


@pytest.mark.issue(7)
@pytest.mark.parametrize("value", ["yesterday afternoon", "21/11/2026 10:00", "2026-02-30"])
def test_bad_start_time_in_a_manifest_row_names_the_line(tmp_path, value):
    shutil.copy(STEREO, tmp_path / "a.wav")
    manifest = _manifest(tmp_path, f"a.wav,ok,1024,,2026-11-03\na.wav,bad,1024,,{value}\n")
    good, bad = read_manifest(manifest)
    assert isinstance(good, CallMeta) and good.started_at == "2026-11-03"
    assert isinstance(bad, InputError)
    assert f"{manifest}:3" in bad.path and "started_at" in bad.reason and value in bad.reason


@pytest.mark.issue(7)
def test_manifest_row_whose_recording_is_missing_names_the_line(tmp_path):
    manifest = _manifest(tmp_path, "gone.wav,c1,1024,,\n")
    (err,) = read_manifest(manifest)
    assert isinstance(err, InputError)
    assert "gone.wav" in err.path and f"{manifest}:2" in err.path and "not found" in err.reason


def test_manifest_with_wrong_header(tmp_path):
    (tmp_path / "m.csv").write_text("file,agent\nx.wav,1\n", encoding="utf-8")
    (err,) = read_manifest(tmp_path / "m.csv")
    assert "header lacks path, agent_id" in str(err)


def test_manifest_not_utf8_or_missing(tmp_path):
    (tmp_path / "gbk.csv").write_bytes((HEADER + "a.wav,c1,1024,王芳,\n").encode("gbk"))
    (err,) = read_manifest(tmp_path / "gbk.csv")
    assert "not UTF-8" in err.reason
    (err,) = read_manifest(tmp_path / "missing.csv")
    assert "cannot read manifest" in err.reason and "Errno" not in err.reason


@pytest.mark.issue(7)
def test_resolve_recordings_folders_manifests_and_missing_paths(tmp_path):
    rec = tmp_path / "rec"
    (rec / "sub").mkdir(parents=True)
    shutil.copy(STEREO, rec / "1024_20261103091500.wav")
    shutil.copy(STEREO, rec / "sub" / "2048_20261103100000.wav")
    (rec / "notes.txt").write_text("not a recording", encoding="utf-8")
    shutil.copy(STEREO, tmp_path / "m.wav")
    manifest = _manifest(tmp_path, "m.wav,M-1,3072,,\n")
    out = resolve_recordings([rec, manifest, tmp_path / "nope.wav"])
    metas = [m for m in out if isinstance(m, CallMeta)]
    errors = [e for e in out if isinstance(e, InputError)]
    assert [m.call_id for m in metas] == ["1024_20261103091500", "2048_20261103100000", "M-1"]
    assert all(Path(m.path).is_absolute() for m in metas)
    (missing,) = errors
    assert missing.path.endswith("nope.wav") and missing.reason == "file not found"
