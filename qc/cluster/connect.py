"""Where a batch runs on Ray: a local Ray started for this batch, or a running cluster joined.

Ray is an optional dependency (``pip install 'qc[ray]'``), imported only here and in the modules that
run tasks, so that qc without it never pays for the import. A Ray that this process already joined
(a test fixture, a notebook) is used as it is and left running; one this module started is stopped
when the batch ends, so a command leaves no Ray processes behind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

from qc.errors import QCError

log = logging.getLogger(__name__)

LOCAL = "local"  # ray.init's own word for "start a new local Ray", which is what --ray alone means
AUTO = "auto"  # the cluster this machine joined with ``ray start``
NOT_INSTALLED = "qc[ray] is not installed: pip install 'qc[ray]'"
_HOST_PORT = re.compile(r"^[A-Za-z0-9._\-\[\]:]+:\d{1,5}$")


class ClusterError(QCError):
    """Ray is missing, or the cluster cannot be reached: the whole batch cannot run."""


def require_ray() -> ModuleType:
    """The ``ray`` module, or a ClusterError whose message says how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterError(NOT_INSTALLED) from None
    return ray


def check_address(address: str) -> str:
    """``local``, ``auto``, ``ray://HOST:PORT`` or ``HOST:PORT``; anything else is a ClusterError
    (a folder name taken as the address, say, when ``--ray`` is written just before the paths)."""
    if address in (LOCAL, AUTO) or address.startswith("ray://") or _HOST_PORT.match(address):
        return address
    raise ClusterError(
        f"--ray {address!r}: expected nothing (a local Ray), auto, ray://HOST:PORT or HOST:PORT"
        " (write --ray=ADDRESS, or put --ray after the paths)"
    )


@dataclass(frozen=True, slots=True)
class RayTarget:
    """Which Ray to use. ``address``: ``local`` (start one here with ``local_cpus`` CPUs), ``auto`` or
    the address of a running cluster."""

    address: str = LOCAL
    local_cpus: int | None = None


@contextmanager
def connected(target: RayTarget) -> Iterator[ModuleType]:
    """The ``ray`` module, joined to ``target`` for the duration of the block."""
    ray = require_ray()
    if ray.is_initialized():
        log.debug("using the Ray this process already joined")
        yield ray
        return
    address = check_address(target.address)
    # quiet: the workers' own output not copied to the terminal (their failures come back as Failures),
    # Ray's logger at warnings only; a local Ray also without its dashboard (a web server per batch)
    kwargs: dict[str, object] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address == LOCAL:
        kwargs |= {"num_cpus": target.local_cpus, "include_dashboard": False}
    # a Ray that qc starts for one command and stops after it is private to that command: Ray's notice that
    # it enabled token authentication for it tells the user nothing they can act on
    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = notice.level
    if address == LOCAL:
        notice.setLevel(logging.ERROR)
    try:
        ray.init(address=address, **kwargs)
    except Exception as err:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError…: all mean "no cluster"
        raise ClusterError(f"cannot start or reach Ray at {address} ({type(err).__name__}: {err})") from None
    finally:
        notice.setLevel(level)
    try:
        yield ray
    finally:
        ray.shutdown()
