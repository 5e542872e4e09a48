"""Call categories: what the customer called about (查件, 破损, 计费争议…), so that a manager can see
which kinds of calls an agent handles badly.

Two layers, like violation detection:

1. **Rules** in ``lexicons/categories.yaml`` (schema ``qc.categories/1``), written and edited by QA
   staff in the lexicon's pattern language (``qc.inspection.pattern``). A rule names one category;
   its patterns run on the customer's words of the whole call, normalised and joined once; one
   Aho-Corasick pass over that text names the few patterns whose literals occur, and only those
   are searched. What a rule finds is quoted back (the customer's own words), so a reviewer sees
   *why* a call got its category.
2. **A model** for the calls the rules miss: customers rarely name their problem (件是空的 is a lost
   item, 信号只有一格 a network complaint), and no list of phrases covers every way of saying it.
   One-vs-rest logistic regression over character n-grams (``models/train_categories.py``), with a
   threshold per category calibrated out-of-fold for precision; it only *adds* categories the
   rules did not find, and is called once per batch of calls (``categorize_many``), because qc
   scores about a thousand calls a second and a scikit-learn call per call would dominate that.

``其他`` (other) is never found by itself: a call gets it when nothing else applies in its domains.
The category sets are per domain (``courier`` express delivery, ``telecom``); a profile chooses
which apply (``domains`` in ``lexicons/profiles/*.yaml``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qc.classify.persist import TEXT_PIPELINE_TYPES, file_sha256, load_model, read_meta
from qc.config import models_dir
from qc.errors import LexiconError, LexiconProblem, QCError
from qc.inspection.lexicon_yaml import read_yaml
from qc.inspection.pattern import CompiledPattern, PatternError, compile_pattern
from qc.schema import CallCategory  # one category of one call: name, source (rule|model), rule_id, evidence, confidence
from qc.text.normalize import CLAUSE_BREAK, UTTERANCE_BREAK, NormalizedText, normalize, normalize_joined

log = logging.getLogger(__name__)

SCHEMA = "qc.categories/1"
OTHER = "其他"
SOURCE_RULE = "rule"
SOURCE_MODEL = "model"
MODEL_FILE = "categories.skops"
META_FILE = "categories.meta.json"
HINT = "retrain with models/train_categories.py"
# A one-vs-rest Pipeline holds, beyond a plain text Pipeline, the wrapper and its label binarizer.
MODEL_TYPES = TEXT_PIPELINE_TYPES | {
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.preprocessing._label.LabelBinarizer",
}
_RULE_KEYS = {
    "id",
    "name",
    "domain",
    "source",
    "patterns",
    "except",
    "except_window",
    "max_gap",
    "cross_clauses",
    "examples",
    "__line__",
}
_TOP_KEYS = {"schema", "domains", "categories", "__line__"}
# Breaks in normalised text, collapsed to one clause break for the model: a turn boundary and a
# comma mean the same to character n-grams, and training rows (turns joined by " / ") and live
# calls (turns joined by UTTERANCE_BREAK) must read alike.
_BREAKS = re.compile(f"[{re.escape(CLAUSE_BREAK)}{UTTERANCE_BREAK}]+")


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """One rule of categories.yaml, compiled. ``line`` is where it starts, for problem messages."""

    id: str
    name: str
    domain: str
    source: str
    patterns: tuple[CompiledPattern, ...]
    excepts: tuple[CompiledPattern, ...]
    except_window: int
    examples_hit: tuple[str, ...]
    examples_miss: tuple[str, ...]
    line: int | None

    def find(self, text: str, candidates: Iterable[int] | None = None) -> tuple[int, int] | None:
        """The first span of normalised ``text`` the rule matches and no exception cancels (an
        exception cancels a match it overlaps, or comes within ``except_window`` characters of).
        ``candidates``: the indexes of the patterns worth trying (the categorizer's prefilter
        knows which patterns' literals occur in the text); None: all of them."""
        indexes = range(len(self.patterns)) if candidates is None else candidates
        first = None
        for i in indexes:
            m = self.patterns[i].regex.search(text)
            if m is not None and (first is None or m.start() < first[0]):
                first = m.span()
        if first is None or not self.excepts or not self._excepted(text, *first):
            return first
        # The earliest match is excepted: try every match of every candidate, in text order.
        spans = sorted((m.start(), -m.end()) for i in indexes for m in self.patterns[i].regex.finditer(text))
        for start, neg_end in spans:
            if not self._excepted(text, start, -neg_end):
                return start, -neg_end
        return None

    def _excepted(self, text: str, start: int, end: int) -> bool:
        lo, hi = start - self.except_window, end + self.except_window
        return any(m.start() < hi and lo < m.end() for p in self.excepts for m in p.regex.finditer(text))

    def fires_on(self, example: str) -> bool:
        """Whether the rule finds its category in ``example`` (customer words, turns joined by " / ")."""
        return self.find(normalize(example).text) is not None


@dataclass(frozen=True, slots=True)
class CategoryRules:
    """A parsed categories.yaml: the category set of each domain and the rules, in file order."""

    domains: Mapping[str, tuple[str, ...]]
    rules: tuple[CategoryRule, ...]

    def has(self, domain: str, name: str) -> bool:
        """Whether ``name`` is a category of ``domain``."""
        return name in self.domains.get(domain, ())


def parse_categories(
    data: Mapping[str, Any], groups: Mapping[str, tuple[str, ...]] | None = None
) -> tuple[CategoryRules, list[tuple[str, int | None]]]:
    """The rules of categories.yaml (as read by ``lexicon_yaml.read_yaml``, ``__line__`` keys kept),
    and (problem, line) for everything wrong. A bad rule is left out and reported; the others are
    kept, so that one typo does not hide every other problem. ``groups``: the lexicon's synonym
    groups (``{你}`` in a pattern). The caller checks ``schema``."""
    groups = groups or {}
    problems: list[tuple[str, int | None]] = []
    top = data.get("__line__")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        problems.append((f"unknown key(s) {', '.join(map(str, unknown))}; allowed: domains, categories", top))
    domains = _parse_domains(data.get("domains"), top, problems)
    specs = data.get("categories")
    if not isinstance(specs, list) or not specs:
        problems.append(("'categories' must be a non-empty list of rules", top))
        return CategoryRules(domains, ()), problems
    rules: list[CategoryRule] = []
    seen: dict[str, int | None] = {}
    for spec in specs:
        line = spec.get("__line__") if isinstance(spec, Mapping) else top
        try:
            rule = _parse_rule(spec, domains, groups)
        except _SpecError as err:
            problems.extend((message, line) for message in err.messages)
            continue
        if rule.id in seen:
            problems.append((f"[{rule.id}] duplicate id (first defined on line {seen[rule.id]})", line))
            continue
        seen[rule.id] = line
        rules.append(rule)
    return CategoryRules(domains, tuple(rules)), problems


def load_category_rules(path: Path, groups: Mapping[str, tuple[str, ...]] | None = None) -> CategoryRules:
    """Read and parse categories.yaml on its own (scripts, tests); LexiconError lists every problem
    with file and line, including rules whose examples do not behave."""
    display = str(path)
    data = read_yaml(path, display)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        got = data.get("schema") if isinstance(data, dict) else None
        raise LexiconError([LexiconProblem(display, f"'schema' must be {SCHEMA!r}, got {got!r}", 1)])
    rules, problems = parse_categories(data, groups)
    found = category_problems(display, rules, problems)
    if found:
        raise LexiconError(found)
    return rules


def example_failures(rules: CategoryRules) -> list[tuple[str, str, int | None]]:
    """(rule id, message, line) for every example that does not behave as its rule says: a ``hit``
    example the rule does not find, a ``miss`` example it finds. ``qc lexicon check`` reports them;
    QA staff write the examples so that a later edit cannot silently break a rule."""
    failures = []
    for rule in rules.rules:
        for expected, examples in ((True, rule.examples_hit), (False, rule.examples_miss)):
            for example in examples:
                if rule.fires_on(example) != expected:
                    verb = "should be found but is not" if expected else "should not be found but is"
                    failures.append((rule.id, f"example {example!r} {verb}", rule.line))
    return failures


class _SpecError(ValueError):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _parse_domains(raw: Any, top: int | None, problems: list[tuple[str, int | None]]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping) or not [k for k in raw if k != "__line__"]:
        problems.append(("'domains' must map each domain to its list of categories", top))
        return {}
    line = raw.get("__line__", top)
    domains: dict[str, tuple[str, ...]] = {}
    for domain, names in raw.items():
        if domain == "__line__":
            continue
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            problems.append((f"domain {domain!r} must list its category names", line))
            continue
        if len(set(names)) != len(names):
            problems.append((f"domain {domain!r} lists a category twice", line))
        domains[str(domain)] = tuple(dict.fromkeys(n.strip() for n in names))
    return domains


def _parse_rule(
    spec: Any, domains: Mapping[str, tuple[str, ...]], groups: Mapping[str, tuple[str, ...]]
) -> CategoryRule:
    if not isinstance(spec, Mapping):
        raise _SpecError([f"a category rule must be a mapping with id, name, domain, patterns, got {spec!r}"])
    rid = spec.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise _SpecError(["a category rule needs an 'id'"])
    rid = rid.strip()
    errors: list[str] = []

    def err(message: str) -> None:
        errors.append(f"[{rid}] {message}")

    unknown = sorted(set(spec) - _RULE_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_RULE_KEYS - {"__line__"}))
        err(f"unknown key(s) {', '.join(map(str, unknown))}; allowed: {allowed}")
    domain, name = spec.get("domain"), spec.get("name")
    if domain not in domains:
        err(f"'domain' must be one of {', '.join(domains) or '(none defined)'}, got {domain!r}")
    elif name not in domains[domain]:
        err(f"'name' must be a category of {domain} ({', '.join(domains[domain])}), got {name!r}")
    elif name == OTHER:
        err(f"{OTHER} takes no rules: a call is {OTHER} when nothing else is found")
    max_gap = _integer(spec, "max_gap", 8, err)
    window = _integer(spec, "except_window", 0, err)
    cross = spec.get("cross_clauses", False)
    if not isinstance(cross, bool):
        err("'cross_clauses' must be true or false")
        cross = False
    patterns = _compile_all(spec.get("patterns"), "patterns", groups, max_gap, cross, True, err)
    excepts = _compile_all(spec.get("except"), "except", groups, max_gap, cross, False, err)
    examples = spec.get("examples") or {}
    hit: list[str] = []
    miss: list[str] = []
    if not isinstance(examples, Mapping):
        err("'examples' must be a mapping with 'hit' and 'miss' lists")
    else:
        extra = sorted(set(examples) - {"hit", "miss", "__line__"})
        if extra:
            err(f"'examples' has unknown key(s) {', '.join(map(str, extra))}; allowed: hit, miss")
        hit = _texts(examples.get("hit"), "examples.hit", err)
        miss = _texts(examples.get("miss"), "examples.miss", err)
        if not hit:
            err("needs at least one 'examples: hit' sentence")
    source = spec.get("source", "")
    if not isinstance(source, str):
        err("'source' must be text")
    if errors:
        raise _SpecError(errors)
    return CategoryRule(
        id=rid,
        name=str(name),
        domain=str(domain),
        source=str(source),
        patterns=patterns,
        excepts=excepts,
        except_window=window,
        examples_hit=tuple(hit),
        examples_miss=tuple(miss),
        line=spec.get("__line__"),
    )


