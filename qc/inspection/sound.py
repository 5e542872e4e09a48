"""Pronunciation-tolerant matching for recognised transcripts (issue 9).

Whisper writes what it heard with the characters its language model prefers, so a line said right
can come out as near-homophones: 感谢您的来点 (来电), 邀误说多少便你才明白 (要我说多少遍你才明白),
您朝领导去 (您找领导去). Exact patterns miss these. For a transcript recognised from audio
(``Transcript.recognised``) — never for typed text — a rule may also match on toneless pinyin:

1. Each pattern's gap-free runs (``{你}[去]找[我们]{领导}``; a ``*`` or ``#`` splits a pattern into
   runs) become a small acyclic automaton over syllables, built once per lexicon, lazily, on the
   first recognised call. A path through it is one spelling of the run (``您找我们领导``); nothing is
   enumerated, so a run with a thousand spellings costs no more than one with ten.
2. An utterance is read as syllables: every Han character with its (at most two) toneless readings
   from pypinyin, so a polyphone counts under each (朝 chao/zhao, 便 bian/pian); digits as spoken.
3. The distance between a run and a stretch of the utterance is a weighted edit distance over
   syllables: a homophone costs 0, a syllable differing by one common confusion (zh/z, ch/c, sh/s, d/t, b/p, g/k,
   n/l, f/h; in/ing, en/eng, an/ang, ian/iang, uan/uang, o/u, uo/u; ni/nin) costs 0.5, anything
   else — another syllable, a syllable heard but not in the pattern, one in the pattern not
   heard — costs 1, and is allowed only at level 2. The stretch starts and ends on a heard
   syllable and stays in one clause.
4. What a run may cost grows with its length and is capped by the rule's ``pinyin`` level
   (lexicons/settings.yaml ``pinyin``, a rule's own ``pinyin: off|0|1|2``): ``allowed_cost``. Runs
   of fewer than three syllables are never read this way (two syllables have too many real
   homophones: 不行/步行, 领导/领到).
5. A cheap prefilter first: each run's syllable trigrams (bigrams at level 2), confusions folded
   together, are indexed; a run is aligned only against an utterance holding enough of them (a
   q-gram count filter). Without whole-syllable edits, alignment is a walk that drops a path at
   its first unaffordable syllable; at level 2 it is the edit-distance table over the automaton.
6. A reading is kept only where it makes the utterance likelier under jieba's word frequencies
   (``MIN_GAIN``): Whisper's mistakes are usually less likely words than what was said (邀误说 →
   要我说), while clean speech that merely sounds like a pattern loses a real word (解释 is not
   read as 解试, 老师说 not as 老实说). On the dev part this removed all 13 false readings at
   level 0 (0.94 % of clean lines) while recall on one-homophone violations went from 82.6 to 80.4 %.
7. The heard words are then replaced by what they were read as, and the rule is run *exactly* on
   the corrected sentence, with its position, word boundaries, exceptions and ``unless`` contexts:
   a quoted or conditional sentence stays cancelled, and a reading only counts where the rule's
   match covers replaced words (``Corrected``).

The rules decide what a reading means (qc.inspection.rules): a script line read this way counts as
said, with ``heard``/``read_as`` in its check; a phrase rule found only this way gives a
``suspected`` hit with ``heard`` (the recognised characters), ``read_as`` (the same words as read)
and a confidence below 1 that falls with the distance, deducted only once a reviewer confirms it.
Figures (false suspected hits on clean lines, recall on corrupted violations, cost per call):
bench/bench_pinyin.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from qc.inspection.pattern import Node, parse_pattern
from qc.text.normalize import CLAUSE_BREAK, UTTERANCE_BREAK, NormalizedText, normalize

if TYPE_CHECKING:
    from qc.inspection.rules.base import CallView

# The levels a rule's ``pinyin`` setting takes (None: off): the most a run may cost.
LEVELS = (0, 1, 2)
MIN_SYLLABLES = 3
NEAR = 0.5  # one initial or final confusion
EDIT = 1.0  # another syllable, or one heard/missed
READINGS_PER_CHAR = 2  # pypinyin lists a character's readings most common first; rarer ones only add noise
_INF = 99.0
# How much likelier (natural log, jieba's word model) a reading must make its sentence.
MIN_GAIN = 0.0


def allowed_cost(length: int, level: int) -> float:
    """What a run of ``length`` syllables may cost at ``level``: a quarter of a syllable per syllable
    after the first, so 3–4 syllables allow one confusion (0.5), 5–8 two or, at level 2, one other
    syllable (1.0); never more than the level, and nothing under MIN_SYLLABLES. Level 0 allows
    homophones only; only level 2 allows a whole syllable to differ, be missing or be extra (``Run.hard``)."""
    if length < MIN_SYLLABLES:
        return -1.0
    return min(float(level), (length - 1) / 4)


def confidence(cost: float) -> float:
    """Of a phrase hit found only by sound: 0.85 for a homophone reading, less for each edit."""
    return round(max(0.3, 0.85 - 0.3 * cost), 2)


# --- syllables -------------------------------------------------------------------------------

# Two-letter initials first; y and w count as initials (yin/ying, wo/wu compare by their finals).
_INITIALS = ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw")
_NEAR_INITIALS = {
    frozenset(p)
    for p in (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("d", "t"), ("b", "p"), ("g", "k"))
}
_NEAR_FINALS = {
    frozenset(p)
    for p in (("in", "ing"), ("en", "eng"), ("an", "ang"), ("ian", "iang"), ("uan", "uang"), ("o", "u"), ("uo", "u"))
}
_FOLD_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "l": "n", "h": "f", "t": "d", "p": "b", "k": "g"}
_FOLD_FINAL = {"ing": "in", "eng": "en", "ang": "an", "iang": "ian", "uang": "uan", "o": "u", "uo": "u"}
_DIGITS = {
    "0": ("ling",),
    "1": ("yi", "yao"),
    "2": ("er", "liang"),
    "3": ("san",),
    "4": ("si",),
    "5": ("wu",),
    "6": ("liu",),
    "7": ("qi",),
    "8": ("ba",),
    "9": ("jiu",),
}


def _split(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def syllable_cost(a: str, b: str) -> float:
    """0 for the same syllable, NEAR for one confusion of initial or final, EDIT otherwise."""
    if a == b:
        return 0.0
    ia, fa = _split(a)
    ib, fb = _split(b)
    confusions = 0
    if ia != ib:
        if frozenset((ia, ib)) not in _NEAR_INITIALS:
            return EDIT
        confusions += 1
    if fa != fb:
        if frozenset((fa, fb)) not in _NEAR_FINALS and not (ia == ib == "n" and {fa, fb} == {"i", "in"}):
            return EDIT
        confusions += 1
    return NEAR if confusions == 1 else EDIT


@cache
def coarse(syllable: str) -> str:
    """The syllable with every confusion folded away: two syllables at NEAR share it."""
    initial, final = _split(syllable)
    initial, final = _FOLD_INITIAL.get(initial, initial), _FOLD_FINAL.get(final, final)
    if initial == "n" and final == "in":
        final = "i"  # ni/nin (你/您)
    return initial + final


@cache
def char_readings(ch: str) -> tuple[str, ...]:
    """A recognised character's toneless readings, most common first (empty: not speech we read)."""
    if ch in _DIGITS:
        return _DIGITS[ch]
    if not "\u4e00" <= ch <= "\u9fff":
        return ()
    from pypinyin import Style, pinyin

    readings = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
    return tuple(dict.fromkeys(r for r in readings if r.isascii() and r.isalpha()))[:READINGS_PER_CHAR]


