"""``--ray`` on the command line, and recordings sent as bytes: no Ray needed for these."""

from __future__ import annotations

import sys

from click.testing import CliRunner

from qc.cli import cli
from qc.cluster.shipping import Shipped, shipped_task
from qc.errors import Failure, InputError
from qc.speech.recordings import CallMeta
from qc.workers import Task
from tests.conftest import DATA


def test_score_with_ray_but_without_it_installed_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError, as where it is not installed
    db = f"sqlite:///{tmp_path / 'q.db'}"
    result = CliRunner().invoke(cli, ["score", str(DATA / "audio" / "calls"), "--ray", "--db", db])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["Error: qc[ray] is not installed: pip install 'qc[ray]'"]
    assert not (tmp_path / "q.db").exists()  # refused before anything was opened


def test_a_folder_taken_as_the_ray_address_is_explained(tmp_path):
    folder = str(tmp_path)  # `qc transcribe --ray recordings/ more/`: click gives --ray the first folder
    result = CliRunner().invoke(cli, ["transcribe", "--ray", folder, folder, "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "--ray=ADDRESS" in result.output


def _decode(_state: object, meta: CallMeta) -> str:
    with open(meta.path, "rb") as f:
        data = f.read()
    if data == b"broken":
        raise InputError(meta.path, f"not audio: {meta.path} could not be decoded")
    return data.decode()


def test_a_recording_sent_as_bytes_is_read_from_a_copy_and_failures_name_the_original():
    task = shipped_task(Task(lambda: None, (), _decode, lambda m: m.path))
    state = task.setup(*task.setup_args)
    original = "/data/calls/1024_20261103091500.wav"
    meta = CallMeta(original, "1024_20261103091500", "1024")
    assert task.run(state, Shipped(meta, b"hello", "k")) == "hello"
    failed = task.run(state, Shipped(meta, b"broken", "k"))
    assert failed == Failure(original, f"not audio: {original} could not be decoded")
