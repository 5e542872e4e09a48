"""Fixtures for the speech tests: the correction terms the pipeline hands to CallTranscriber.

Speech never reads the lexicons; the pipeline chooses the terms (``qc.pipeline.protected_terms``).
The tests take them from the same function, so recognition is checked with the words production
protects.
"""

from __future__ import annotations

import pytest

from qc.inspection.lexicon import Lexicon
from qc.pipeline import protected_terms


@pytest.fixture(scope="session")
def terms(lexicon: Lexicon) -> list[str]:
    return protected_terms(lexicon)[0]


@pytest.fixture(scope="session")
def company(lexicon: Lexicon) -> list[str]:
    return protected_terms(lexicon)[1]
