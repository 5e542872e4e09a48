"""qc's phrase rules as a spaCy pipeline component, for teams that already process text with spaCy.

    import spacy
    import qc.inspection.spacy_component  # registers "qc_inspector" (or via the spacy_factories entry point)

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("qc_inspector")  # config: lexicons, speaker, learned, spans_key
    doc = nlp("这个我也不知道，你找领导去。")
    [(s.text, s.label_, s._.qc_rule_id) for s in doc.spans["qc"]]
    # [('不知道', 'negative', 'NEG-002'), ('你找领导去', 'banned', 'BAN-002')]

Each doc is scored by the same ``Inspector`` as ``qc score``, as a call of one utterance. What
comes back is only what a rule found *in that sentence* (banned, nonstandard, filler, negative
phrases, and suspected ones when the learned layer is on), as spans labelled with the hit's
category. Deliberately left out, because a single sentence is not a call:

* whole-call findings (no opening, no closing: ``Hit.utterance`` is None) — every sentence would
  "miss" both, so they would be on every doc and mean nothing;
* findings of mandatory-line rules (rule kind ``script``) even when they quote the sentence — "开场白
  不完整" on a lone "您好" judges the sentence as the start of a call, which it is not;
* timing rules (silence, interruption, speech rate) need utterance times, which a doc has not: the
  engine skips them by itself.

Use ``qc score`` on a whole transcript for the call's score and its checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from qc.config import default_lexicon_dir
from qc.inspection.engine import Inspector
from qc.inspection.lexicon import load_lexicon
from qc.schema import SPEAKERS, Hit, Transcript, Utterance

FACTORY = "qc_inspector"

# Plain values, so the pipeline's config.cfg round-trips through nlp.to_disk / spacy.load.
# lexicons None: qc.config.default_lexicon_dir() when the component is built ($QC_LEXICONS, else
# the bundled lexicons). learned False: rules alone are deterministic and explainable, and the
# model costs a scikit-learn import and load; turn it on to see suspected hits too.
DEFAULT_CONFIG: dict[str, Any] = {"lexicons": None, "speaker": "agent", "learned": False, "spans_key": "qc"}

# Hit fields behind each span attribute. The attributes are getters reading ``doc._.qc_hits`` by
# the span's id (the hit_id), not values stored per span: spaCy keys a span's stored extension
# values by its character offsets only, so two hits on the same words (a banned and a negative
# rule, or two quotes that "expand" to the same tokens) would overwrite each other's rule id.
SPAN_ATTRS: dict[str, str] = {
    "qc_rule_id": "rule_id",
    "qc_hit_id": "hit_id",
    "qc_status": "status",
    "qc_confidence": "confidence",
    "qc_deduction": "deduction",
    "qc_suggestion": "suggestion",
    "qc_name": "name",
}

# "RULE@0:8-13" or "RULE@0:8-13#2": the quoted characters of utterance 0's original text, which is
# the doc's text (engine._to_hit). "RULE@0" quotes the whole turn (a suspected hit: the model
# judges the sentence, not words in it).
_QUOTED = re.compile(r"@0:(\d+)-(\d+)(?:#\d+)?$")


def _span_getter(key: str) -> Callable[[Span], Any]:
    def get(span: Span) -> Any:
        hits = span.doc._.qc_hits
        hit = hits.get(span.id_) if hits else None
        return None if hit is None else hit[key]

    return get


def register_extensions() -> None:
    """Register ``Doc._.qc_hits`` and the ``Span._.qc_*`` attributes; safe to call again (force=True
    replaces our own earlier registration, e.g. after a module reload, instead of raising)."""
    Doc.set_extension("qc_hits", default=None, force=True)
    for attr, key in SPAN_ATTRS.items():
        Span.set_extension(attr, getter=_span_getter(key), force=True)


register_extensions()


def _hit_record(hit: Hit) -> dict[str, Any]:
    """The hit as plain values, so the doc (user_data) still serialises with Doc.to_bytes / DocBin."""
    return {
        "rule_id": hit.rule_id,
        "hit_id": hit.hit_id,
        "category": hit.category,
        "name": hit.name,
        "status": hit.status,
        "confidence": hit.confidence,
        "deduction": hit.deduction,
        "veto": hit.veto,
        "suggestion": hit.suggestion,
        "detail": hit.detail,
        "text": hit.text,
    }


def char_offsets(hit: Hit, text: str) -> tuple[int, int]:
    """Where the hit's quote lies in the doc's text: from its hit_id, whose offsets are the original
    text's (the words before normalisation); the whole text for a hit about the whole turn."""
    m = _QUOTED.search(hit.hit_id)
    return (int(m.group(1)), int(m.group(2))) if m else (0, len(text))


