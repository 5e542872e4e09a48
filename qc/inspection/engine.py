"""Check one call against a lexicon: pure, no I/O, fast enough to re-score a month after each edit.

Architecture (figures in README, bench/bench_scoring.py):
1. normalise each speaker's turns, joined into one text (qc.text.normalize);
2. one Aho-Corasick pass (pyahocorasick) over each speaker's text finds the anchor literals of
   every rule, so a phrase rule only runs where one of its anchors occurs;
3. every rule is evaluated the same way, ``rule.evaluate(view) -> Evaluation`` (the protocol in
   qc.inspection.rules.base), and the findings, checks and polite counts are merged;
4. the scorecard prices the findings (qc.inspection.scorecard) and each finding becomes a Hit
   quoting the original words with a short context window around them.

A recognised transcript (``Transcript.recognised``) also gets readings by sound: the rules' pattern
runs as syllable automata (qc.inspection.sound), built on the first such call; typed text never
pays for them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

import ahocorasick

from qc.classify.categories import CallCategorizer
from qc.classify.suspects import SuspectModel, Suspicion
from qc.inspection.lexicon import Lexicon
from qc.inspection.rules import CallView, Finding
from qc.inspection.rules.base import Regions, RuleInfo
from qc.inspection.scorecard import Priced, Scorecard, price_findings
from qc.inspection.sound import SoundCall, SoundMatcher, SoundSpec
from qc.schema import CallResult, Check, Hit, ItemScore, Transcript
from qc.text.normalize import JoinedText, NormalizedText, normalize
from qc.text.words import JiebaSegmenter

# Characters of the utterance kept on each side of a hit's quoted words in ``Hit.context``: enough
# for an inspector to read the sentence, never the whole of a long turn (a 100,000-character
# utterance once wrote 7 GB of context into the database).
CONTEXT_CHARS = 40


# The categories the learned layer judges, their names, and the shortest turn it judges (a bare
# "嗯" or "好的" tells it nothing).
SUSPECT_CATEGORIES = ("banned", "nonstandard", "filler", "negative")
SUSPECT_NAMES = {
    "banned": "疑似服务禁语",
    "nonstandard": "疑似不规范用语",
    "filler": "疑似口头禅",
    "negative": "疑似负面表达",
}
MIN_SUSPECT_CHARS = 4

# Above this many utterances holding a rule's anchors, the rule reads one span from the first to
# the last instead of each utterance (a regex search costs ~1 µs to start, ~0.03 µs a character).
MAX_REGIONS = 4


def suspect_rule(category: str, model_version: str) -> RuleInfo:
    """The RuleInfo a suspected hit carries: SUS-<CATEGORY>, named for inspectors, with its model."""
    return RuleInfo(
        id=f"SUS-{category.upper()}",
        name=SUSPECT_NAMES[category],
        category=category,
        source=f"学习模型 models/suspects.skops（{model_version}）",
        suggestion=None,
        file="models/suspects.skops",
        line=None,
    )


class Inspector:
    """A lexicon compiled for matching. Build once, then call ``score`` per transcript.

    ``suspects``: the learned second layer (qc.classify.suspects); by default the model shipped
    with qc, if there is one and the lexicon's settings leave ``learned_layer`` on. ``learned=False``
    turns the layer off (rules alone).

    ``categorize``: give each result its call categories (查件, 投诉…: categories.yaml rules, and the
    shipped classifier unless ``learned`` is off) for the profile's domains. ``score`` does it per
    call; a batch is faster through ``categorize_results`` (one model call for all), which the
    pipeline uses with ``categorize=False`` in its workers.
    """

    def __init__(
        self,
        lexicon: Lexicon,
        suspects: SuspectModel | None = None,
        learned: bool | None = None,
        categorize: bool = True,
    ) -> None:
        self.lexicon = lexicon
        self.categorize = categorize and lexicon.categories is not None
        self._categorizer: CallCategorizer | None = None
        if learned is None:
            learned = lexicon.settings.learned_layer
        self.learned = learned
        self.suspects = (suspects or SuspectModel.bundled()) if learned else None
        self.rules = lexicon.rules
        self.speakers = frozenset(s for r in self.rules for s in getattr(r, "speakers", ())) | {"agent"}
        self.segmenter = JiebaSegmenter(w for r in self.rules for w in r.word_literals())
        self._always: frozenset[str] = frozenset(r.info.id for r in self.rules if r.anchors() is None)
        self._counting = tuple(r for r in self.rules if getattr(r, "after_findings", False))
        self._everywhere: dict[str, Regions | None] = dict.fromkeys(self._always)
        self._automaton = self._build_automaton()
        self._sound: SoundMatcher | None = None
        self._sound_built = False

    def categorizer(self) -> CallCategorizer | None:
        """The call categorizer for the profile's domains, built on first use (the classifier takes
        a second to load; a lexicon without categories.yaml has none)."""
        if self._categorizer is None:
            self._categorizer = call_categorizer(self.lexicon, self.learned)
        return self._categorizer

    def categorize_results(
        self, scored: Sequence[tuple[Transcript, CallResult]]
    ) -> list[tuple[Transcript, CallResult]]:
        """The results with their call categories, found for the whole batch at once (one model call)."""
        return with_categories(self.categorizer(), scored)

    def sound_matcher(self) -> SoundMatcher | None:
        """The rules' runs for matching by sound, compiled on first use (None: no rule uses it)."""
        if not self._sound_built:
            default = self.lexicon.settings.pinyin
            specs = []
            for rule in self.rules:
                own = getattr(rule, "pinyin", "off") if rule.kind in ("phrase", "script") else "off"
                level = default if own is None else None if own == "off" else int(own)
                if level is not None:
                    patterns = tuple(p.source for p in rule.patterns)  # type: ignore[attr-defined]
                    specs.append(SoundSpec(rule.info.id, patterns, level, rule.kind == "phrase"))
            matcher = SoundMatcher(specs, self.lexicon.groups)
            self._sound = matcher if matcher.runs else None
            self._sound_built = True
        return self._sound

    def _build_automaton(self) -> ahocorasick.Automaton | None:
        by_anchor: dict[str, set[str]] = defaultdict(set)
        for rule in self.rules:
            for anchor in rule.anchors() or ():
                by_anchor[anchor].add(rule.info.id)
        if not by_anchor:
            return None
        automaton = ahocorasick.Automaton()
        for anchor, ids in by_anchor.items():
            automaton.add_word(anchor, frozenset(ids))
        automaton.make_automaton()
        return automaton

    def prefilter(self, view: CallView) -> dict[str, dict[str, Regions | None]]:
        """Per speaker, the rules worth evaluating: those with an anchor in the speaker's text, with
        the utterances holding one (``regions``), and those without anchors, everywhere (None)."""
        return {speaker: {**self.regions(joined), **self._everywhere} for speaker, joined in view.joined.items()}

    def regions(self, joined: JoinedText) -> dict[str, Regions | None]:
        """For each rule with an anchor in the speaker's joined text, the utterances (as spans of
        the joined text) holding one: no match crosses an utterance break, so a rule's regexes need
        only read those, not the whole call — most anchors are short and common (不, 您), and
        scanning every candidate's patterns over the whole text was most of the engine's time."""
        text = joined.norm.text
        if self._automaton is None or not text:
            return {}
        starts = joined.starts
        last = len(starts) - 1
        by_rule: dict[str, set[int]] = {}
        for end, ids in self._automaton.iter(text):
            k = bisect_right(starts, end) - 1
            for rule_id in ids:
                parts = by_rule.get(rule_id)
                if parts is None:
                    by_rule[rule_id] = {k}
                else:
                    parts.add(k)
        size = len(text)
        out: dict[str, Regions | None] = {}
        for rule_id, parts in by_rule.items():
            ordered = sorted(parts)
            if len(ordered) > MAX_REGIONS:
                # many utterances: one scan from the first to the last costs less than one per utterance
                first, final = ordered[0], ordered[-1]
                out[rule_id] = ((starts[first], starts[final + 1] - 1 if final < last else size),)
            else:
                out[rule_id] = tuple((starts[k], starts[k + 1] - 1 if k < last else size) for k in ordered)
        return out

    def inspect(self, transcript: Transcript) -> tuple[list[Finding], dict[str, Check], dict[str, int]]:
        """All findings (in call order), the mandatory-line checks and the polite-term tally."""
        findings, checks, polite, _ = self._inspect(transcript)
        return findings, checks, polite

    def _inspect(self, transcript: Transcript) -> tuple[list[Finding], dict[str, Check], dict[str, int], CallView]:
        findings, checks, polite, view = self._by_rules(transcript)
        if self.suspects is not None:
            turns = self._unexplained_turns(view, findings)
            texts = [view.norm_text(i) for i in turns]
            findings.extend(self._suspected(turns, self.suspects.suspicions(texts, normalized=True)))
        return _in_call_order(findings, transcript), checks, polite, view

    def _by_rules(self, transcript: Transcript) -> tuple[list[Finding], dict[str, Check], dict[str, int], CallView]:
        """The rules' findings (not yet in call order), checks, polite tally and the call's view."""
        view = CallView(transcript, self.speakers, self.segmenter)
        view.candidates = self.prefilter(view)
        worth_trying = self._always.union(*view.candidates.values())
        if transcript.recognised:
            matcher = self.sound_matcher()
            if matcher is not None:
                view.sound = SoundCall(matcher, view)
                worth_trying |= view.sound.phrase_rules()  # heard by sound, though no anchor was written
        findings: list[Finding] = []
        checks: dict[str, Check] = {}
        polite: dict[str, int] = {}
        for rule in self.rules:
            if rule.info.id not in worth_trying or getattr(rule, "after_findings", False):
                continue
            evaluation = rule.evaluate(view)
            findings.extend(evaluation.findings)
            checks.update(evaluation.checks)
            for term, count in evaluation.polite.items():
                polite[term] = polite.get(term, 0) + count
        if self._counting:  # rules that count the others' findings (两次服务禁语…) run last
            view.findings = tuple(findings)
            for rule in self._counting:
                findings.extend(rule.evaluate(view).findings)
        return findings, checks, polite, view

    @staticmethod
    def _unexplained_turns(view: CallView, findings: list[Finding]) -> list[int]:
        """The agent turns the learned layer judges: those no phrase rule caught, long enough to judge."""
        caught = {f.utterance for f in findings if f.rule.category in SUSPECT_CATEGORIES}
        return [i for i in view.agent_turns if i not in caught and view.norm_length(i) >= MIN_SUSPECT_CHARS]

    def _suspected(self, turns: list[int], judged: Sequence[Suspicion | None]) -> list[Finding]:
        """Findings of the learned layer: the turns the model rates over its threshold. Listed as
        suspected; they cost nothing until a reviewer confirms."""
        assert self.suspects is not None
        out = []
        for i, suspicion in zip(turns, judged, strict=True):
            if suspicion is not None:
                info = suspect_rule(suspicion.category, self.suspects.version)
                detail = f"模型疑似（置信度 {suspicion.confidence:.2f}），待复核：复核确认前不扣分"
                out.append(Finding(info, i, detail=detail, status="suspected", confidence=suspicion.confidence))
        return out

    def score(self, transcript: Transcript) -> CallResult:
        """Inspect and price one call."""
        return self._priced(transcript, *self._inspect(transcript))

    def score_many(self, transcripts: Sequence[Transcript]) -> list[CallResult]:
        """Inspect and price several calls: the same results as ``score`` on each, but the learned
        layer judges the turns of all of them in one model call — scikit-learn's fixed cost per call
        (input checks, the pipeline's steps) was a third of the layer's time at one call a time."""
        inspected = [self._by_rules(t) for t in transcripts]
        if self.suspects is not None:
            asked = [self._unexplained_turns(view, findings) for findings, _, _, view in inspected]
            texts = [view.norm_text(i) for turns, (_, _, _, view) in zip(asked, inspected, strict=True) for i in turns]
            judged = self.suspects.suspicions(texts, normalized=True)
            at = 0
            for turns, (findings, _, _, _) in zip(asked, inspected, strict=True):
                findings.extend(self._suspected(turns, judged[at : at + len(turns)]))
                at += len(turns)
        return [
            self._priced(t, _in_call_order(findings, t), checks, polite, view)
            for t, (findings, checks, polite, view) in zip(transcripts, inspected, strict=True)
        ]

    def _priced(
        self,
        transcript: Transcript,
        findings: list[Finding],
        checks: dict[str, Check],
        polite: dict[str, int],
        view: CallView,
    ) -> CallResult:
        """The findings priced by the scorecard, as the call's result."""
        card = self.lexicon.scorecard
        charged_by = once_per_utterance_and_category(findings, card)
        suspected = {i for i, f in enumerate(findings) if f.status == "suspected"}
        keys = [(f.rule.id, f.rule.category) for f in findings]
        items = [card.item_of(f.rule.category, f.rule.item) for f in findings] if card.items else None
        free = charged_by.keys() | suspected
        priced, score, veto = price_findings(keys, card, free=free, items=items, no_veto=suspected)
        norms = _norms_needed(transcript, findings)
        hits = _with_ids(
            _to_hit(f, p.deduction, p.veto, transcript, norms, _free_reason(findings, charged_by.get(i)))
            for i, (f, p) in enumerate(zip(findings, priced, strict=True))
        )
        categorizer = self.categorizer() if self.categorize else None
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
            items=item_scores(card, items or [], priced),
            # the customer's words as the rules already normalised them (process rules read them too)
            categories=categorizer.categorize_normalized([view.joined_of("customer").norm])[0] if categorizer else (),
        )


