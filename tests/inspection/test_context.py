"""Word-level contexts (contexts.yaml, a phrase rule's ``unless``): spaCy Matcher patterns over
jieba tokens that cancel a character match where a word nearby changes its meaning."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from qc.errors import LexiconError
from qc.inspection.context import Context, Contexts
from qc.inspection.engine import Inspector
from qc.inspection.lexicon import load_lexicon
from qc.schema import Transcript, Utterance
from tests.conftest import DATA

REPORT = Context("转述", "", "before", (({"TEXT": {"IN": ["快递员", "网点"]}}, {"TEXT": "说"}),))
IF = Context("条件句", "", "clause_before", (({"TEXT": {"IN": ["如果", "要是"]}},),))
SUBJECT = Context("第三方", "", "right_before", (({"TEXT": {"IN": ["他", "系统"]}}, {"TAG": "d", "OP": "*"}),))
ECHO_END = Context("确认", "", "after", (({"TEXT": "是"}, {"TEXT": "吗"}),))
INSIDE = Context("还是不行", "", "overlap", (({"TEXT": "还是"}, {"TEXT": "不行"}),))


@pytest.fixture(scope="module")
def contexts() -> Contexts:
    return Contexts({c.name: c for c in (REPORT, IF, SUBJECT, ECHO_END, INSIDE)})


def _holds(contexts: Contexts, name: str, text: str, words: str) -> bool:
    start = text.index(words)
    return contexts.holds(name, text, start, start + len(words))


@pytest.mark.parametrize(
    ("name", "text", "words", "expected"),
    [
        ("转述", "快递员说他不知道门牌号", "不知道", True),
        ("转述", "我不知道，快递员说明天到", "不知道", False),  # the report comes after the match
        ("转述", "快递员说过了。我不知道", "不知道", False),  # another sentence
        ("条件句", "如果还是不行，建议您重启", "不行", True),
        ("条件句", "如果您方便，这个不行", "不行", False),  # the condition is another clause
        ("第三方", "他不知道", "不知道", True),
        ("第三方", "系统也不支持", "不支持", True),
        ("第三方", "他说我不知道", "不知道", False),  # not right before the match
        ("确认", "您说等了很久是吗", "等了很久", True),
        ("还是不行", "试了还是不行", "不行", True),
        ("还是不行", "这个不行", "不行", False),
    ],
)
def test_a_context_holds_only_where_it_must_stand(contexts, name, text, words, expected):
    assert _holds(contexts, name, text, words) is expected


def test_blanks_between_recognised_words_do_not_break_a_pattern(contexts):
    assert _holds(contexts, "转述", "快递员 说 他 不 知道", "不 知道")


def test_contexts_survive_pickling_for_worker_processes(contexts):
    again = pickle.loads(pickle.dumps(contexts))
    assert _holds(again, "条件句", "如果还是不行，建议您重启", "不行")


CONTEXTS_YAML = """schema: qc.contexts/1
contexts:
  条件句:
    说明: 假设
    where: clause_before
    patterns:
      - [{TEXT: {IN: [如果, 要是]}}]
"""


@pytest.fixture()
def with_contexts(tmp_path: Path) -> Path:
    dest = tmp_path / "lexicons"
    shutil.copytree(DATA / "lexicon_small", dest)
    (dest / "contexts.yaml").write_text(CONTEXTS_YAML, encoding="utf-8")
    rules = dest / "rules" / "test.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace(
            "    except: ['香蕉皮']\n    examples: {hit: [一根香蕉], miss: [香蕉皮]}",
            "    except: ['香蕉皮']\n    unless: [条件句]\n"
            "    examples: {hit: [一根香蕉], miss: [香蕉皮, 如果没有香蕉]}",
        ),
        encoding="utf-8",
    )
    return dest


def test_a_rule_naming_a_context_is_cancelled_by_it(with_contexts):
    inspector = Inspector(load_lexicon(with_contexts), learned=False)
    utts = (Utterance("agent", "如果没有香蕉，我们换苹果"), Utterance("agent", "香蕉没有了"))
    hits = inspector.score(Transcript("t", "1", utts)).hits
    assert [h.utterance for h in hits if h.rule_id == "T-NS-001"] == [1]


def test_an_unknown_context_is_named_with_the_rule(with_contexts):
    rules = with_contexts / "rules" / "test.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("unless: [条件句]", "unless: [条件]"), encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        load_lexicon(with_contexts)
    assert any("T-NS-001" in str(p) and "条件" in str(p) for p in info.value.problems)


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("where: clause_before", "where: somewhere", "where"),
        ("[{TEXT: {IN: [如果, 要是]}}]", "[{TEXTT: 如果}]", "条件句"),  # spaCy's own validation
        ("[{TEXT: {IN: [如果, 要是]}}]", "如果", "token"),
    ],
)
def test_a_bad_context_is_refused_with_its_file(with_contexts, old, new, words):
    path = with_contexts / "contexts.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        load_lexicon(with_contexts)
    problems = [str(p) for p in info.value.problems]
    assert any("contexts.yaml" in p and words in p for p in problems), problems