def _integer(spec: Mapping[str, Any], key: str, default: int, err: Any) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
        err(f"'{key}' must be a whole number from 0 to 50, got {value!r}")
        return default
    return value


def _compile_all(
    raw: Any,
    key: str,
    groups: Mapping[str, tuple[str, ...]],
    max_gap: int,
    cross: bool,
    required: bool,
    err: Any,
) -> tuple[CompiledPattern, ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or (required and not raw):
        err(f"'{key}' must be a {'non-empty ' if required else ''}list of patterns (each in single quotes)")
        return ()
    out = []
    for text in raw:
        try:
            out.append(compile_pattern(text, groups, max_gap, cross))
        except PatternError as error:
            err(f"{key} {text!r}: {error}")
    return tuple(out)


def _texts(raw: Any, key: str, err: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, str) and t.strip() for t in raw):
        err(f"'{key}' must be a list of sentences")
        return []
    return list(raw)


def model_text(normalized: str) -> str:
    """What the model reads: normalised customer words with every run of clause and turn breaks as
    one clause break (training and live calls alike)."""
    return _BREAKS.sub(CLAUSE_BREAK, normalized).strip(CLAUSE_BREAK)


def label_key(domain: str, name: str) -> str:
    """The model's name for a category: ``courier:查件`` (names may repeat across domains)."""
    return f"{domain}:{name}"