def _in_call_order(findings: list[Finding], transcript: Transcript) -> list[Finding]:
    """By utterance, then rule id; findings of the whole call last."""
    last = len(transcript.utterances)
    findings.sort(key=lambda f: (f.utterance if f.utterance is not None else last, f.rule.id))
    return findings


def call_categorizer(lexicon: Lexicon, learned: bool) -> CallCategorizer | None:
    """The lexicon's call categorizer for its profile's domains, with the shipped classifier unless
    ``learned`` is off; None when the lexicon has no categories.yaml."""
    if lexicon.categories is None:
        return None
    from qc.classify.categories import CallCategorizer, default_model_path

    domains = lexicon.profile.domains if lexicon.profile is not None else ()
    return CallCategorizer.from_lexicon(lexicon.categories, default_model_path() if learned else None, domains)


def with_categories(
    categorizer: CallCategorizer | None, scored: Sequence[tuple[Transcript, CallResult]]
) -> list[tuple[Transcript, CallResult]]:
    """The results with their call categories, found for the whole batch with one model call."""
    if categorizer is None or not scored:
        return list(scored)
    found = categorizer.categorize_many([_customer_words(t) for t, _ in scored])
    return [(t, replace(r, categories=c)) for (t, r), c in zip(scored, found, strict=True)]


