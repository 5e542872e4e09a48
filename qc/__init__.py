"""qc: local, explainable speech quality inspection (智能语音质检) for Chinese call centres.

The public API (everything the CLI does is one call here)::

    import qc

    lexicon = qc.load_lexicon(qc.default_lexicon_dir())
    inspector = qc.Inspector(lexicon)
    result = inspector.score(qc.read_transcript("call.json"))        # a CallResult (SPEC §2)
    qc.score_inputs(["calls/", "recordings.csv"], lexicon, qc.Store())  # batch: transcribe, score, store

Names are imported on first use, so ``import qc`` stays cheap (no jieba, Whisper or pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "CallResult": "qc.schema",
    "Check": "qc.schema",
    "Hit": "qc.schema",
    "Transcript": "qc.schema",
    "Utterance": "qc.schema",
    "CATEGORIES": "qc.schema",
    "QCError": "qc.errors",
    "InputError": "qc.errors",
    "LexiconError": "qc.errors",
    "Failure": "qc.errors",
    "default_lexicon_dir": "qc.config",
    "database_url": "qc.config",
    "read_transcript": "qc.formats",
    "transcript_from_dict": "qc.formats",
    "transcript_to_dict": "qc.formats",
    "result_to_dict": "qc.formats",
    "Lexicon": "qc.inspection.lexicon",
    "load_lexicon": "qc.inspection.lexicon",
    "check_lexicon": "qc.inspection.check",
    "Inspector": "qc.inspection.engine",
    "Store": "qc.store",
    "Recognition": "qc.pipeline",
    "collect_inputs": "qc.pipeline",
    "score_inputs": "qc.pipeline",
    "transcribe_inputs": "qc.pipeline",
    "monthly_report": "qc.pipeline",
    "examples_report": "qc.pipeline",
    "sample_report": "qc.pipeline",
    "mask_text": "qc.text.mask",
    "normalize": "qc.text.normalize",
}

__all__ = [
    "__version__",
    "CATEGORIES",
    "CallResult",
    "Check",
    "Failure",
    "Hit",
    "InputError",
    "Inspector",
    "Lexicon",
    "LexiconError",
    "QCError",
    "Recognition",
    "Store",
    "Transcript",
    "Utterance",
    "check_lexicon",
    "collect_inputs",
    "database_url",
    "default_lexicon_dir",
    "examples_report",
    "load_lexicon",
    "mask_text",
    "monthly_report",
    "normalize",
    "read_transcript",
    "result_to_dict",
    "sample_report",
    "score_inputs",
    "transcribe_inputs",
    "transcript_from_dict",
    "transcript_to_dict",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from qc.config import database_url, default_lexicon_dir
    from qc.errors import Failure, InputError, LexiconError, QCError
    from qc.formats import read_transcript, result_to_dict, transcript_from_dict, transcript_to_dict
    from qc.inspection.check import check_lexicon
    from qc.inspection.engine import Inspector
    from qc.inspection.lexicon import Lexicon, load_lexicon
    from qc.pipeline import (
        Recognition,
        collect_inputs,
        examples_report,
        monthly_report,
        sample_report,
        score_inputs,
        transcribe_inputs,
    )
    from qc.schema import CATEGORIES, CallResult, Check, Hit, Transcript, Utterance
    from qc.store import Store
    from qc.text.mask import mask_text
    from qc.text.normalize import normalize
