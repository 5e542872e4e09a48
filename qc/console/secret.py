"""The key that signs the console's session cookies.

``$QC_SECRET`` when set; else a random key kept in ``$QC_HOME/console-secret``, readable by its owner
only (0600). A key made afresh at every start would sign everyone out whenever the console restarts,
and two console processes on one database would refuse each other's cookies.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from qc.config import console_secret, home_dir
from qc.errors import QCError

SECRET_FILE = "console-secret"


class ConsoleError(QCError):
    """The console cannot start (its key file cannot be read or written)."""


def session_secret(home: Path | None = None) -> str:
    """$QC_SECRET, else the key in ``home`` (default ``home_dir()``), created on first use."""
    configured = console_secret()
    if configured:
        return configured
    path = (home or home_dir()) / SECRET_FILE
    try:
        return _read(path) or _create(path)
    except OSError as err:
        raise ConsoleError(
            f"{path}: cannot keep the console's session key there ({err.strerror}); set QC_SECRET"
        ) from None


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:  # someone loosened it: the key signs every session
        path.chmod(0o600)
    return text or None


def _create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another console process made it first (use theirs), or it is empty
        existing = _read(path)
        if existing:
            return existing
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key