def literal_readings(text: str) -> list[tuple[str, ...]]:
    """A pattern literal's syllables: each character's reading in the phrase (还要我再说 → hai yao
    wo zai shuo) and its commonest reading, where that differs (了 in 打不了折: liao there, le as
    usually heard). Rarer readings are left out (说 as shui would read 随时 as 说实)."""
    from pypinyin import Style, lazy_pinyin

    out = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chunk: list(chunk))
    if len(out) != len(text):
        out = list(text)
    return [
        tuple(dict.fromkeys(([r] if r.isascii() and r.isalpha() else []) + list(char_readings(ch)[:1])))
        for ch, r in zip(text, out, strict=True)
    ]


_cost_cache: dict[tuple[tuple[str, ...], str], float] = {}


def _heard_cost(syllables: tuple[str, ...], ch: str) -> float:
    """What reading the heard character ``ch`` as one of ``syllables`` costs (its best reading)."""
    key = (syllables, ch)
    cost = _cost_cache.get(key)
    if cost is None:
        readings = char_readings(ch)
        cost = min((syllable_cost(a, b) for a in syllables for b in readings), default=EDIT)
        _cost_cache[key] = cost
    return cost


# --- runs as automata --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of an utterance's normalised text read as a spelling of a pattern run."""

    start: int
    end: int
    read_as: str
    cost: float


