"""Read lexicons/ (UTF-8 YAML), validate every file and rule up front, return an immutable Lexicon.

Problems are collected, not raised one at a time: ``qc lexicon check`` lists every problem with
its file, line and rule id, and scoring refuses to start on a lexicon with any problem (a silent
fallback would change every score).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qc.classify.categories import SCHEMA as CATEGORIES_SCHEMA
from qc.classify.categories import CategoryRules, parse_categories
from qc.errors import LexiconError, LexiconProblem
from qc.inspection.context import ContextError, Contexts, parse_contexts
from qc.inspection.lexicon_yaml import read_yaml, strip_lines
from qc.inspection.profile import DEFAULT_PROFILE, NO_COMPANY, PROFILE_SCHEMA, Profile, parse_profile
from qc.inspection.rules import RULE_KINDS, Rule, RuleSpecError
from qc.inspection.rules.base import Definitions, parse_pinyin
from qc.inspection.scorecard import Scorecard, ScorecardError

RULES_SCHEMA = "qc.rules/1"
SYNONYMS_SCHEMA = "qc.synonyms/1"
SETTINGS_SCHEMA = "qc.settings/1"
ASR_SCHEMA = "qc.asr/1"
CONTEXTS_SCHEMA = "qc.contexts/1"
# Matching by sound when settings.yaml does not say (bench/bench_pinyin.py measured the levels).
DEFAULT_PINYIN = 1


@dataclass(frozen=True, slots=True)
class Settings:
    """Facts the rules refer to. ``company`` is the effective list: settings.yaml's ``company`` when
    it names one, else the profile's."""

    company: tuple[str, ...]
    # The learned second layer (suspected hits, never deducted until reviewed) on or off.
    learned_layer: bool = True
    # Matching by sound in recognised transcripts (qc.inspection.sound): the level of every rule
    # without its own ``pinyin``; None: off.
    pinyin: int | None = DEFAULT_PINYIN
    # The profile (lexicons/profiles/<name>.yaml): the company's scripts and company-specific rules.
    profile: str = DEFAULT_PROFILE


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A validated rulebook. ``version`` is a content hash of every file that shaped it."""

    root: str
    version: str
    rules: tuple[Rule, ...]
    scorecard: Scorecard
    settings: Settings
    groups: Mapping[str, tuple[str, ...]]
    asr_terms: tuple[str, ...] = ()
    contexts: Contexts | None = None
    profile: Profile | None = None
    # Call categories (categories.yaml): what customers call about; None when the file is absent.
    categories: CategoryRules | None = None
    # What each rule of rules/*.yaml is, apart from its examples ("<a|x>:<hash>", a: a phrase rule
    # with anchors), and under "*" everything else the rules read (settings, groups, contexts, the
    # profile, the scorecard, the other files, qc's version): `qc rescore` re-detects only the calls
    # an edit can touch (qc.review.edit_scope).
    fingerprints: Mapping[str, str] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.info.id == rule_id:
                return r
        raise KeyError(rule_id)


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[LexiconProblem] = []
        self.digest = hashlib.sha256()
        # the same files, but of rules/*.yaml only what is not a rule (each rule has its own)
        self.shared = hashlib.sha256()
        self.rule_specs: dict[str, str] = {}
        # A rule file that could not be read hides its rules: the scorecard must not then report
        # "not a rule id" for each of them (a follow-on error that points at the wrong file).
        self.rules_incomplete = False
        # A profile that could not be read: script rules naming its lines are not built (one
        # problem, about the profile, instead of one per rule).
        self.profile_failed = False
        self.profile_named = False  # settings.yaml or the command line named the profile

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def read(self, path: Path, schema: str) -> dict[str, Any] | None:
        display = self.display(path)
        if not path.is_file():
            self.problems.append(LexiconProblem(display, "file is missing"))
            return None
        self.digest.update(path.relative_to(self.root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        if schema != RULES_SCHEMA:
            self.shared.update(path.relative_to(self.root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        try:
            data = read_yaml(path, display)
        except LexiconError as err:
            self.problems.extend(err.problems)
            return None
        if not isinstance(data, dict):
            self.problems.append(LexiconProblem(display, "top level must be a mapping with 'schema'", 1))
            return None
        if data.get("schema") != schema:
            self.problems.append(
                LexiconProblem(
                    display, f"'schema' must be {schema!r}, got {data.get('schema')!r}", data.get("__line__")
                )
            )
            return None
        return data

    def load_settings(self, profile: str | None) -> Settings:
        """settings.yaml; ``profile`` (the --profile option) wins over its ``profile``."""
        path = self.display(self.root / "settings.yaml")
        data = self.read(self.root / "settings.yaml", SETTINGS_SCHEMA) or {}
        line = data.get("__line__")
        company = data.get("company") or []
        if not isinstance(company, list) or not all(isinstance(c, str) and c for c in company):
            self.problems.append(LexiconProblem(path, "'company' must be a list of names", line))
            company = []
        learned = data.get("learned_layer", True)
        if not isinstance(learned, bool):
            self.problems.append(LexiconProblem(path, "'learned_layer' must be true or false", line))
            learned = True
        pinyin: int | None = DEFAULT_PINYIN
        try:
            value = parse_pinyin(data.get("pinyin"), "'pinyin'")
            if value is not None:
                pinyin = None if value == "off" else int(value)
        except RuleSpecError as err:
            self.problems.append(LexiconProblem(path, str(err), line))
        self.profile_named = bool(profile or data.get("profile"))
        name = profile or data.get("profile") or DEFAULT_PROFILE
        if not isinstance(name, str) or not re.fullmatch(r"[\w-]+", name):
            self.problems.append(LexiconProblem(path, f"'profile' must be a profile name, got {name!r}", line))
            name = DEFAULT_PROFILE
        unknown = set(data) - {"schema", "company", "learned_layer", "pinyin", "profile", "__line__"}
        if unknown:
            self.problems.append(LexiconProblem(path, f"unknown key(s) {sorted(unknown)}", line))
        return Settings(tuple(company), learned, pinyin, name)

    def load_profile(self, name: str) -> Profile:
        """profiles/<name>.yaml; a missing profile is a problem naming the ones there are."""
        path = self.root / "profiles" / f"{name}.yaml"
        display = self.display(path)
        if not (self.root / "profiles").is_dir() and not self.profile_named:
            # a lexicon without profiles (older, or made for tests): no scripts from a profile
            return Profile(name, name, (), (), {}, {}, (), (), display)
        if not path.is_file():
            known = sorted(p.stem for p in (self.root / "profiles").glob("*.yaml"))
            self.problems.append(
                LexiconProblem(display, f"profile {name!r} not found; available: {', '.join(known) or 'none'}")
            )
            self.rules_incomplete = self.profile_failed = True
            return Profile(name, name, (), (), {}, {}, (), (), display)
        data = self.read(path, PROFILE_SCHEMA)
        if data is None:
            self.rules_incomplete = self.profile_failed = True
            return Profile(name, name, (), (), {}, {}, (), (), display)
        profile, problems = parse_profile(name, data, display)
        self.problems.extend(LexiconProblem(display, message, line) for message, line in problems)
        return profile

    def load_categories(self, groups: Mapping[str, tuple[str, ...]]) -> CategoryRules | None:
        """categories.yaml (optional): the call-category rules (qc.classify.categories). Their
        examples are run with every other rule's (qc.inspection.check)."""
        path = self.root / "categories.yaml"
        if not path.is_file():
            return None
        data = self.read(path, CATEGORIES_SCHEMA)
        if data is None:
            return None
        rules, problems = parse_categories(data, groups)
        self.problems.extend(LexiconProblem(self.display(path), message, line) for message, line in problems)
        return rules

    def load_asr_terms(self) -> tuple[str, ...]:
        """asr.yaml (optional): domain words the recogniser's homophone correction protects."""
        path = self.root / "asr.yaml"
        if not path.is_file():
            return ()
        data = self.read(path, ASR_SCHEMA) or {}
        terms = data.get("terms") or []
        if not isinstance(terms, list) or not all(isinstance(t, str) and t for t in terms):
            self.problems.append(
                LexiconProblem(self.display(path), "'terms' must be a list of words", data.get("__line__"))
            )
            return ()
        unknown = set(data) - {"schema", "terms", "__line__"}
        if unknown:
            self.problems.append(
                LexiconProblem(self.display(path), f"unknown key(s) {sorted(unknown)}", data.get("__line__"))
            )
        return tuple(terms)

    def load_groups(self, settings: Settings, profile: Profile) -> dict[str, tuple[str, ...]]:
        path = self.root / "synonyms.yaml"
        data = self.read(path, SYNONYMS_SCHEMA) or {}
        groups: dict[str, tuple[str, ...]] = {"公司": settings.company or (NO_COMPANY,)}
        for name, words in profile.groups.items():
            if name == "公司":
                self.problems.append(LexiconProblem(profile.file, "group '公司' is the profile's 'company'"))
                continue
            groups[name] = words
        for name, words in (data.get("groups") or {}).items():
            if name == "__line__":
                continue
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
                self.problems.append(
                    LexiconProblem(
                        self.display(path),
                        f"group {name!r} must be a non-empty list of words",
                        data["groups"].get("__line__"),
                    )
                )
                continue
            if name == "公司":
                self.problems.append(
                    LexiconProblem(self.display(path), "group '公司' is built in (the profile's company)")
                )
                continue
            if name in groups:  # the profile's own words for this group win
                continue
            groups[name] = tuple(words)
        return groups

    def load_contexts(self, user_words: list[str]) -> Contexts:
        """contexts.yaml (optional): named word-level conditions rules may cite in ``unless``."""
        path = self.root / "contexts.yaml"
        if not path.is_file():
            return Contexts({})
        data = self.read(path, CONTEXTS_SCHEMA)
        if data is None:
            self.rules_incomplete = True
            return Contexts({})
        contexts, problems = parse_contexts(data)
        self.problems.extend(LexiconProblem(self.display(path), message, line) for message, line in problems)
        unknown = set(data) - {"schema", "contexts", "__line__"}
        if unknown:
            self.problems.append(
                LexiconProblem(self.display(path), f"unknown key(s) {sorted(unknown)}", data.get("__line__"))
            )
        try:
            return Contexts(contexts, user_words)
        except ContextError as err:
            self.problems.append(LexiconProblem(self.display(path), str(err), data.get("__line__")))
            self.rules_incomplete = True
            return Contexts({})

    def load_rules(self, defs: Definitions) -> list[Rule]:
        rules: list[Rule] = []
        seen: dict[str, str] = {}
        files = sorted((self.root / "rules").glob("*.yaml"))
        if not files:
            self.problems.append(LexiconProblem(self.display(self.root / "rules"), "no rule files (*.yaml)"))
        for path in files:
            data = self.read(path, RULES_SCHEMA)
            if data is None:
                self.rules_incomplete = True
                continue
            display = self.display(path)
            specs = data.get("rules")
            if not isinstance(specs, list) or not specs:
                self.problems.append(LexiconProblem(display, "'rules' must be a non-empty list", data.get("__line__")))
                continue
            self.shared.update(_canonical({k: v for k, v in data.items() if k != "rules"}).encode())
            for spec in specs:
                rule = self._build(spec, defs, display)
                if rule is None:
                    continue
                rid = rule.info.id
                if rid not in seen:
                    self.rule_specs[rid] = _fingerprint(rule, spec)
                if rid in seen:
                    self.problems.append(
                        LexiconProblem(display, f"duplicate id (first defined in {seen[rid]})", rule.info.line, rid)
                    )
                    continue
                seen[rid] = f"{display}:{rule.info.line}"
                rules.append(rule)
        return rules

    def load_profile_rules(self, profile: Profile, defs: Definitions, rules: list[Rule]) -> list[Rule]:
        """The profile's own rules (company-specific), after the shared ones; ids must not repeat."""
        seen = {r.info.id: f"{r.info.file}:{r.info.line}" for r in rules}
        out = []
        for spec in profile.rules:
            rule = self._build(spec, defs, profile.file)
            if rule is None:
                continue
            if rule.info.id in seen:
                self.problems.append(
                    LexiconProblem(
                        profile.file,
                        f"duplicate id (first defined in {seen[rule.info.id]})",
                        rule.info.line,
                        rule.info.id,
                    )
                )
                continue
            seen[rule.info.id] = f"{profile.file}:{rule.info.line}"
            out.append(rule)
        return out

    def _build(self, spec: Any, defs: Definitions, display: str) -> Rule | None:
        if not isinstance(spec, dict):
            self.problems.append(LexiconProblem(display, f"a rule must be a mapping, got {spec!r}"))
            return None
        line, rid = spec.get("__line__"), spec.get("id")
        if self.profile_failed and "line" in spec:
            return None
        kind = spec.get("kind", "phrase")
        cls = RULE_KINDS.get(kind)
        if cls is None:
            self.problems.append(
                LexiconProblem(display, f"unknown kind {kind!r}; known: {', '.join(RULE_KINDS)}", line, rid)
            )
            return None
        try:
            return cls.from_spec(_strip_lines_keep_top(spec), defs, display)
        except RuleSpecError as err:
            self.problems.extend(LexiconProblem(display, message, line, rid) for message in err.messages)
            self.rules_incomplete = True
            return None

    def load_scorecard(self, rules: list[Rule]) -> Scorecard:
        path = self.root / "scorecard.yaml"
        data = self.read(path, Scorecard.SCHEMA)
        if data is None:
            return Scorecard.default()
        try:
            known = None if self.rules_incomplete else {r.info.id for r in rules if r.kind != "polite"}
            card = Scorecard.from_spec(strip_lines(data), known)
        except ScorecardError as err:
            self.problems.append(LexiconProblem(self.display(path), str(err), data.get("__line__")))
            return Scorecard.default()
        names = {i.name for i in card.items}
        for rule in rules:
            item = rule.info.item
            if item is not None and item not in names:
                where = f"scorecard.yaml items: {', '.join(sorted(names)) or 'none'}"
                message = f"item {item!r} is not a 考评项 ({where})"
                self.problems.append(LexiconProblem(rule.info.file, message, rule.info.line, rule.info.id))
        return card


