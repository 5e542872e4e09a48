"""A call centre's profile: what its agents must say, in its own words (lexicons/profiles/<name>.yaml).

The service manual's rules (禁语, 不规范用语, timing, process) are the same for every call centre;
what differs is the company's name, how agents open and close a call, the 工号 format and a few
company-specific rules (a courier asks for the waybill number; a telecom operator does not). A
profile holds exactly those, so another call centre changes one file, not the rules, and every
rule's examples stay valid: an example writes ``{公司}`` where a company name goes and the loader
puts in the profile's first name.

The script rules in rules/scripts.yaml name a profile line (``line: opening``); the profile gives
that line's patterns, partial patterns (said in part → 不完整) and examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROFILE_SCHEMA = "qc.profile/1"
# The names a script rule may ask for, and the keys each line may have.
LINE_NAMES = ("opening", "closing", "closing_question")
LINE_KEYS = ("source", "patterns", "partial", "examples", "__line__")
# What ``{公司}`` stands for when a profile names no company (a generic profile used as shipped).
NO_COMPANY = "本公司"
PLACEHOLDER = "{公司}"
DEFAULT_PROFILE = "courier"


@dataclass(frozen=True, slots=True)
class Profile:
    """A validated profile. ``lines`` keeps each line's raw spec (patterns are compiled by the
    script rule that uses it, with the lexicon's synonym groups); ``rules`` the raw specs of the
    profile's own rules, built like those of rules/*.yaml."""

    name: str
    title: str
    company: tuple[str, ...]
    domains: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]]
    lines: Mapping[str, Mapping[str, Any]]
    job_number: tuple[str, ...]
    rules: tuple[Mapping[str, Any], ...] = ()
    file: str = ""

    @property
    def company_example(self) -> str:
        """The name ``{公司}`` becomes in examples: the profile's first company name."""
        return self.company[0] if self.company else NO_COMPANY


@dataclass
class ProfileProblems:
    """Problems found while reading a profile, each with the line it is on."""

    items: list[tuple[str, int | None]] = field(default_factory=list)

    def add(self, message: str, line: int | None) -> None:
        self.items.append((message, line))


def parse_profile(name: str, data: Mapping[str, Any], file: str) -> tuple[Profile, list[tuple[str, int | None]]]:
    """The profile in ``data`` (a mapping read by lexicon_yaml) and its problems; a usable profile
    is returned even with problems, so every problem of every file is reported in one run."""
    problems = ProfileProblems()
    top = data.get("__line__")
    allowed = {"schema", "name", "title", "company", "domains", "groups", "lines", "job_number", "rules", "__line__"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        problems.add(f"unknown key(s) {unknown}; allowed: {sorted(allowed - {'__line__'})}", top)
    if data.get("name", name) != name:
        problems.add(f"'name' is {data.get('name')!r} but the file is profiles/{name}.yaml", top)
    company = _words(data.get("company") or [], "company", top, problems)
    domains = _words(data.get("domains") or [], "domains", top, problems)
    groups: dict[str, tuple[str, ...]] = {}
    raw_groups = data.get("groups") or {}
    if not isinstance(raw_groups, dict):
        problems.add("'groups' must be a mapping of name: [words]", top)
        raw_groups = {}
    for group, words in raw_groups.items():
        if group == "__line__":
            continue
        groups[group] = _words(words, f"group {group!r}", raw_groups.get("__line__"), problems)
    lines: dict[str, Mapping[str, Any]] = {}
    raw_lines = data.get("lines") or {}
    if not isinstance(raw_lines, dict):
        problems.add("'lines' must be a mapping (opening, closing, closing_question)", top)
        raw_lines = {}
    for line_name, spec in raw_lines.items():
        if line_name == "__line__":
            continue
        where = spec.get("__line__") if isinstance(spec, dict) else raw_lines.get("__line__")
        if line_name not in LINE_NAMES:
            problems.add(f"unknown line {line_name!r}; known: {', '.join(LINE_NAMES)}", where)
            continue
        if not isinstance(spec, dict) or not spec.get("patterns"):
            problems.add(f"line {line_name!r} needs 'patterns'", where)
            continue
        extra = sorted(set(spec) - set(LINE_KEYS))
        if extra:
            problems.add(f"line {line_name!r}: unknown key(s) {extra}", where)
        lines[line_name] = spec
    job_number = _words(data.get("job_number") or [], "job_number", top, problems)
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        problems.add("'rules' must be a list of rules (like rules/*.yaml)", top)
        rules = []
    title = data.get("title") or name
    profile = Profile(name, str(title), company, domains, groups, lines, job_number, tuple(rules), file)
    return profile, problems.items


def _words(value: Any, what: str, line: int | None, problems: ProfileProblems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.add(f"'{what}' must be a list of words", line)
        return ()
    return tuple(value)


def fill_placeholders(example: Any, company: str) -> Any:
    """The example with ``{公司}`` replaced by ``company`` (in a text, or in each line of a dialogue)."""
    if isinstance(example, str):
        return example.replace(PLACEHOLDER, company)
    if isinstance(example, list):
        return [fill_placeholders(e, company) for e in example]
    return example