@dataclass(slots=True)
class Run:
    """One gap-free run of a pattern as an acyclic automaton: state 0 starts, every edge reads one
    character (with its syllable) and goes to a later state."""

    level: int
    hard: bool = False  # whole-syllable edits allowed (level 2)
    states: int = 1
    edges: list[tuple[int, int, str, tuple[str, ...]]] = field(default_factory=list)  # (from, to, char, readings)
    accept: frozenset[int] = frozenset()
    keys: frozenset[tuple[str, ...]] = frozenset()  # folded syllable n-grams (``gram``) of every spelling
    min_keys: int = 1  # how many of them a stretch must hold to be worth aligning

    @property
    def gram(self) -> int:
        """Index on trigrams: every spelling's trigrams survive homophones and confusions; a
        whole-syllable edit (level 2) spoils three, so those runs are indexed on bigrams."""
        return 2 if self.hard else 3

    budget: float = 0.0  # the most any spelling of this run may cost

    # per state: (to, char, readings, folded readings)
    outgoing: tuple[tuple[tuple[int, str, tuple[str, ...], frozenset[str]], ...], ...] = ()

    def windows(self, text: str, lo: int, hi: int, folded: Sequence[frozenset[str]] | None = None) -> list[Window]:
        """Stretches of ``text[lo:hi]`` (one clause) within budget, best first, not overlapping.
        ``folded``: each character's folded readings (``heard_keys``), when the caller has them."""
        found = _align(self, text, lo, hi) if self.hard else _walk(self, text, lo, hi, folded or heard_keys(text))
        found.sort(key=lambda w: (w.cost, w.start - w.end, w.start))
        kept: list[Window] = []
        for w in found:
            if all(w.end <= k.start or w.start >= k.end for k in kept):
                kept.append(w)
        return kept


def _walk(run: Run, text: str, lo: int, hi: int, folded: Sequence[frozenset[str]]) -> list[Window]:
    """Without whole-syllable edits a reading is as long as what was heard: walk the automaton from
    each heard character, dropping a path as soon as it costs too much (most die on their first
    syllable), instead of filling the edit-distance table."""
    outgoing, accept, budget, level = run.outgoing, run.accept, run.budget, run.level
    out: list[Window] = []
    for first in range(lo, hi - MIN_SYLLABLES + 1):
        stack = [(0, first, 0.0, "")]
        while stack:
            state, pos, cost, path = stack.pop()
            if state in accept and cost <= allowed_cost(len(path), level) and text[first:pos] != path:
                out.append(Window(first, pos, path, cost))
            if pos >= hi:
                continue
            ch, keys = text[pos], folded[pos]
            for dst, char, syllables, own in outgoing[state]:
                if char == ch:
                    stack.append((dst, pos + 1, cost, path + char))
                elif not own.isdisjoint(keys):  # else a whole other syllable: too dear
                    step = _heard_cost(syllables, ch)
                    if step < EDIT and cost + step <= budget:
                        stack.append((dst, pos + 1, cost + step, path + char))
    return out


def _align(run: Run, text: str, lo: int, hi: int) -> list[Window]:
    """Semi-global weighted edit distance of the run's automaton against ``text[lo:hi]``."""
    n_states, edges, budget, hard = run.states, run.edges, run.budget, run.hard
    cost = [_INF] * n_states
    start = [lo] * n_states
    path = [""] * n_states
    cost[0] = 0.0
    out: list[Window] = []
    for t in range(lo + 1, hi + 1):
        ch = text[t - 1]
        new = [_INF] * n_states
        n_start = [t] * n_states
        n_path = [""] * n_states
        heard = [False] * n_states  # the state was reached by reading the character just heard
        new[0] = 0.0
        if hard:
            for q in range(1, n_states):  # a heard syllable the pattern does not have
                c = cost[q] + EDIT
                if c <= budget:
                    new[q], n_start[q], n_path[q] = c, start[q], path[q]
        for src, dst, char, syllables in edges:
            c = cost[src]
            if c > budget:
                continue
            if char != ch:
                step = _heard_cost(syllables, ch)
                if step >= EDIT and not hard:
                    continue
                c += step
            if c <= budget and c < new[dst]:
                new[dst], n_start[dst], n_path[dst], heard[dst] = c, start[src], path[src] + char, True
        if hard:
            for src, dst, char, _ in edges:  # a pattern syllable not heard (never at the start)
                if src == 0:
                    continue
                c = new[src] + EDIT
                if c <= budget and c < new[dst]:
                    new[dst], n_start[dst], n_path[dst], heard[dst] = c, n_start[src], n_path[src] + char, False
        for q in run.accept:
            c = new[q]
            reads = c <= budget and heard[q] and c <= allowed_cost(len(n_path[q]), run.level)
            if reads and text[n_start[q] : t] != n_path[q]:
                out.append(Window(n_start[q], t, n_path[q], c))
        cost, start, path = new, n_start, n_path
    return out


