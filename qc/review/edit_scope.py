"""Which stored calls a lexicon edit can change, so `qc rescore` re-detects only those.

A QA lead's usual edit is a phrase added to, or taken from, a phrase rule. Such a rule can only
find something in an utterance holding one of its anchors (the literals one of which every match
contains — the engine's own prefilter rests on the same fact). So when the edit, compared rule by
rule with the ruleset a call was scored under (``Lexicon.fingerprints``, kept in the rulesets
table), changed only anchored phrase rules, a call can change only if

- it was recognised from audio (its hits may be found by sound, without the anchor written),
- it holds a stored hit of a changed rule (that hit may go), or
- its text holds an anchor of a changed rule as it now stands (a hit may come).

Every other call's result is the same by construction, and only its ruleset is noted. Anything
else — settings, groups, contexts, the profile, the scorecard, a rule of another kind, qc's own
version, or a ruleset stored before fingerprints were kept — re-detects every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from qc.inspection.engine import Inspector
from qc.inspection.lexicon import Lexicon
from qc.inspection.rules.base import CallView
from qc.schema import Transcript


@dataclass(frozen=True, slots=True)
class EditScope:
    """The rules an edit changed since one stored ruleset, and how to tell the calls they touch."""

    full: bool  # every call is re-detected
    rules: frozenset[str] = frozenset()
    probe: Inspector | None = None  # the changed rules as they now stand, for their anchors

    def touches(self, transcript: Transcript, stored_rules: frozenset[str]) -> bool:
        if self.full or transcript.recognised or stored_rules & self.rules:
            return True
        if self.probe is None:  # the changed rules were all removed: only their stored hits matter
            return False
        view = CallView(transcript, self.probe.speakers, self.probe.segmenter)
        return any(self.rules.intersection(found) for found in self.probe.prefilter(view).values())


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


def scope_of(lexicon: Lexicon, changed: frozenset[str] | None) -> EditScope:
    """The scope for ``changed`` rules (None: every call)."""
    if changed is None:
        return FULL
    present = tuple(r for r in lexicon.rules if r.info.id in changed)
    probe = Inspector(replace(lexicon, rules=present), learned=False, categorize=False) if present else None
    return EditScope(full=False, rules=changed, probe=probe)
