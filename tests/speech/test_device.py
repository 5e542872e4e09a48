"""Where Whisper runs: --device auto|cpu|cuda, float16 on a GPU, and a clear error without one.

The GPU path itself is exercised only where CTranslate2 sees a CUDA device (the accelerator
machine); everywhere else that test skips and the error path is what is checked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.errors import AsrError
from qc.speech import whisper
from qc.speech.recordings import CallMeta
from qc.speech.transcribe import CallTranscriber, TranscribeOptions
from qc.speech.whisper import DEFAULT_COMPUTE_TYPE, AsrSettings, resolve_device
from tests.conftest import DATA

HAS_CUDA = whisper.cuda_device_count() > 0


def test_cpu_is_cpu_without_asking_for_a_gpu(monkeypatch):
    monkeypatch.setattr(whisper, "cuda_device_count", lambda: pytest.fail("cpu must not probe for CUDA"))
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize(("count", "expected"), [(0, "cpu"), (1, "cuda"), (2, "cuda")])
def test_auto_takes_a_gpu_only_when_one_is_usable(monkeypatch, count, expected):
    monkeypatch.setattr(whisper, "cuda_device_count", lambda: count)
    assert resolve_device("auto") == expected


def test_cuda_without_a_gpu_says_what_is_missing_and_what_to_do(monkeypatch):
    monkeypatch.setattr(whisper, "cuda_device_count", lambda: 0)
    with pytest.raises(AsrError) as info:
        resolve_device("cuda")
    message = str(info.value)
    assert "CUDA" in message and "cuDNN" in message and "--device cpu" in message
    with pytest.raises(AsrError):
        resolve_device("tpu")


def test_the_device_keys_the_transcript_cache_and_the_gpu_computes_in_float16():
    cpu, gpu = AsrSettings(device="cpu"), AsrSettings(device="cuda", compute_type=DEFAULT_COMPUTE_TYPE["cuda"])
    assert cpu.transcript_settings()["device"] == "cpu"
    assert cpu.transcript_settings() != gpu.transcript_settings()
    assert DEFAULT_COMPUTE_TYPE == {"cpu": "int8", "cuda": "float16"}


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA GPU: the no-GPU error cannot happen here")
def test_cli_with_device_cuda_and_no_gpu_fails_in_one_line_before_reading_audio(tmp_path):
    result = CliRunner().invoke(
        cli, ["transcribe", str(DATA / "audio" / "stereo_call_8k.wav"), "--out", str(tmp_path), "--device", "cuda"]
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "CUDA" in lines[0] and "Traceback" not in result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU here (runs on the accelerator machine)")
def test_a_gpu_transcribes_in_float16_and_hears_what_the_cpu_hears(tmp_path, monkeypatch, terms, company):
    monkeypatch.setenv("QC_CACHE", str(tmp_path))
    meta = CallMeta(str(DATA / "audio" / "stereo_call_8k.wav"), "gpu-1", "1024")
    gpu = CallTranscriber(TranscribeOptions(AsrSettings(device="cuda", compute_type="float16")), terms, company)
    cpu = CallTranscriber(TranscribeOptions(AsrSettings()), terms, company)
    on_gpu, on_cpu = gpu.transcribe(meta), cpu.transcribe(meta)
    assert on_gpu.asr["device"] == "cuda" and on_gpu.asr["compute_type"] == "float16"
    gpu_text = "".join(u.text for u in on_gpu.utterances)
    cpu_text = "".join(u.text for u in on_cpu.utterances)
    assert "中通" in gpu_text
    shared = sum(1 for ch in set(gpu_text) if ch in cpu_text)
    assert shared / max(1, len(set(gpu_text))) > 0.8
