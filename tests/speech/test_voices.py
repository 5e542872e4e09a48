"""Telling two voices apart on a mono channel (qc.speech.voices) and using it for roles."""

from __future__ import annotations

import numpy as np
import pytest

from qc.speech.roles import attribute_roles
from qc.speech.voices import segment_features, split_voices

pytestmark = pytest.mark.issue(9)
RATE = 16000


def _voice(f0: float, seconds: float, seed: int) -> np.ndarray:
    """A buzzy harmonic 'voice' with a little vibrato and noise: pitch is what tells the two apart."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = f0 * (1 + 0.03 * np.sin(2 * np.pi * 4 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.2 * wave + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def _call(pattern: str) -> tuple[np.ndarray, list[tuple[float, float]]]:
    pieces, spans, at = [], [], 0.0
    for i, who in enumerate(pattern):
        seconds = 1.2 + 0.3 * (i % 3)
        pieces += [np.zeros(int(0.5 * RATE), np.float32), _voice(110.0 if who == "a" else 240.0, seconds, i)]
        spans.append((at + 0.5, at + 0.5 + seconds))
        at += 0.5 + seconds
    return np.concatenate(pieces), spans


def test_two_voices_are_split_and_named_by_the_text():
    pattern = "acacaacaca"
    samples, spans = _call(pattern)
    feats = [segment_features(samples, a, b) for a, b in spans]
    assert all(f is not None for f in feats)
    assert abs(np.exp(feats[0][0]) - 110) < 10 and abs(np.exp(feats[1][0]) - 240) < 20  # pitch read right
    # the words are only a little agent-like for the agent's turns, and one is misleading
    p_text = [0.6 if w == "a" else 0.4 for w in pattern]
    p_text[2] = 0.3
    split = split_voices(feats, [b - a for a, b in spans], p_text)
    assert split is not None and split.margin > 0.5
    assert [p > 0.5 for p in split.p_agent] == [w == "a" for w in pattern]
    flipped = split_voices(feats, [b - a for a, b in spans], [1 - p for p in p_text])
    assert flipped is not None and [p > 0.5 for p in flipped.p_agent] == [w == "c" for w in pattern]


def test_one_voice_is_not_split():
    samples, spans = _call("aaaaaaaa")
    feats = [segment_features(samples, a, b) for a, b in spans]
    assert split_voices(feats, [b - a for a, b in spans], [0.6, 0.4] * 4) is None


def test_too_short_to_tell_gives_nothing():
    samples = _voice(120.0, 0.05, 0)
    assert segment_features(samples, 0.0, 0.05) is None


def test_a_backchannel_takes_its_role_from_the_voice_not_its_words():
    class Model:  # what the text classifier would say: 好的 sounds like either side
        def p_agent_many(self, texts):
            return [{"您好中通速递": 0.9, "好的": 0.7}.get(t, 0.2) for t in texts]

    texts = ["您好中通速递", "我的快件没到", "好的", "我查一下"]
    alone = attribute_roles(texts, Model(), switch=0.5)
    voiced = attribute_roles(texts, Model(), switch=0.5, voice=[0.9, 0.1, 0.1, 0.9])
    assert voiced.speakers[2] == "customer" and voiced.method.endswith("voices + turn-taking")
    assert alone.speakers[2] != "customer"  # words alone cannot tell who said 好的
