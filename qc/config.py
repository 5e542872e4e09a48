"""Where qc finds its lexicons, models, database and cache: the only reader of ``QC_*`` settings.

Nothing here depends on the current folder, so ``qc score`` in one folder and ``qc report`` in
another see the same database:

| setting            | default                                                        |
| ------------------ | -------------------------------------------------------------- |
| ``QC_HOME``        | the user data folder (``~/.local/share/qc`` on Linux)           |
| ``QC_DB``          | ``sqlite:///$QC_HOME/qc.db``                                    |
| ``QC_LEXICONS``    | the lexicons bundled with qc (``lexicons/`` of a source checkout) |
| ``QC_CACHE``       | the user cache folder (``~/.cache/qc``): joined model, transcripts |
| ``QC_WHISPER_MODEL`` | the Whisper base model from the installed packages             |

Every function reads the environment when called (never at import), so tests and long-running
processes see a change.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """lexicons/ or models/ as package data in an installed wheel, else the source checkout's folder."""
    installed = _PACKAGE / "data" / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


def home_dir() -> Path:
    """$QC_HOME, else the platform's user data folder for qc."""
    env = os.environ.get("QC_HOME")
    return Path(env).expanduser() if env else platformdirs.user_data_path("qc")


def database_url() -> str:
    """$QC_DB, else an embedded SQLite file in ``home_dir()`` (created on first use)."""
    env = os.environ.get("QC_DB")
    if env:
        return env
    return f"sqlite:///{home_dir() / 'qc.db'}"


def default_lexicon_dir() -> Path:
    """$QC_LEXICONS, else the lexicons bundled with qc."""
    env = os.environ.get("QC_LEXICONS")
    return Path(env).expanduser() if env else _bundled("lexicons")


def default_corpus() -> Path | None:
    """The labelled dev corpus of a source checkout (corpus/dev.jsonl), which ``qc lexicon check``
    runs every rule over; None in an installed wheel, which does not ship it."""
    path = _PACKAGE.parent / "corpus" / "dev.jsonl"
    return path if path.is_file() else None


def models_dir() -> Path:
    """The trained models shipped with qc (role classifier)."""
    return _bundled("models")


def cache_dir() -> Path:
    """$QC_CACHE, else the platform's user cache folder for qc."""
    env = os.environ.get("QC_CACHE")
    return Path(env).expanduser() if env else platformdirs.user_cache_path("qc")


def whisper_model_override() -> Path | None:
    """$QC_WHISPER_MODEL: a faster-whisper model folder to use instead of the packaged one."""
    env = os.environ.get("QC_WHISPER_MODEL")
    return Path(env).expanduser() if env else None
