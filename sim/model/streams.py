"""Named random streams: one independent numpy Generator per (seed, replication, name).

Replication ``r`` of seed ``S`` draws stream ``name`` from
``Generator(PCG64(SeedSequence([S, r, stable_key(name)])))``. The key is a stable hash of the
name (not Python's salted ``hash``), so the same name gives the same numbers in any process, on
any worker, and two scenario variants that share a stream name share its random numbers
(common random numbers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np


def stable_key(name: str) -> int:
    """A 64-bit integer derived from ``name`` that is the same in every process."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def make_generator(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` of replication ``replication`` of ``seed``."""
    seq = np.random.SeedSequence([int(seed), int(replication), stable_key(name)])
    return np.random.Generator(np.random.PCG64(seq))


class Streams:
    """Lazily created named generators for one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        self._generators: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        gen = self._generators.get(name)
        if gen is None:
            gen = make_generator(self.seed, self.replication, name)
            self._generators[name] = gen
        return gen

    __getitem__ = get


class DrawBuffer:
    """Draws a distribution in blocks from one generator and hands values out one at a time.

    Decisions need single values (a relay delay, a collapse draw) but drawing them one call at
    a time is slow; a buffer amortises the numpy call. The sequence of values depends only on
    the generator and the distribution, so it is reproducible.
    """

    __slots__ = ("_block", "_buf", "_i", "_sample")

    def __init__(self, sample: Callable[[int], np.ndarray], block: int = 64) -> None:
        self._sample = sample
        self._block = block
        self._buf: np.ndarray = np.empty(0)
        self._i = 0

    def next(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._sample(self._block)
            self._i = 0
        v = float(self._buf[self._i])
        self._i += 1
        return v
