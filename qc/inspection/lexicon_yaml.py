"""Reading the lexicon's YAML files: UTF-8 only, duplicate keys refused, every mapping's line kept.

Every problem QA staff see names a file and a line; the loader records the line of each mapping
under ``__line__`` so rule, scorecard and context parsers can point at it, and ``strip_lines``
removes those keys where only the data matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qc.errors import LexiconError, LexiconProblem


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping, so problems can name it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    keys = [loader.construct_object(k) for k, _ in node.value]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate key(s) {sorted(dupes)}", node.start_mark)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, display: str) -> Any:
    """Parse one YAML file; raises LexiconProblem-carrying LexiconError on bad encoding or syntax."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise LexiconError([LexiconProblem(display, "file is not UTF-8 (GBK?); save it as UTF-8", line)]) from None
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err)
        raise LexiconError([LexiconProblem(display, f"invalid YAML: {problem}", line)]) from None


def strip_lines(value: Any) -> Any:
    """The parsed value without the ``__line__`` keys the loader adds (for code that wants the data alone)."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value
