"""Which stored calls a lexicon edit can change, so `qc rescore` re-detects only those.

A QA lead's usual edit is a phrase added to, or taken from, a phrase rule. A phrase rule reads
the call on its own: what it finds does not depend on the other rules, and the others see only its
findings (a rule counting 禁语, the learned layer skipping what rules caught, the pricing). So when
the edit, compared rule by rule with the ruleset a call was scored under (``Lexicon.fingerprints``,
kept in the rulesets table), changed only phrase rules with anchors, a call's result changes only
if the changed rules now find something else in it than the stored hits say they found. That is
decided cheaply: a call holding no anchor of a changed rule (the literals one of which every match
contains — the engine's own prefilter rests on it) and no stored hit of one cannot change; for the
rest the changed rules alone are run and their hits compared with the stored ones. A call
recognised from audio is always scored again (matching by sound needs no written anchor, and
chooses readings with every rule's words), as is a reviewed call with a hit of a changed rule.

Every other call's result is the same by construction, and only its ruleset is noted. Anything
else — settings, groups, contexts, the profile, the scorecard, a rule of another kind, qc's own
version, or a ruleset stored before fingerprints were kept — re-detects every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from qc.inspection.engine import Inspector
from qc.inspection.lexicon import Lexicon
from qc.schema import Transcript
from qc.text.normalize import normalize_joined


@dataclass(frozen=True, slots=True)
class EditScope:
    """The rules an edit changed since one stored ruleset, and how to tell the calls they touch."""

    full: bool  # every call is re-detected
    rules: frozenset[str] = frozenset()
    probe: Inspector | None = None  # the changed rules as they now stand, for their anchors

    def touches(self, transcript: Transcript, stored: frozenset[tuple[str, str, str, str]], reviewed: bool) -> bool:
        """Whether the call's result can change. ``stored``: its stored hits as (hit_id, rule_id,
        text, status); ``reviewed``: it has verdicts (stored statuses are then the reviewers')."""
        if self.full or transcript.recognised:
            return True
        before = {h for h in stored if h[1] in self.rules}
        if before and reviewed:
            return True
        if self.probe is None:  # the changed rules were all removed: only their stored hits matter
            return bool(before)
        if not before and not self.anchored(transcript):
            return False  # no anchor of a changed rule, no hit of one: nothing to find or lose
        # an anchor is there (many are single common characters): the changed rules decide — the
        # call changes only if what they find now differs from what they found
        now = {(h.hit_id, h.rule_id, h.text, h.status) for h in self.probe.score(transcript).hits}
        return now != before

    def anchored(self, transcript: Transcript) -> bool:
        """Whether a changed rule's anchor occurs in the words of a speaker it reads — each
        speaker's turns normalised together as the engine does, without the rest of a CallView."""
        assert self.probe is not None
        utterances = transcript.utterances
        for speaker in self.probe.speakers:
            idx = [i for i, u in enumerate(utterances) if u.speaker == speaker]
            if idx and self.rules.intersection(
                self.probe.regions(normalize_joined([utterances[i].text for i in idx], idx))
            ):
                return True
        return False


FULL = EditScope(full=True)


def changed_rules(before: Mapping[str, str] | None, lexicon: Lexicon) -> frozenset[str] | None:
    """The anchored phrase rules an edit from a ruleset with fingerprints ``before`` changed, added
    or removed; None when the edit reaches further (every call is then re-detected)."""
    now = lexicon.fingerprints
    if not before or not now or before.get("*") != now.get("*"):
        return None
    changed = {rid for rid in (before.keys() | now.keys()) - {"*"} if before.get(rid) != now.get(rid)}
    if any(not fp.startswith("a:") for fp in (f for rid in changed for f in (before.get(rid), now.get(rid)) if f)):
        return None
    return frozenset(changed)


def scope_of(lexicon: Lexicon, changed: frozenset[str] | None, whole: Inspector | None = None) -> EditScope:
    """The scope for ``changed`` rules (None: every call). ``whole``: the inspector of the whole
    lexicon, whose segmenter the probe borrows (the user words of every rule shape the words a
    rule with word boundaries sees, so the probe must cut sentences exactly as a full run does)."""
    if changed is None:
        return FULL
    present = tuple(r for r in lexicon.rules if r.info.id in changed)
    probe = Inspector(replace(lexicon, rules=present), learned=False, categorize=False) if present else None
    if probe is not None and whole is not None:
        probe.segmenter = whole.segmenter
    return EditScope(full=False, rules=changed, probe=probe)