@dataclass
class QCInspector:
    """The pipeline component: scores ``doc.text`` and writes the phrase-level hits to
    ``doc.spans[spans_key]`` (replacing that group; empty when nothing was found) and
    ``doc._.qc_hits`` ({hit_id: hit fields}, which the span attributes read)."""

    inspector: Inspector
    speaker: str = "agent"
    spans_key: str = "qc"
    # Mandatory-line rules, whose findings judge a call, not a sentence. By id, once: a suspected
    # hit's rule (SUS-…) is made by the engine and is not in the lexicon to look up.
    script_rules: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.script_rules = frozenset(r.info.id for r in self.inspector.rules if r.kind == "script")

    def __call__(self, doc: Doc) -> Doc:
        hits = self.phrase_hits(doc.text) if doc.text.strip() else []
        spans: list[Span] = []
        for hit in hits:
            start, end = char_offsets(hit, doc.text)
            span = doc.char_span(start, end, label=hit.category, alignment_mode="expand", span_id=hit.hit_id)
            if span is not None:  # None only for a quote of nothing but whitespace between tokens
                spans.append(span)
        doc.spans[self.spans_key] = sorted(spans, key=lambda s: (s.start, s.end))
        doc._.qc_hits = {hit.hit_id: _hit_record(hit) for hit in hits}
        return doc

    def phrase_hits(self, text: str) -> list[Hit]:
        """The hits of ``text`` scored as a one-utterance call, without the ones about the call
        (see the module docstring)."""
        transcript = Transcript(call_id="spacy", agent_id="spacy", utterances=(Utterance(self.speaker, text),))
        result = self.inspector.score(transcript)
        return [h for h in result.hits if h.utterance == 0 and h.rule_id not in self.script_rules]


def build_inspector(lexicons: str | Path | None, learned: bool) -> Inspector:
    """Load and compile the lexicon once per component; a ``learned`` layer that was asked for but
    has no model to run is an error, not a silent "no suspects"."""
    root = Path(lexicons).expanduser() if lexicons else default_lexicon_dir()
    inspector = Inspector(load_lexicon(root), learned=learned)
    if learned and inspector.suspects is None:
        raise ValueError(f"{FACTORY}: learned=true but qc ships no suspect model (models/suspects.skops)")
    return inspector


@Language.factory(FACTORY, default_config=DEFAULT_CONFIG)
def make_qc_inspector(
    nlp: Language, name: str, lexicons: str | None, speaker: str, learned: bool, spans_key: str
) -> QCInspector:
    """spaCy factory for ``nlp.add_pipe("qc_inspector", config={...})``. The component keeps no
    state of its own: ``nlp.to_disk`` saves only this config, and loading builds the Inspector from
    the lexicon folder again (so edits to the lexicons are picked up, and nothing is duplicated).
    ``speaker`` is whose words the doc is: only speakers some rule names are scored ("agent" always),
    so with the bundled lexicons a "customer" doc yields no spans."""
    if speaker not in SPEAKERS:
        raise ValueError(f"{FACTORY}: speaker must be one of {', '.join(SPEAKERS)}, got {speaker!r}")
    return QCInspector(build_inspector(lexicons, learned), speaker=speaker, spans_key=spans_key)
