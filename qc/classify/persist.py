"""Load a scikit-learn model that qc shipped, safely: skops, an allow-list of types, a side-car.

skops lists every type a file would construct (``get_untrusted_types``); the model is loaded only if
each one is on the caller's allow-list — never ``trusted=True`` — so a replaced model file cannot
run code on an inspector's machine. The side-car ``<name>.meta.json`` says which scikit-learn
trained it and the sha256 of the file; a mismatch is a warning, not a failure.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from qc.errors import QCError
from qc.files import describe_os_error

log = logging.getLogger(__name__)

# What a TF-IDF + logistic-regression Pipeline may hold beyond skops' own trusted defaults.
TEXT_PIPELINE_TYPES = frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "numpy.ndarray",
        "builtins.slice",
    }
)


def load_model(path: Path, allowed: Collection[str], what: str, hint: str) -> Any:
    """The object in a skops file, if every type in it is ``allowed``; QCError naming ``what`` otherwise."""
    import skops.io as sio  # scikit-learn and skops take seconds to import: only callers that need a model pay

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except OSError as err:
        raise QCError(f"{path}: cannot read the {what} ({describe_os_error(err)}); {hint}") from None
    except Exception as err:  # zipfile, json and skops errors alike: not a model skops wrote
        raise QCError(f"{path}: not a skops {what} ({type(err).__name__}: {err}); {hint}") from None
    refused = sorted(set(untrusted) - set(allowed))
    if refused:
        raise QCError(f"{path}: refused to load the {what}: it holds types qc does not trust ({', '.join(refused)})")
    try:
        return sio.load(path, trusted=untrusted)
    except Exception as err:  # skops raises many kinds on a damaged or foreign file
        raise QCError(f"{path}: cannot load the {what} ({type(err).__name__}: {err}); {hint}") from None


def read_meta(path: Path, meta_name: str, what: str, hint: str) -> dict[str, Any]:
    """The side-car next to a model; warns when it names another scikit-learn or another file."""
    import sklearn

    meta_path = path.with_name(meta_name)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("%s: no readable metadata next to the %s", meta_path, what)
        return {}
    if meta.get("sklearn_version") != sklearn.__version__:
        log.warning(
            "%s %s was trained with scikit-learn %s, running %s: %s if its results look wrong",
            what,
            path,
            meta.get("sklearn_version"),
            sklearn.__version__,
            hint,
        )
    expected = meta.get("model_sha256")
    if expected and expected != file_sha256(path):
        log.warning("%s: model file does not match %s (model_sha256): stale metadata?", path, meta_path.name)
    return meta


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
