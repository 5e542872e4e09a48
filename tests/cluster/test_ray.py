"""The Ray backend on a real local Ray cluster (issue 13): same transcripts as the process pool, a worker
killed mid-file retried, a recording that always kills its worker reported while the rest are stored,
and a rerun that submits nothing.

One local Ray (2 CPUs) for the module. Its workers get a transcript cache of their own (QC_CACHE in
the job's environment), as workers on other machines would: what the driver finds cached on a rerun
it wrote itself.
"""

from __future__ import annotations

import json
import os
import shutil
import wave

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'qc[ray]'): the Ray backend is untested")

from qc.cluster import driver  # noqa: E402 - after the skip: it needs Ray at run time
from qc.cluster.connect import ClusterError, RayTarget  # noqa: E402
from qc.cluster.driver import Placement, run_on_ray  # noqa: E402
from qc.errors import Failure  # noqa: E402
from qc.pipeline import Recognition, score_inputs, transcribe_inputs  # noqa: E402
from qc.speech.transcribe import TranscribeOptions  # noqa: E402
from qc.speech.whisper import packaged_model_dir  # noqa: E402
from qc.store import Store  # noqa: E402
from qc.workers import Task  # noqa: E402
from tests.cluster import tasks  # noqa: E402
from tests.conftest import DATA, ROOT  # noqa: E402

CALLS = DATA / "audio" / "calls"
# two halves of a short mono call (zt-s05, 16 kHz PCM: 0–5.5 s and 5.5–12 s, cut in a pause), named as the
# default pattern reads: two recordings of their own content, recognised in a few seconds each
GOOD = {"1024_20261103091500.wav": (0.0, 5.5), "2048_20261103101500.wav": (5.5, 12.1)}


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    """(the driver's cache, the workers' cache): set before Ray starts, so every worker sees its own."""
    driver_cache, worker_cache = tmp_path_factory.mktemp("driver-cache"), tmp_path_factory.mktemp("worker-cache")
    old = os.environ.get("QC_CACHE")
    os.environ["QC_CACHE"] = str(driver_cache)
    yield driver_cache, worker_cache
    if old is None:
        del os.environ["QC_CACHE"]
    else:
        os.environ["QC_CACHE"] = old


@pytest.fixture(scope="module")
def local_ray(caches):
    _, worker_cache = caches
    # the model joined once (in the driver's cache) and shared: each worker joining 140 MB is not the test
    env = {"PYTHONPATH": str(ROOT), "QC_CACHE": str(worker_cache), "QC_WHISPER_MODEL": str(packaged_model_dir())}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    with wave.open(str(CALLS / "zt-s05.wav")) as call:
        params, rate = call.getparams(), call.getframerate()
        frames = call.readframes(call.getnframes())
    width = params.sampwidth * params.nchannels
    for name, (start, end) in GOOD.items():
        with wave.open(str(folder / name), "wb") as part:
            part.setparams(params)
            part.writeframes(frames[int(start * rate) * width : int(end * rate) * width])
    return folder


@pytest.fixture()
def submitted(monkeypatch):
    """What the driver submits to Ray, one entry per task."""
    seen: list[object] = []
    real = driver._submit

    def counting(remote, key, boxed, item):
        seen.append(item)
        return real(remote, key, boxed, item)

    monkeypatch.setattr(driver, "_submit", counting)
    return seen


def _transcribe(paths, out, lexicon, ray_address):
    recognition = Recognition(TranscribeOptions(force=True), ray=ray_address)  # both really transcribe
    failures: list[Failure] = []
    summary = transcribe_inputs(paths, out, lexicon, recognition, on_failure=failures.append)
    assert not failures and summary.done == len(GOOD)
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))}


def test_a_batch_gives_the_same_transcripts_as_the_process_pool(local_ray, recordings, lexicon, tmp_path, submitted):
    pool = _transcribe([recordings], tmp_path / "pool", lexicon, None)
    on_ray = _transcribe([recordings], tmp_path / "ray", lexicon, "local")
    assert len(submitted) == len(GOOD)  # --force: nothing taken from the cache
    assert pool.keys() == on_ray.keys() == {n.replace(".wav", ".json") for n in GOOD}
    for name, expected in pool.items():
        got = on_ray[name]
        assert got["utterances"] == expected["utterances"] and got["utterances"]
        assert got["roles"] == expected["roles"]
        # the worker read a temporary copy; the transcript names the recording itself
        assert got["audio"] == expected["audio"] == str(recordings / name.replace(".json", ".wav"))


def test_a_worker_killed_mid_file_is_retried_and_the_batch_completes(local_ray, tmp_path, submitted):
    task: Task[str, str] = Task(tasks.setup_marker, (str(tmp_path),), tasks.upper_or_die_once, tasks.name_of)
    outcomes = list(run_on_ray(task, ["a", "victim", "b", "c"], RayTarget()))
    assert sorted(outcomes) == ["A", "B", "C", "VICTIM"]  # once each: nothing lost, nothing duplicated
    assert (tmp_path / "victim.died").is_file()  # it did die once, on the first attempt
    assert len(submitted) == 4  # the retry was Ray's, not a second submission


def test_a_recording_that_always_kills_its_worker_fails_while_the_rest_are_stored(
    local_ray, recordings, lexicon, tmp_path, monkeypatch
):
    crasher = tmp_path / "rec" / f"{tasks.CRASHING_AGENT}_20261103111500.wav"
    crasher.parent.mkdir()
    shutil.copy(CALLS / "zt-s03.wav", crasher)  # content of its own: never in a cache
    monkeypatch.setattr("qc.cluster.recordings._transcribe", tasks.transcribe_or_crash)
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    failures: list[Failure] = []
    recognition = Recognition(ray="local")
    summary = score_inputs([recordings, crasher], lexicon, Store(db), recognition, on_failure=failures.append)
    (failure,) = failures
    assert failure.path == str(crasher)  # the driver's path, not the worker's temporary copy
    assert f"died on this recording {driver.RETRIES + 1} times" in failure.reason
    assert summary.done == len(GOOD) == Store(db).count_calls()
    assert Store(db).load_result_rows(crasher.stem) is None


def test_a_rerun_submits_nothing(local_ray, recordings, lexicon, caches, tmp_path, submitted):
    driver_cache, _ = caches
    shutil.rmtree(driver_cache / "transcripts", ignore_errors=True)  # only the workers' own disks know them
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    first = score_inputs([recordings], lexicon, Store(db), Recognition(ray="local"))
    assert first.done == len(GOOD) and len(submitted) == len(GOOD)
    assert len(list((driver_cache / "transcripts").glob("*.json"))) == len(GOOD)  # written by the driver
    submitted.clear()
    again = score_inputs([recordings], lexicon, Store(db), Recognition(ray="local"))
    assert again.done == len(GOOD) and submitted == []
    assert Store(db).count_calls() == len(GOOD)  # replaced, not duplicated


def test_a_gpu_asked_of_a_cluster_without_one_is_an_error_not_a_wait(local_ray, tmp_path, submitted):
    task: Task[str, str] = Task(tasks.setup_marker, (str(tmp_path),), tasks.upper_or_die_once, tasks.name_of)
    with pytest.raises(ClusterError, match="no GPU"):
        list(run_on_ray(task, ["a"], RayTarget(), placement=Placement(num_cpus=1, num_gpus=1)))
    assert submitted == []
