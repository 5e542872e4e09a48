"""Writing files so that a failure never leaves half a file, and every failure is one clear line.

One implementation for every writer in qc (transcripts, the transcript cache, reports, exports):
the content goes to a temporary file in the target folder and is renamed over the target only when
complete, so a full disk or a killed process leaves the old file (or none), never a truncated one.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qc.errors import OutputError


def describe_os_error(err: OSError) -> str:
    """'No space left on device' rather than '[Errno 28] …' or a numeric code from a C library."""
    if err.errno == errno.ENOSPC:
        return "no space left on the disk"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only folder or file?)"
    return err.strerror or str(err)


@contextmanager
def atomic_output(path: str | Path, make_parents: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only if the block succeeds.

    Raises OutputError naming ``path`` for any OS error inside the block (a writer library's own
    error that wraps an OSError is the caller's to translate).
    """
    path = Path(path)
    folder = path.parent
    if make_parents:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"cannot write {path}: cannot create folder {folder}: {describe_os_error(err)}") from None
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    tmp = folder / f".{path.name}.{os.getpid()}.tmp{path.suffix}"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {describe_os_error(err)}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str, make_parents: bool = False) -> Path:
    """Write UTF-8 text atomically (see ``atomic_output``)."""
    with atomic_output(path, make_parents) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