def _customer_words(transcript: Transcript) -> list[str]:
    return [u.text for u in transcript.utterances if u.speaker == "customer"]


def item_scores(card: Scorecard, items: list[str | None], priced: list[Priced]) -> dict[str, ItemScore]:
    """Each 考评项's full marks, points lost on this call and points kept, in the card's order."""
    lost: dict[str, float] = {}
    for item, p in zip(items, priced, strict=False):
        if item is not None:
            lost[item] = lost.get(item, 0.0) + p.deduction
    out = {}
    for item in card.items:
        spent = round(lost.get(item.name, 0.0), 2)
        out[item.name] = ItemScore(item.weight, spent, round(item.weight - spent, 2))
    return out


def once_per_utterance_and_category(findings: list[Finding], card: Scorecard) -> dict[int, int]:
    """One utterance costs at most once per category: {position of a finding listed free: position
    of the finding charged instead} — the dearest of the utterance's findings in that category
    (the first of equals). Findings of the whole call (a missing closing) are each charged."""
    best: dict[tuple[int, str], int] = {}
    for i, f in enumerate(findings):
        if f.utterance is None or f.status != "confirmed":
            continue
        key = (f.utterance, f.rule.category)
        j = best.get(key)
        if j is None or _price(card, f) > _price(card, findings[j]):
            best[key] = i
    return {
        i: best[(f.utterance, f.rule.category)]
        for i, f in enumerate(findings)
        if f.utterance is not None and f.status == "confirmed" and best[(f.utterance, f.rule.category)] != i
    }