class CategoryModel:
    """The fitted one-vs-rest Pipeline, the category of each of its outputs, and their thresholds."""

    def __init__(
        self, pipeline: Any, labels: Sequence[str], thresholds: Mapping[str, float], path: Path | None = None
    ) -> None:
        self.pipeline = pipeline
        self.labels = tuple(labels)
        self.thresholds = {k: float(v) for k, v in thresholds.items()}
        self.path = path
        self.version = file_sha256(path)[:12] if path is not None else "in-memory"

    @classmethod
    def load(cls, path: Path | None = None) -> CategoryModel:
        """The shipped model (or ``path``); QCError if it is missing, foreign or unsafe (skops, only
        allow-listed types: a replaced model file cannot run code)."""
        path = Path(path) if path is not None else models_dir() / MODEL_FILE
        pipeline = load_model(path, MODEL_TYPES, "category model", HINT)
        meta = read_meta(path, META_FILE, "category model", HINT)
        labels, thresholds = meta.get("labels"), meta.get("thresholds")
        if not isinstance(labels, list) or not isinstance(thresholds, dict) or not all(k in thresholds for k in labels):
            raise QCError(f"{path}: {META_FILE} lists no labels with a threshold each; {HINT}")
        outputs = len(getattr(pipeline, "classes_", ()))
        if outputs != len(labels):
            raise QCError(f"{path}: the model has {outputs} outputs, {META_FILE} names {len(labels)}; {HINT}")
        return cls(pipeline, labels, thresholds, path)

    def probabilities(self, texts: Sequence[str]) -> Any:
        """A (texts × labels) array of probabilities, in one scikit-learn call. ``texts`` are
        ``model_text`` of normalised customer words."""
        import sklearn

        # Validation costs more than the prediction for short texts qc made itself.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return self.pipeline.predict_proba(list(texts))


