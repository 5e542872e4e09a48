"""Check one call against a lexicon: pure, no I/O, fast enough to re-score a month after each edit.

Architecture (figures in README, bench/bench_scoring.py):
1. normalise each utterance of the speakers the rules apply to (qc.text.normalize);
2. one Aho-Corasick pass (pyahocorasick, ~40 Mchar/s) over each utterance finds the anchor
   literals of every phrase and polite rule, so only rules that can match are tried;
3. each candidate rule runs its compiled regex, position, word-boundary (jieba, lazily, only
   for the few ``boundary: word`` rules) and exception checks;
4. script and timing rules look at the turns they concern;
5. the scorecard prices the findings (qc.inspection.scorecard).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import ahocorasick

from qc.inspection.lexicon import Lexicon
from qc.text.normalize import NormalizedText, normalize
from qc.inspection.rules import CallView, Finding, PhraseRule, PoliteRule, ScriptRule
from qc.schema import CallResult, Check, Hit, Transcript
from qc.inspection.scorecard import price_findings
from qc.text.words import JiebaSegmenter


class Inspector:
    """A lexicon compiled for matching. Build once, then call ``inspect`` per transcript."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.phrase_rules = [r for r in lexicon.rules if type(r) is PhraseRule]
        self.polite_rules = [r for r in lexicon.rules if type(r) is PoliteRule]
        self.script_rules = [r for r in lexicon.rules if isinstance(r, ScriptRule)]
        self.call_rules = [r for r in lexicon.rules if not isinstance(r, PhraseRule | ScriptRule)]
        self.text_rules: list[PhraseRule] = self.phrase_rules + self.polite_rules
        self.speakers = frozenset(s for r in self.text_rules for s in r.speakers) | {"agent"}
        self.segmenter = JiebaSegmenter(w for r in self.text_rules for w in r.word_literals())
        self._always: list[int] = []
        self._automaton = self._build_automaton()

    def _build_automaton(self) -> ahocorasick.Automaton | None:
        by_anchor: dict[str, list[int]] = defaultdict(list)
        for index, rule in enumerate(self.text_rules):
            anchors = rule.anchors()
            if anchors is None:
                self._always.append(index)
                continue
            for anchor in anchors:
                by_anchor[anchor].append(index)
        if not by_anchor:
            return None
        automaton = ahocorasick.Automaton()
        for anchor, indices in by_anchor.items():
            automaton.add_word(anchor, tuple(indices))
        automaton.make_automaton()
        return automaton

    def candidates(self, text: str) -> list[int]:
        """Indices into ``text_rules`` of the rules whose anchors occur in ``text``."""
        found = set(self._always)
        if self._automaton is not None and text:
            for _, indices in self._automaton.iter(text):
                found.update(indices)
        return sorted(found)

    def inspect(self, transcript: Transcript) -> tuple[list[Finding], dict[str, Check], dict[str, int]]:
        """All findings (in call order), the mandatory-line checks and the polite-term tally."""
        view = CallView(transcript, self.speakers)
        findings: list[Finding] = []
        polite: dict[str, int] = {}
        utterances = transcript.utterances
        for speaker, joined in view.joined.items():
            norm = joined.norm
            for rule_index in self.candidates(norm.text):
                rule = self.text_rules[rule_index]
                if speaker not in rule.speakers:
                    continue
                spans = rule.matches(norm, self.segmenter)
                if not spans:
                    continue
                if type(rule) is PoliteRule:
                    polite[rule.info.name] = polite.get(rule.info.name, 0) + len(spans)
                    continue
                for start, end in spans:
                    k, o_start, o_end = joined.to_utterance(start, end)
                    offset = joined.starts[k]
                    findings.append(
                        Finding(rule.info, joined.indices[k], (start - offset, end - offset), quote=(o_start, o_end))
                    )
        checks: dict[str, Check] = {}
        if view.agent_turns:
            for script in self.script_rules:
                check, finding = script.evaluate(view)
                checks[script.check] = check
                if finding is not None:
                    findings.append(finding)
        if any(u.start is not None for u in utterances):
            for rule in self.call_rules:
                findings.extend(rule.evaluate(view))  # type: ignore[union-attr]
        findings.sort(key=lambda f: (f.utterance if f.utterance is not None else len(utterances), f.rule.id))
        return findings, checks, polite

    def score(self, transcript: Transcript) -> CallResult:
        """Inspect and price one call."""
        findings, checks, polite = self.inspect(transcript)
        card = self.lexicon.scorecard
        priced, score, veto = price_findings(((f.rule.id, f.rule.category) for f in findings), card)
        view_norms = self._norm_cache(transcript, findings)
        hits = tuple(
            _to_hit(f, p.deduction, p.veto, transcript, view_norms) for f, p in zip(findings, priced, strict=True)
        )
        return CallResult(
            call_id=transcript.call_id,
            agent_id=transcript.agent_id,
            agent_name=transcript.agent_name,
            started_at=transcript.started_at,
            ruleset=self.lexicon.version,
            score=score,
            veto=veto,
            checks=checks,
            polite_count=sum(polite.values()),
            polite_terms=dict(sorted(polite.items(), key=lambda kv: -kv[1])),
            hits=hits,
            warnings=tuple(_warnings(transcript, self.speakers)),
            source=transcript.source,
            audio=transcript.audio,
        )

    @staticmethod
    def _norm_cache(transcript: Transcript, findings: Iterable[Finding]) -> dict[int, NormalizedText]:
        needed = {f.utterance for f in findings if f.quote is None and f.span is not None and f.utterance is not None}
        return {i: normalize(transcript.utterances[i].text) for i in needed}


def _to_hit(f: Finding, deduction: float, veto: bool, transcript: Transcript, norms: dict[int, NormalizedText]) -> Hit:
    if f.utterance is None:
        return Hit(
            f.rule.id,
            f.rule.category,
            f.rule.name,
            "agent",
            None,
            f.start,
            f.end,
            "",
            "",
            f.rule.suggestion,
            deduction,
            veto,
            f.rule.source,
            f.detail,
        )
    u = transcript.utterances[f.utterance]
    if f.quote is not None:
        quoted = u.text[f.quote[0] : f.quote[1]]
    elif f.span is not None:
        start, end = norms[f.utterance].to_original(*f.span)
        quoted = u.text[start:end]
    else:
        quoted = u.text
    return Hit(
        rule_id=f.rule.id,
        category=f.rule.category,
        name=f.rule.name,
        speaker=u.speaker,
        utterance=f.utterance,
        start=f.start if f.start is not None else u.start,
        end=f.end if f.end is not None else u.end,
        text=quoted,
        context=u.text,
        suggestion=f.rule.suggestion,
        deduction=deduction,
        veto=veto,
        source=f.rule.source,
        detail=f.detail,
    )


def _warnings(transcript: Transcript, speakers: frozenset[str]) -> list[str]:
    out = []
    utts = transcript.utterances
    if not any(u.speaker == "agent" for u in utts):
        out.append("no agent speech: opening/closing and phrase rules could not be checked")
    unknown = sum(1 for u in utts if u.speaker == "unknown")
    if unknown and "unknown" not in speakers:
        out.append(f"{unknown} utterance(s) with unknown speaker were not scored")
    if utts and all(u.start is None for u in utts):
        out.append("no utterance times: silence, interruption and speech-rate rules skipped")
    return out
