"""Where qc finds its lexicons and database when the user does not say."""

from __future__ import annotations

import os
from pathlib import Path

REPO_LEXICONS = Path(__file__).resolve().parent.parent / "lexicons"


def default_lexicon_dir() -> Path:
    """$QC_LEXICONS, else ./lexicons, else the lexicons/ folder next to the qc package."""
    env = os.environ.get("QC_LEXICONS")
    if env:
        return Path(env)
    here = Path.cwd() / "lexicons"
    return here if here.is_dir() else REPO_LEXICONS
