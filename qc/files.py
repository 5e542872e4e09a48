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


class AtomicTextFile:
    """A text file written line by line under a temporary name, renamed into place by ``commit``.

    For outputs that stream (JSON Lines of a long batch): a run that fails half-way leaves no
    half-written file behind, and a full disk is one OutputError naming the file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._context = atomic_output(self.path)
        tmp = self._context.__enter__()
        try:
            self._file = open(tmp, "w", encoding="utf-8")  # noqa: SIM115 - closed in commit/discard
        except OSError as err:
            self._context.__exit__(type(err), err, err.__traceback__)
            raise OutputError(f"cannot write {self.path}: {describe_os_error(err)}") from None

    def write(self, text: str) -> None:
        try:
            self._file.write(text)
        except OSError as err:
            self.discard()
            raise OutputError(f"cannot write {self.path}: {describe_os_error(err)}") from None

    def commit(self) -> None:
        try:
            self._file.close()
        except OSError as err:
            self.discard()
            raise OutputError(f"cannot write {self.path}: {describe_os_error(err)}") from None
        self._context.__exit__(None, None, None)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(Exception):
            self._context.__exit__(OSError, OSError("discarded"), None)