def _price(card: Scorecard, finding: Finding) -> float:
    return card.price(finding.rule.id, finding.rule.category)


def _free_reason(findings: list[Finding], charged: int | None) -> str | None:
    if charged is None:
        return None
    rule = findings[charged].rule
    return f"同一句已按 {rule.id}（{rule.name}）扣分，本条不重复扣分"


def _with_ids(hits: Iterable[Hit]) -> tuple[Hit, ...]:
    """Make every ``hit_id`` unique within the call: a repeat gets #2, #3… (two silences after the
    same turn, say). The ids themselves are made in ``_to_hit``."""
    out: list[Hit] = []
    seen: dict[str, int] = {}
    for h in hits:
        n = seen[h.hit_id] = seen.get(h.hit_id, 0) + 1
        out.append(h if n == 1 else replace(h, hit_id=f"{h.hit_id}#{n}"))
    return tuple(out)


def _norms_needed(transcript: Transcript, findings: Iterable[Finding]) -> dict[int, NormalizedText]:
    needed = {f.utterance for f in findings if f.quote is None and f.span is not None and f.utterance is not None}
    return {i: normalize(transcript.utterances[i].text) for i in needed}


def context_window(text: str, start: int, end: int, radius: int = CONTEXT_CHARS) -> str:
    """The words around ``text[start:end]``: at most ``radius`` characters each side, "…" where cut."""
    lo, hi = max(0, start - radius), min(len(text), end + radius)
    return ("…" if lo > 0 else "") + text[lo:hi] + ("…" if hi < len(text) else "")


