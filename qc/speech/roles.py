"""Who is speaking on a mono recording: agent or customer, with a confidence.

Two signals: the side that says the opening script (您好，<公司>…) is the agent; and a scikit-learn
classifier of agent vs customer language (character n-gram TF-IDF + logistic regression) trained
by ``models/train_roles.py`` on text the project ships. The fitted model is stored as plain JSON
(vocabulary, idf, coefficients) with a metadata side-car — no pickle is ever loaded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qc.errors import QCError
from qc.text.normalize import normalize

MODELS = Path(__file__).resolve().parent.parent / "models"
ROLE_MODEL = MODELS / "roles.json"


@dataclass(frozen=True, slots=True)
class RoleModel:
    """A fitted TF-IDF + logistic-regression model, evaluated with plain Python."""

    vocabulary: dict[str, int]
    idf: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    ngram_range: tuple[int, int]

    @classmethod
    def load(cls, path: Path = ROLE_MODEL) -> RoleModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                data["vocabulary"],
                tuple(data["idf"]),
                tuple(data["coef"]),
                float(data["intercept"]),
                tuple(data["ngram_range"]),
            )  # type: ignore[arg-type]
        except (OSError, ValueError, KeyError) as err:
            raise QCError(f"{path}: cannot load the role model ({err}); run python models/train_roles.py") from None

    def p_agent(self, text: str) -> float:
        """Probability that ``text`` is the agent speaking."""
        norm = normalize(text).text
        counts: dict[int, int] = {}
        lo, hi = self.ngram_range
        for n in range(lo, hi + 1):
            for i in range(len(norm) - n + 1):
                j = self.vocabulary.get(norm[i : i + n])
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        weights = {j: (1 + math.log(c)) * self.idf[j] for j, c in counts.items()}  # sublinear tf
        length = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        z = self.intercept + sum(self.coef[j] * w / length for j, w in weights.items())
        return 1 / (1 + math.exp(-z))


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
) -> RoleGuess:
    """Label each segment of a mono recording; segments below ``min_confidence`` stay 'unknown'.

    Per-segment language probabilities are combined with turn-taking (speakers alternate more often
    than not: ``switch``) by a two-state forward-backward pass, so one customer-sounding sentence
    between two agent turns is weighed against its neighbours instead of being judged alone.
    """
    if not texts:
        return RoleGuess((), 0.0, "opening script + models/roles.json + turn-taking")
    opening = re.compile(_OPENING.pattern + ("|" + "|".join(map(re.escape, company)) if company else ""))
    emissions = []
    for k, text in enumerate(texts):
        p = min(max(model.p_agent(text), 0.02), 0.98)
        if k < 3 and opening.search(normalize(text).text):
            p = max(p, 0.95)  # the side that says the opening script is the agent
        emissions.append((p, 1 - p))  # (agent, customer)
    posterior = _forward_backward(emissions, switch)
    speakers, confidences = [], []
    for p in posterior:
        conf = max(p, 1 - p)
        confidences.append(conf)
        speakers.append(("agent" if p >= 0.5 else "customer") if conf >= min_confidence else "unknown")
    mean = sum(confidences) / len(confidences)
    return RoleGuess(tuple(speakers), round(mean, 3), "opening script + models/roles.json + turn-taking")


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