def _finite(node: Node) -> bool:
    kind = node[0]
    if kind == "lit":
        return True
    if kind in ("seq", "alt"):
        return all(_finite(child) for child in node[1])
    if kind == "opt":
        return _finite(node[1])
    return False


def _runs(node: Node) -> list[Node]:
    """The gap-free runs of a pattern: maximal sequences of parts without ``*`` or ``#``."""
    if _finite(node):
        return [node]
    kind = node[0]
    if kind == "seq":
        out: list[Node] = []
        current: list[Node] = []
        for child in [*node[1], ("gap",)]:
            if _finite(child):
                current.append(child)
                continue
            if current:
                out.append(("seq", current))
                current = []
            out.extend(_runs(child))
        return out
    if kind == "alt":
        return [run for child in node[1] for run in _runs(child)]
    if kind == "opt":
        return _runs(node[1])
    return []


def _build(run: Run, node: Node, entries: frozenset[int]) -> frozenset[int]:
    kind = node[0]
    if kind == "lit":
        for char, syllables in zip(node[1], literal_readings(node[1]), strict=True):
            state = run.states
            run.states += 1
            run.edges.extend((e, state, char, syllables) for e in sorted(entries))
            entries = frozenset((state,))
        return entries
    if kind == "seq":
        for child in node[1]:
            entries = _build(run, child, entries)
        return entries
    if kind == "alt":
        return frozenset().union(*(_build(run, child, entries) for child in node[1]))
    if kind == "opt":
        return _build(run, node[1], entries) | entries
    raise AssertionError(kind)


def compile_runs(source: str, groups: Mapping[str, tuple[str, ...]], level: int) -> list[Run]:
    """A pattern's runs that may be read by sound (at least MIN_SYLLABLES syllables long)."""
    out = []
    for node in _runs(parse_pattern(source, groups)):
        run = Run(level, hard=level >= 2)
        run.accept = _build(run, node, frozenset((0,)))
        run.edges.sort()
        outgoing: list[list[tuple[int, str, tuple[str, ...], frozenset[str]]]] = [[] for _ in range(run.states)]
        for src, dst, char, syllables in run.edges:
            outgoing[src].append((dst, char, syllables, frozenset(coarse(s) for s in syllables)))
        run.outgoing = tuple(tuple(o) for o in outgoing)
        shortest, longest = _path_lengths(run)
        if longest < MIN_SYLLABLES:
            continue
        run.budget = allowed_cost(longest, level)
        if run.budget < 0:
            continue
        n = run.gram
        run.keys = _grams(run, n)
        length = max(shortest, MIN_SYLLABLES)
        hard = int(allowed_cost(length, level)) if run.hard else 0  # a whole-syllable edit spoils n grams
        run.min_keys = max(1, length - (n - 1) - n * hard)
        out.append(run)
    return out


def _grams(run: Run, n: int) -> frozenset[tuple[str, ...]]:
    """The folded syllable n-grams of every spelling of the run."""
    tails: list[set[tuple[str, ...]]] = [set() for _ in range(run.states)]
    tails[0].add(())
    grams: set[tuple[str, ...]] = set()
    for src, dst, _, syllables in run.edges:  # sorted by source: a state's tails are complete when read
        for tail in tails[src]:
            for key in {coarse(s) for s in syllables}:
                gram = (*tail, key)
                if len(gram) == n:
                    grams.add(gram)
                tails[dst].add(gram[-(n - 1) :])
    return frozenset(grams)


def _text_grams(folded: Sequence[frozenset[str]], lo: int, hi: int, n: int) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for t in range(lo, hi - n + 1):
        grams: set[tuple[str, ...]] = {()}
        for k in range(t, t + n):
            grams = {(*g, key) for g in grams for key in folded[k]}
        out |= grams
    return out


