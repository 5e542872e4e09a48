"""qc: local, explainable speech quality inspection for Chinese call centres."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
