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


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the user's own database: the default one lives in a temporary QC_HOME."""
    import os

    os.environ.setdefault("QC_HOME", str(tmp_path_factory.mktemp("qc-home")))
