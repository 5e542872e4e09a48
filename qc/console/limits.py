"""The login rate limit: failed sign-ins are counted per user name and per client address over a
sliding window, and once either count is full, sign-in is refused (429) until the window moves on.

Per name stops guessing one person's password from many addresses; per address stops trying many
names from one machine. The address limit is higher because a call centre often reaches the console
through one NAT address. Counts live in memory: one console process is one limiter (the console is
served by one process; a restart forgets the counts, the argon2 hashes still make guessing slow).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    def __init__(
        self,
        per_name: int = 5,
        per_address: int = 30,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_name = per_name
        self.per_address = per_address
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until a sign-in may be tried again, or None when it may be tried now."""
        now = self.clock()
        waits = []
        for key, limit in ((f"name:{name}", self.per_name), (f"addr:{address}", self.per_address)):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(self.window_s - (now - times[0]))
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        for key in (f"name:{name}", f"addr:{address}"):
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > 100_000:  # a flood of made-up names must not grow memory without end
            for key in list(self._failures):
                self._recent(key, now)

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"name:{name}", None)
