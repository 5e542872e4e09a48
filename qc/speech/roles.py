"""Who is speaking on a mono recording: agent or customer, with a confidence.

Two signals: the side that says the opening script (您好，<公司>…) is the agent; and a scikit-learn
classifier of agent vs customer language (character n-gram TF-IDF + logistic regression) trained
by ``models/train_roles.py`` on text the project ships, combined by turn-taking.

The fitted Pipeline is stored with skops, not pickle: a pickle runs whatever code it names when
loaded, a skops file only builds the types it is allowed to. qc lists the types the file asks for
(``skops.io.get_untrusted_types``) and loads it only if every one is on ``ALLOWED_TYPES`` below —
never ``trusted=True`` — so a replaced model file cannot run code on an inspector's machine.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qc.classify.persist import TEXT_PIPELINE_TYPES, load_model, read_meta
from qc.config import models_dir
from qc.errors import QCError
from qc.text.normalize import normalize

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)

MODEL_FILE = "roles.skops"
META_FILE = "roles.meta.json"
METHOD = "opening script + models/roles.skops + turn-taking"
VOICE_METHOD = "opening script + models/roles.skops + voices + turn-taking"

ALLOWED_TYPES = TEXT_PIPELINE_TYPES


def role_model_path() -> Path:
    """The role model shipped with qc (``models/roles.skops``)."""
    return models_dir() / MODEL_FILE


class RoleModel:
    """The fitted scikit-learn Pipeline, loaded safely; predicts with scikit-learn itself."""

    def __init__(self, pipeline: Pipeline, path: Path) -> None:
        self.pipeline = pipeline
        self.path = path
        self._agent_column = list(pipeline.classes_).index(1)

    @classmethod
    def load(cls, path: Path | None = None) -> RoleModel:
        """Load ``path`` (default: the shipped model); QCError if it is missing, foreign or unsafe."""
        path = Path(path) if path is not None else role_model_path()
        hint = "run python models/train_roles.py"
        pipeline = load_model(path, ALLOWED_TYPES, "role model", hint)
        _check_shape(pipeline, path)
        _check_meta(path)
        return cls(pipeline, path)

    def p_agent_many(self, texts: Sequence[str]) -> list[float]:
        """Probability that each text is the agent speaking (one scikit-learn call for all)."""
        if not texts:
            return []
        norm = [normalize(t).text for t in texts]
        return [float(p) for p in self.pipeline.predict_proba(norm)[:, self._agent_column]]

    def p_agent(self, text: str) -> float:
        """Probability that ``text`` is the agent speaking."""
        return self.p_agent_many([text])[0]

    def fingerprint(self) -> str:
        """Short id of the model file (see ``model_fingerprint``)."""
        return model_fingerprint(self.path)


def model_fingerprint(path: Path | None = None) -> str:
    """Short id of a role model file, for transcript cache keys (a retrained model re-attributes mono
    calls); read without loading the model, so a broken model cannot stop stereo calls."""
    try:
        return hashlib.sha256(Path(path or role_model_path()).read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


def _check_shape(pipeline: Any, path: Path) -> None:
    """The file must hold what train_roles.py writes: TF-IDF then logistic regression, labels 0/1."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    steps = getattr(pipeline, "steps", None)
    ok = (
        isinstance(pipeline, Pipeline)
        and len(steps) == 2
        and isinstance(steps[0][1], TfidfVectorizer)
        and isinstance(steps[1][1], LogisticRegression)
        and sorted(getattr(pipeline, "classes_", [])) == [0, 1]
    )
    if not ok:
        raise QCError(f"{path}: not a role model (expected TF-IDF + LogisticRegression with labels 0/1)")


def _check_meta(path: Path) -> None:
    read_meta(path, META_FILE, "role model", "retrain with models/train_roles.py")


_OPENING = re.compile(r"(您好|你好).{0,8}(为您服务|工号|很高兴)")