def _path_lengths(run: Run) -> tuple[int, int]:
    """Shortest and longest spelling of the run (edges go from lower to higher states)."""
    short = [10**6] * run.states
    long = [-1] * run.states
    short[0] = long[0] = 0
    for src, dst, _, _ in run.edges:  # sorted by source: every state's paths are final when it is read
        if long[src] >= 0:
            short[dst] = min(short[dst], short[src] + 1)
            long[dst] = max(long[dst], long[src] + 1)
    ends = [q for q in run.accept if long[q] > 0]
    return (min(short[q] for q in ends), max(long[q] for q in ends)) if ends else (0, 0)


# --- a lexicon's runs, and one call ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SoundSpec:
    """What the matcher needs of a rule: its id, pattern texts, resolved level, and whether it is a
    phrase rule (indexed and read on every agent turn) or a script line (read on its own turns)."""

    rule_id: str
    patterns: tuple[str, ...]
    level: int
    phrase: bool


class SoundMatcher:
    """Every rule's runs, compiled once per lexicon, with the bigram index over the phrase rules'."""

    def __init__(self, specs: Iterable[SoundSpec], groups: Mapping[str, tuple[str, ...]]) -> None:
        self.runs: dict[str, list[Run]] = {}
        self.phrase_runs: list[tuple[str, Run]] = []
        self.index: dict[tuple[str, ...], list[int]] = {}
        self.sizes: set[int] = set()
        for spec in specs:
            runs = [run for p in spec.patterns for run in compile_runs(p, groups, spec.level)]
            if not runs:
                continue
            self.runs[spec.rule_id] = runs
            if spec.phrase:
                for run in runs:
                    self.sizes.add(run.gram)
                    for key in run.keys:
                        self.index.setdefault(key, []).append(len(self.phrase_runs))
                    self.phrase_runs.append((spec.rule_id, run))

    def covers(self, rule_id: str) -> bool:
        return rule_id in self.runs

    def phrase_windows(self, text: str) -> dict[str, list[Window]]:
        """Per phrase rule, the windows of one utterance's normalised text its runs read."""
        clauses = _clauses(text)
        folded = heard_keys(text)
        keys: set[tuple[str, ...]] = set()
        for lo, hi in clauses:
            for n in self.sizes:
                keys |= _text_grams(folded, lo, hi, n)
        counts: Counter[int] = Counter()
        for key in keys:
            hits = self.index.get(key)
            if hits:
                counts.update(hits)
        out: dict[str, list[Window]] = {}
        for number, count in counts.items():
            rule_id, run = self.phrase_runs[number]
            if count < run.min_keys:
                continue
            for lo, hi in clauses:
                if hi - lo >= MIN_SYLLABLES:
                    found = run.windows(text, lo, hi, folded)
                    if found:
                        out.setdefault(rule_id, []).extend(found)
        return out

    def rule_windows(self, rule_id: str, text: str) -> list[Window]:
        """The windows of one utterance that one rule's runs read (script lines: a few turns)."""
        out: list[Window] = []
        for run in self.runs.get(rule_id, ()):
            for lo, hi in _clauses(text):
                out.extend(run.windows(text, lo, hi))
        return out


def _clauses(text: str) -> list[tuple[int, int]]:
    out, lo = [], 0
    for i, ch in enumerate(text):
        if ch in (CLAUSE_BREAK, UTTERANCE_BREAK):
            if i > lo:
                out.append((lo, i))
            lo = i + 1
    if len(text) > lo:
        out.append((lo, len(text)))
    return out


def heard_keys(text: str) -> list[frozenset[str]]:
    """Each character's readings with confusions folded (``coarse``): what the index is keyed on."""
    return [_folded(ch) for ch in text]


@cache
def _folded(ch: str) -> frozenset[str]:
    return frozenset(coarse(r) for r in char_readings(ch))


class SoundCall:
    """One recognised call's readings, computed when a rule first asks for them."""

    def __init__(self, matcher: SoundMatcher, view: CallView) -> None:
        self.matcher = matcher
        self.view = view
        self._phrase: dict[str, dict[int, list[Window]]] | None = None

    def covers(self, rule_id: str) -> bool:
        return self.matcher.covers(rule_id)

    def phrase_rules(self) -> frozenset[str]:
        """The phrase rules some agent turn of the call may be read as."""
        return frozenset(self._phrase_windows())

    def phrase_windows(self, rule_id: str) -> Mapping[int, list[Window]]:
        """{agent utterance: windows} for one phrase rule (customers' words are never read)."""
        return self._phrase_windows().get(rule_id, {})

    def _phrase_windows(self) -> dict[str, dict[int, list[Window]]]:
        if self._phrase is None:
            self._phrase = {}
            for index in self.view.agent_turns:
                for rid, windows in self.matcher.phrase_windows(self.view.norm(index).text).items():
                    self._phrase.setdefault(rid, {})[index] = windows
        return self._phrase

    def windows(self, rule_id: str, index: int) -> list[Window]:
        return self.matcher.rule_windows(rule_id, self.view.norm(index).text)


