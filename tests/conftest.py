from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qc.inspection.engine import Inspector
from qc.inspection.lexicon import Lexicon, load_lexicon

ROOT = Path(__file__).resolve().parent.parent
LEXICONS = ROOT / "lexicons"
SAMPLES = ROOT / "samples" / "calls"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return load_lexicon(LEXICONS)


@pytest.fixture(scope="session")
def inspector(lexicon: Lexicon) -> Inspector:
    return Inspector(lexicon)


@pytest.fixture()
def lexicon_copy(tmp_path: Path) -> Path:
    """A writable copy of the real lexicons, for tests that break it on purpose."""
    dest = tmp_path / "lexicons"
    shutil.copytree(LEXICONS, dest)
    return dest