@dataclass(frozen=True, slots=True)
class RoleGuess:
    speakers: tuple[str, ...]  # agent / customer / unknown per segment
    confidence: float  # mean confidence of the chosen roles
    method: str


def attribute_roles(
    texts: Sequence[str],
    model: RoleModel,
    company: Sequence[str] = (),
    min_confidence: float = 0.65,
    switch: float = 0.7,
    voice: Sequence[float] | None = None,
) -> RoleGuess:
    """Label each segment of a mono recording; segments below ``min_confidence`` stay 'unknown'.

    ``voice``: P(agent) per segment from how it sounds (qc.speech.voices), where the call's two
    voices could be told apart; it is combined with the words as independent evidence.

    Per-segment language probabilities are combined with turn-taking (speakers alternate more often
    than not: ``switch``) by a two-state forward-backward pass, so one customer-sounding sentence
    between two agent turns is weighed against its neighbours instead of being judged alone.
    """
    if not texts:
        return RoleGuess((), 0.0, METHOD)
    opening = re.compile(_OPENING.pattern + ("|" + "|".join(map(re.escape, company)) if company else ""))
    emissions = []
    for k, p in enumerate(text_evidence(texts, model)):
        if voice is not None:  # independent evidence: log-odds add
            v = min(max(voice[k], 0.05), 0.95)
            odds = (p / (1 - p)) * (v / (1 - v))
            p = min(max(odds / (1 + odds), 0.02), 0.98)
        if k < 3 and opening.search(normalize(texts[k]).text):
            p = max(p, 0.95)  # the side that says the opening script is the agent
        emissions.append((p, 1 - p))  # (agent, customer)
    posterior = _forward_backward(emissions, switch)
    speakers, confidences = [], []
    for p in posterior:
        conf = max(p, 1 - p)
        confidences.append(conf)
        speakers.append(("agent" if p >= 0.5 else "customer") if conf >= min_confidence else "unknown")
    mean = sum(confidences) / len(confidences)
    return RoleGuess(tuple(speakers), round(mean, 3), METHOD if voice is None else VOICE_METHOD)


# Turns that say nothing about who speaks: either side says them, so their words weigh nothing and
# the voice and the neighbouring turns decide.
_BACKCHANNEL = re.compile(r"(嗯|啊|哦|噢|呃|对|是|好|行|可以|没错|明白|知道了|好的|是的|对的|对对|嗯嗯|好嘞|谢谢)+")


def text_evidence(texts: Sequence[str], model: RoleModel) -> list[float]:
    """P(agent) per segment from its words alone (0.5 for a bare backchannel such as 好的 or 嗯)."""
    out = []
    for text, p_agent in zip(texts, model.p_agent_many(texts), strict=True):
        bare = normalize(text).text.replace("|", "")
        out.append(0.5 if _BACKCHANNEL.fullmatch(bare) else min(max(p_agent, 0.02), 0.98))
    return out


def _forward_backward(emissions: Sequence[tuple[float, float]], switch: float) -> list[float]:
    """P(agent) for each segment of a two-state HMM (agent, customer); the call opens with either."""
    stay = 1 - switch
    forward: list[tuple[float, float]] = []
    a, c = 0.5 * emissions[0][0], 0.5 * emissions[0][1]
    total = a + c
    forward.append((a / total, c / total))
    for ea, ec in emissions[1:]:
        pa, pc = forward[-1]
        a = ea * (pa * stay + pc * switch)
        c = ec * (pc * stay + pa * switch)
        total = a + c
        forward.append((a / total, c / total))
    backward = [(1.0, 1.0)] * len(emissions)
    for k in range(len(emissions) - 2, -1, -1):
        ea, ec = emissions[k + 1]
        ba, bc = backward[k + 1]
        a = stay * ea * ba + switch * ec * bc
        c = switch * ea * ba + stay * ec * bc
        total = a + c
        backward[k] = (a / total, c / total)
    out = []
    for (fa, fc), (ba, bc) in zip(forward, backward, strict=True):
        a, c = fa * ba, fc * bc
        out.append(a / (a + c))
    return out
