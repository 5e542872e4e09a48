"""Run every rule's own examples, and cross-check polite terms against the rules that cost points.

``qc lexicon check`` and the test suite both call ``check_lexicon``; a lexicon edit without
passing examples fails CI, and the editor gets the file, line and rule id of each problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from qc.errors import LexiconError, LexiconProblem
from qc.inspection.lexicon import Lexicon, load_lexicon
from qc.inspection.rules import PhraseRule, PoliteRule, RuleSpecError
from qc.text.words import JiebaSegmenter


def example_problems(lexicon: Lexicon) -> list[LexiconProblem]:
    """Every example that does not behave as its rule says."""
    segmenter = JiebaSegmenter(w for r in lexicon.rules if isinstance(r, PhraseRule) for w in r.word_literals())
    problems = []
    for rule in lexicon.rules:
        for expected, examples in ((True, rule.examples_hit), (False, rule.examples_miss)):
            for example in examples:
                try:
                    fired = rule.fires_on(example, segmenter)
                except RuleSpecError as err:
                    problems.append(LexiconProblem(rule.info.file, str(err), rule.info.line, rule.info.id))
                    continue
                if fired != expected:
                    verb = "should be found but is not" if expected else "should not be found but is"
                    problems.append(
                        LexiconProblem(rule.info.file, f"example {example!r} {verb}", rule.info.line, rule.info.id)
                    )
    problems.extend(_polite_conflicts(lexicon, segmenter))
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


def check_lexicon(root: str | Path) -> tuple[Lexicon | None, list[LexiconProblem]]:
    """Load and validate, then run the examples. Returns the lexicon (if it loaded) and all problems."""
    try:
        lexicon = load_lexicon(root)
    except LexiconError as err:
        return None, err.problems
    return lexicon, example_problems(lexicon)


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
