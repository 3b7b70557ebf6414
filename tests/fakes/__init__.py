"""Test doubles: a loopback arXiv server (:mod:`fakes.arxiv_server`) and a fake clock."""

from __future__ import annotations


class FakeClock:
    """A :class:`bibtools.http.Clock` whose ``sleep`` only moves time forward.

    ``sleeps`` records every requested sleep, so tests can assert on
    pacing and backoff without waiting for them.
    """

    def __init__(self, start: float = 1000.0, wall: float = 1_780_000_000.0) -> None:
        self.now = start
        self.wall_offset = wall - start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now + self.wall_offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @property
    def slept(self) -> float:
        return sum(s for s in self.sleeps if s > 0)
