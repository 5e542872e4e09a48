"""Run every rule's own examples, and cross-check polite terms against the rules that cost points.

``qc lexicon check`` and the test suite both call ``check_lexicon``; a lexicon edit without
passing examples fails CI, and the editor gets the file, line and rule id of each problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qc.classify.categories import example_failures
from qc.errors import LexiconError, LexiconProblem
from qc.inspection.engine import Inspector
from qc.inspection.lexicon import Lexicon, load_lexicon
from qc.inspection.rules import PhraseRule, PoliteRule, Rule, RuleSpecError
from qc.inspection.rules.base import parse_snippet
from qc.text.words import JiebaSegmenter


class ExampleRunner:
    """Runs one rule's example the way the rule reads calls. Most rules answer alone
    (``rule.fires_on``); a rule that counts the other rules' findings (两次服务禁语) needs them, so
    its example dialogue goes through the whole lexicon (an Inspector, built once)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.segmenter = JiebaSegmenter(
            w for r in lexicon.rules if isinstance(r, PhraseRule) for w in r.word_literals()
        )
        self._inspector: Inspector | None = None

    def fires(self, rule: Rule, example: Any) -> bool:
        if not getattr(rule, "after_findings", False):
            return rule.fires_on(example, self.segmenter)
        if self._inspector is None:
            self._inspector = Inspector(self.lexicon, learned=False)
        findings, _, _ = self._inspector.inspect(parse_snippet(example if isinstance(example, list) else [example]))
        return any(f.rule.id == rule.info.id for f in findings)


def example_problems(lexicon: Lexicon) -> list[LexiconProblem]:
    """Every example that does not behave as its rule says."""
    runner = ExampleRunner(lexicon)
    problems = []
    for rule in lexicon.rules:
        for expected, examples in ((True, rule.examples_hit), (False, rule.examples_miss)):
            for example in examples:
                try:
                    fired = runner.fires(rule, example)
                except RuleSpecError as err:
                    problems.append(LexiconProblem(rule.info.file, str(err), rule.info.line, rule.info.id))
                    continue
                if fired != expected:
                    verb = "should be found but is not" if expected else "should not be found but is"
                    problems.append(
                        LexiconProblem(rule.info.file, f"example {example!r} {verb}", rule.info.line, rule.info.id)
                    )
    problems.extend(_polite_conflicts(lexicon, runner.segmenter))
    if lexicon.categories is not None:
        display = str(Path(lexicon.root).name + "/categories.yaml")
        problems.extend(
            LexiconProblem(display, message, line, rule_id)
            for rule_id, message, line in example_failures(lexicon.categories)
        )
    return problems


def _polite_conflicts(lexicon: Lexicon, segmenter: JiebaSegmenter) -> Iterable[LexiconProblem]:
    """A polite example must not be penalised by any other rule (不客气 is polite, not negative)."""
    penalising = [r for r in lexicon.rules if type(r) is PhraseRule]
    for polite in (r for r in lexicon.rules if type(r) is PoliteRule):
        for example in polite.examples_hit:
            for rule in penalising:
                if rule.fires_on(example, segmenter):
                    yield LexiconProblem(
                        polite.info.file,
                        f"polite example {example!r} is penalised by {rule.info.id} "
                        f"({rule.info.file}:{rule.info.line})",
                        polite.info.line,
                        polite.info.id,
                    )


def case_problems(lexicon: Lexicon) -> list[LexiconProblem]:
    """Every review case (``cases/*.yaml``: sentences inspectors judged a false hit, exported by
    ``qc review export-cases``) that its rule still fires on. They are ``qc lexicon check``'s, not
    a reason to refuse scoring: a case is a known fault waiting for its fix."""
    import yaml

    folder = Path(lexicon.root) / "cases"
    runner: ExampleRunner | None = None
    problems = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        display = f"{Path(lexicon.root).name}/cases/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            problems.append(LexiconProblem(display, f"cannot read review cases: {err}"))
            continue
        cases = data.get("cases") if isinstance(data, dict) else None
        if not isinstance(cases, list):
            problems.append(LexiconProblem(display, "review cases must be a mapping with a 'cases' list"))
            continue
        for number, case in enumerate(cases, start=1):
            rule_id, text = (case.get("rule"), case.get("miss")) if isinstance(case, dict) else (None, None)
            if not isinstance(rule_id, str) or not isinstance(text, str) or not text:
                problems.append(LexiconProblem(display, f"case {number} needs 'rule' and 'miss'"))
                continue
            try:
                rule = lexicon.rule(rule_id)
            except KeyError:
                problems.append(LexiconProblem(display, f"case {number}: unknown rule {rule_id}", None, rule_id))
                continue
            runner = runner or ExampleRunner(lexicon)
            if runner.fires(rule, text):
                where = f"call {case.get('call')}, judged false by {case.get('by')}" if case.get("call") else "a case"
                problems.append(
                    LexiconProblem(display, f"review case {text!r} ({where}) is still hit", rule.info.line, rule_id)
                )
    return problems


def check_lexicon(root: str | Path, profile: str | None = None) -> tuple[Lexicon | None, list[LexiconProblem]]:
    """Load and validate, then run the examples and the review cases. Returns the lexicon (if it
    loaded) and all problems."""
    try:
        lexicon = load_lexicon(root, profile)
    except LexiconError as err:
        return None, err.problems
    return lexicon, example_problems(lexicon) + case_problems(lexicon)


def load_checked(root: str | Path, profile: str | None = None, cache: Path | None = None) -> Lexicon:
    """The lexicon, only if every rule's examples behave (what ``qc lexicon check`` runs): scoring with
    a rule that misses its own must-hit example, or fires on its must-not-hit one, would change every
    score silently. Raises LexiconError naming each problem.

    The examples take seconds to run; a lexicon version (content hash of every file, profile
    included) that passed once is remembered in ``cache`` (a marker file per version), so a batch
    scored again with the same rules does not pay for them."""
    lexicon = load_lexicon(root, profile)
    marker = cache / f"{lexicon.version}.ok" if cache is not None else None
    if marker is not None and marker.is_file():
        return lexicon
    problems = example_problems(lexicon)
    if problems:
        raise LexiconError(problems)
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"{lexicon.root}\n", encoding="utf-8")
        except OSError:  # a read-only cache only costs the check next time
            pass
    return lexicon


def corpus_warnings(lexicon: Lexicon, corpus: str | Path) -> list[LexiconProblem]:
    """Every look-alike or clean agent sentence of a labelled corpus (corpus/dev.jsonl) that a rule
    costing points fires on: QA staff see which rule over-reaches before the calls do."""
    import json

    path = Path(corpus)
    segmenter = JiebaSegmenter(w for r in lexicon.rules for w in r.word_literals())
    penalising = [r for r in lexicon.rules if type(r) is PhraseRule]
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("speaker") != "agent" or row.get("kind") not in ("lookalike", "clean"):
            continue
        for rule in penalising:
            if rule.fires_on(row["text"], segmenter):
                out.append(
                    LexiconProblem(
                        f"{path.name}:{number}",
                        f"{row['kind']} {row['text']!r} is hit by {rule.info.id} ({rule.info.file}:{rule.info.line})",
                        rule_id=rule.info.id,
                    )
                )
    return out
