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
| ``QC_APPEAL_DAYS`` | 7: the appeal window and how long an appeal waits for a decision  |
| ``QC_SECRET``      | the console's session-signing key (else one kept in ``$QC_HOME/console-secret``) |

Every function reads the environment when called (never at import), so tests and long-running
processes see a change.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from qc.errors import SettingError

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


def console_secret() -> str | None:
    """$QC_SECRET: the key that signs the console's session cookies (None: ``qc serve`` keeps a random
    one in a file under ``home_dir()``). Every process of one console must share it."""
    env = os.environ.get("QC_SECRET")
    return env if env and env.strip() else None


def whisper_model_override() -> Path | None:
    """$QC_WHISPER_MODEL: a faster-whisper model folder to use instead of the packaged one."""
    env = os.environ.get("QC_WHISPER_MODEL")
    return Path(env).expanduser() if env else None


def appeal_days() -> int:
    """$QC_APPEAL_DAYS, else 7: how long an agent may appeal a scored call (申诉期), and how long an
    open appeal may wait for its decision before it expires."""
    env = os.environ.get("QC_APPEAL_DAYS")
    if env is None or not env.strip():
        return 7
    try:
        days = int(env)
    except ValueError:
        raise SettingError(f"QC_APPEAL_DAYS must be a whole number of days, got {env!r}") from None
    if days < 1:
        raise SettingError(f"QC_APPEAL_DAYS must be 1 or more, got {days}")
    return days