def _to_hit(
    f: Finding,
    deduction: float,
    veto: bool,
    transcript: Transcript,
    norms: dict[int, NormalizedText],
    free_reason: str | None = None,
) -> Hit:
    """The finding as a Hit. Its ``hit_id`` is rule@utterance:start-end over the quoted characters of
    the original text (rule@utterance for a whole turn, rule@call for the whole call), so it stays
    the same across re-scoring while rule, utterance and quote stay: review verdicts are keyed by it."""
    rule = f.rule
    detail = f.detail if free_reason is None else "；".join(d for d in (f.detail, free_reason) if d)
    if f.utterance is None:
        return Hit(
            rule.id, rule.category, rule.name, "agent", None, f.start, f.end, "", "", rule.suggestion,
            deduction, veto, rule.source, detail, hit_id=f"{rule.id}@call", status=f.status,
            confidence=f.confidence, heard=f.heard, read_as=f.read_as,
        )  # fmt: skip
    u = transcript.utterances[f.utterance]
    if f.quote is not None:
        start, end = f.quote
    elif f.span is not None:
        start, end = norms[f.utterance].to_original(*f.span)
    else:
        start, end = None, None
    if start is None or end is None:
        # a timing finding about the whole turn: quote its beginning
        cut = min(len(u.text), 2 * CONTEXT_CHARS)
        text, context, hit_id = u.text[:cut], context_window(u.text, 0, cut), f"{rule.id}@{f.utterance}"
    else:
        text, context = u.text[start:end], context_window(u.text, start, end)
        hit_id = f"{rule.id}@{f.utterance}:{start}-{end}"
    return Hit(
        rule_id=rule.id,
        category=rule.category,
        name=rule.name,
        speaker=u.speaker,
        utterance=f.utterance,
        start=f.start if f.start is not None else u.start,
        end=f.end if f.end is not None else u.end,
        text=text,
        context=context,
        suggestion=rule.suggestion,
        deduction=deduction,
        veto=veto,
        source=rule.source,
        detail=detail,
        hit_id=hit_id,
        status=f.status,
        confidence=f.confidence,
        heard=f.heard,
        read_as=f.read_as,
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
    roles = transcript.roles or {}
    if roles.get("review"):
        out.append(
            f"roles unsure on this mono recording (confidence {roles.get('confidence')}, "
            f"{roles.get('unsure', 0)} utterance(s) unknown): check who said each hit before relying on the score"
        )
    truncated = (transcript.asr or {}).get("truncated")
    if truncated:
        out.append(_truncation_warning(truncated))
    return out


def _truncation_warning(truncated: object) -> str:
    expected = decoded = None
    if isinstance(truncated, dict):
        expected, decoded = truncated.get("expected_seconds"), truncated.get("decoded_seconds")
    told = f" (the file says {expected:.1f} s, only {decoded:.1f} s could be decoded)" if expected and decoded else ""
    return f"recording truncated{told}: the end of the call is missing, so the closing was not checked"