# --- reading the corrected sentence ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Corrected:
    """An utterance with heard words replaced by what they were read as: ``norm`` is the corrected
    sentence normalised; ``placed`` holds (start, end) in it, (start, end) in the heard normalised
    text, and the window, for each replacement."""

    norm: NormalizedText
    placed: tuple[tuple[int, int, int, int, Window], ...]

    def used(self, start: int, end: int) -> list[Window]:
        """Windows replaced inside the corrected span [start, end)."""
        return [w for cs, ce, _, _, w in self.placed if cs < end and start < ce]

    def to_heard(self, start: int, end: int) -> tuple[int, int]:
        """A span of the corrected text as the span of the heard normalised text it covers."""
        return self._heard(start, False), self._heard(end, True)

    def _heard(self, pos: int, is_end: bool) -> int:
        shift = 0
        for cs, ce, hs, he, _ in self.placed:
            if pos < cs or (is_end and pos == cs):
                break
            if pos < ce or (is_end and pos == ce):
                return he if is_end else hs
            shift = he - ce
        return pos + shift


def correct(
    heard: NormalizedText, windows: Sequence[Window], likelihood: Callable[[str], float] | None = None
) -> Corrected | None:
    """The utterance with heard words replaced by their readings (None: no reading is kept).

    ``likelihood``: log-probability of a sentence under a word model (jieba's word frequencies).
    A reading is kept only where it makes the sentence at least MIN_GAIN likelier than what was
    heard: 解释一下 is not read as 解试一下 (a real word for a non-word), 邀误说 is read as 要我说.
    Of overlapping readings the likeliest is kept (without a model: the cheapest, then the longest).
    """
    text = heard.text
    if likelihood is None:
        ranked = sorted(windows, key=lambda w: (w.cost, w.start - w.end, w.start))
    else:
        base = likelihood(text)
        gains = {w: likelihood(text[: w.start] + w.read_as + text[w.end :]) - base for w in set(windows)}
        ranked = sorted((w for w, g in gains.items() if g >= MIN_GAIN), key=lambda w: (-gains[w], w.cost, w.start))
    chosen: list[Window] = []
    for w in ranked:
        if all(w.end <= k.start or w.start >= k.end for k in chosen):
            chosen.append(w)
    if not chosen:
        return None
    chosen.sort(key=lambda w: w.start)
    original = heard.original
    pieces, expected, placed = [], [], []
    o_pos = n_pos = shift = 0
    for w in chosen:
        o_start, o_end = heard.to_original(w.start, w.end)
        pieces += [original[o_pos:o_start], w.read_as]
        expected += [text[n_pos : w.start], w.read_as]
        start = w.start + shift
        placed.append((start, start + len(w.read_as), w.start, w.end, w))
        shift += len(w.read_as) - (w.end - w.start)
        o_pos, n_pos = o_end, w.end
    pieces.append(original[o_pos:])
    expected.append(text[n_pos:])
    norm = normalize("".join(pieces))
    if norm.text != "".join(expected):
        return None
    return Corrected(norm, tuple(placed))


def heard_and_read(heard: NormalizedText, corrected: Corrected, span: tuple[int, int]) -> tuple[str, str, float]:
    """For a rule's match on the corrected text: the recognised words it covers (original text), the
    same words as read (normalised, clause marks dropped), and the cost of the readings in it."""
    h_start, h_end = corrected.to_heard(*span)
    o_start, o_end = heard.to_original(h_start, h_end)
    read_as = corrected.norm.text[span[0] : span[1]].replace(CLAUSE_BREAK, "")
    cost = sum(w.cost for w in corrected.used(*span))
    return heard.original[o_start:o_end], read_as, cost


__all__ = [
    "LEVELS",
    "Corrected",
    "SoundCall",
    "SoundMatcher",
    "SoundSpec",
    "Window",
    "allowed_cost",
    "confidence",
    "correct",
    "heard_and_read",
    "syllable_cost",
]