def _canonical(data: Any) -> str:
    import json

    return json.dumps(strip_lines(data), ensure_ascii=False, sort_keys=True, default=str)


def _fingerprint(rule: Rule, spec: dict[str, Any]) -> str:
    """A rule's spec without its examples (they do not change what it finds) and line numbers."""
    anchored = type(rule).__name__ == "PhraseRule" and rule.anchors() is not None
    body = _canonical({k: v for k, v in spec.items() if k != "examples"})
    return f"{'a' if anchored else 'x'}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


def _strip_lines_keep_top(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: strip_lines(v) for k, v in spec.items()}
    return out


def load_lexicon(root: str | Path, profile: str | None = None) -> Lexicon:
    """Load and validate a lexicon folder with a profile (``None``: settings.yaml's, else courier);
    raises LexiconError listing every problem."""
    root = Path(root)
    if not root.is_dir():
        raise LexiconError([LexiconProblem(str(root), "lexicon folder not found")])
    loader = _Loader(root)
    settings = loader.load_settings(profile)
    chosen = loader.load_profile(settings.profile)
    settings = replace(settings, company=settings.company or chosen.company)
    groups = loader.load_groups(settings, chosen)
    contexts = loader.load_contexts([w for words in groups.values() for w in words])
    defs = Definitions(groups, contexts, chosen.lines, settings.company[0] if settings.company else NO_COMPANY,
                       chosen.job_number)  # fmt: skip
    rules = loader.load_rules(defs)
    rules += loader.load_profile_rules(chosen, defs, rules)
    scorecard = loader.load_scorecard(rules)
    asr_terms = loader.load_asr_terms()
    categories = loader.load_categories(groups)
    if loader.problems:
        raise LexiconError(loader.problems)
    version = loader.digest.hexdigest()[:12]
    from qc import __version__

    loader.shared.update(f"qc {__version__}|profile {settings.profile}".encode())
    fingerprints = {**loader.rule_specs, "*": loader.shared.hexdigest()[:16]}
    return Lexicon(
        str(root), version, tuple(rules), scorecard, settings, groups, asr_terms, contexts, chosen, categories,
        fingerprints,
    )  # fmt: skip