def default_model_path() -> Path | None:
    """The category model shipped with qc, or None when there is none (rules alone then)."""
    path = models_dir() / MODEL_FILE
    return path if path.is_file() else None


class CallCategorizer:
    """Categories of calls from the customer's words: rules first, the model for what they miss,
    其他 when nothing applies. Immutable after construction; safe to share between threads."""

    def __init__(self, rules: CategoryRules, model: CategoryModel | None, domains: tuple[str, ...]) -> None:
        unknown = [d for d in domains if d not in rules.domains]
        if unknown:
            raise QCError(
                f"unknown category domain(s) {', '.join(unknown)}; categories.yaml defines {', '.join(rules.domains)}"
            )
        self.domains = tuple(domains)
        self.rules = tuple(r for r in rules.rules if r.domain in self.domains)
        self.model = model
        self._automaton, self._always = _prefilter(self.rules)
        # Model outputs that apply here: (column, category name, threshold). A category the rules
        # define but the model was not trained on is found by rules alone; a model label the rules
        # no longer define is ignored (stale model: logged once).
        columns = []
        if model is not None:
            for j, key in enumerate(model.labels):
                domain, _, name = key.partition(":")
                if domain not in self.domains:
                    continue
                if not rules.has(domain, name) or name == OTHER:
                    log.warning(
                        "category model %s: label %s is not a category of categories.yaml; ignored", model.version, key
                    )
                    continue
                columns.append((j, name, model.thresholds[key]))
        self._columns = tuple(columns)
        self._definition = (rules, model, self.domains)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its definition (qc sends the scorer to worker processes); the prefilter
        automaton is built again there."""
        return (CallCategorizer, self._definition)

    @classmethod
    def from_lexicon(cls, rules: CategoryRules, model_path: Path | None, domains: tuple[str, ...]) -> CallCategorizer:
        """Rules from the lexicon's categories.yaml, the model at ``model_path`` (None: rules only),
        for the domains the profile names."""
        model = CategoryModel.load(model_path) if model_path is not None else None
        return cls(rules, model, domains)

    def categorize(self, customer_texts: Sequence[str]) -> tuple[CallCategory, ...]:
        """The categories of one call (its customer turns, in order). For many calls use
        ``categorize_many``: it calls the model once for all of them."""
        return self.categorize_many([customer_texts])[0]

    def categorize_many(self, calls: Sequence[Sequence[str]]) -> list[tuple[CallCategory, ...]]:
        """The categories of each call, with one model call for the whole batch."""
        if not self.domains:
            return [() for _ in calls]
        return self.categorize_normalized([self._normalized(texts) for texts in calls])

    def categorize_normalized(self, norms: Sequence[NormalizedText]) -> list[tuple[CallCategory, ...]]:
        """``categorize_many`` for calls whose customer turns are already normalised and joined
        (``normalize_joined``; the engine has them), one NormalizedText per call."""
        if not self.domains:
            return [() for _ in norms]
        found = [self._by_rules(norm) for norm in norms]
        if self.model is not None and self._columns:
            todo = [i for i, norm in enumerate(norms) if norm.text.strip(CLAUSE_BREAK + UTTERANCE_BREAK)]
            if todo:
                proba = self.model.probabilities([model_text(norms[i].text) for i in todo])
                for row, i in zip(proba, todo, strict=True):
                    have = {c.name for c in found[i]}
                    extra = [
                        CallCategory(name, SOURCE_MODEL, None, "", round(float(row[j]), 3))
                        for j, name, threshold in self._columns
                        if name not in have and row[j] >= threshold
                    ]
                    extra.sort(key=lambda c: -c.confidence)
                    found[i] += extra
        return [tuple(cats) if cats else (CallCategory(OTHER, SOURCE_RULE, None, "", 1.0),) for cats in found]

    @staticmethod
    def _normalized(texts: Sequence[str]) -> NormalizedText:
        texts = [t for t in texts if isinstance(t, str)]
        return normalize_joined(texts, list(range(len(texts)))).norm

    def _by_rules(self, norm: NormalizedText) -> list[CallCategory]:
        text = norm.text
        candidates: dict[int, set[int]] = {k: set(v) for k, v in self._always.items()}
        if self._automaton is not None and text:
            for _, ids in self._automaton.iter(text):
                for k, i in ids:
                    candidates.setdefault(k, set()).add(i)
        out: list[CallCategory] = []
        have: set[str] = set()
        for k, rule in enumerate(self.rules):
            if rule.name in have or k not in candidates:
                continue
            span = rule.find(text, candidates[k])
            if span is None:
                continue
            start, end = norm.to_original(*span)
            out.append(CallCategory(rule.name, SOURCE_RULE, rule.id, norm.original[start:end], 1.0))
            have.add(rule.name)
        return out


def _prefilter(rules: Sequence[CategoryRule]) -> tuple[Any, dict[int, tuple[int, ...]]]:
    """One Aho-Corasick automaton over every pattern's anchor literals (one of which occurs in any
    match: qc.inspection.pattern), mapping each to the (rule, pattern) pairs it stands for, and the
    patterns without anchors (always tried). One pass over a call's text then names the few
    patterns worth a regular-expression search; trying every pattern of every rule on every call
    cost most of the categorizer's time."""
    import ahocorasick

    by_anchor: dict[str, set[tuple[int, int]]] = {}
    always: dict[int, list[int]] = {}
    for k, rule in enumerate(rules):
        for i, pattern in enumerate(rule.patterns):
            if pattern.anchors is None:
                always.setdefault(k, []).append(i)
                continue
            for anchor in pattern.anchors:
                by_anchor.setdefault(anchor, set()).add((k, i))
    if not by_anchor:
        return None, {k: tuple(v) for k, v in always.items()}
    automaton = ahocorasick.Automaton()
    for anchor, ids in by_anchor.items():
        automaton.add_word(anchor, tuple(sorted(ids)))
    automaton.make_automaton()
    return automaton, {k: tuple(v) for k, v in always.items()}


def category_problems(
    display: str, rules: CategoryRules, problems: list[tuple[str, int | None]]
) -> list[LexiconProblem]:
    """``parse_categories``' problems and every example failure, as LexiconProblems naming
    ``display`` (the file name the lexicon loader shows), each with its line (and rule id)."""
    out = [LexiconProblem(display, message, line) for message, line in problems]
    out += [LexiconProblem(display, message, line, rid) for rid, message, line in example_failures(rules)]
    return out


__all__ = [
    "CallCategorizer",
    "CallCategory",
    "CategoryModel",
    "CategoryRule",
    "CategoryRules",
    "OTHER",
    "category_problems",
    "SCHEMA",
    "default_model_path",
    "example_failures",
    "load_category_rules",
    "parse_categories",
]
