"""Keeping Python's cycle collector from walking the scores over and over while they are made.

Scoring a bloc makes a few container objects per unit (its score, two
read-only mappings, a tuple of points) and keeps them all; none of them is
part of a reference cycle. With the automatic collector on, the kept objects
start a full collection each time they have grown by a quarter, and each walks
every score made so far, scattered over hundreds of megabytes for a province's
100.000 units (``bench/ranking.py``), for nothing found. While
:func:`collector_paused` holds, the automatic collector is off; the caller
collects the youngest generation now and then with :func:`collect_young`, as
the automatic collector would, so that what is garbage goes at once and tuples
of numbers leave the collector's lists while they are still in the CPU's
cache. The scores kept are walked once, when the collector next runs in full.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["YOUNG_BATCH", "collect_young", "collector_paused"]

#: Units scored between two collections of the youngest generation: a few
#: hundred new containers, about what the automatic collector lets pass (700).
YOUNG_BATCH = 128


@contextmanager
def collector_paused() -> Iterator[None]:
    """Turn the automatic cycle collector off for the block; back on after, if it was on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def collect_young() -> None:
    """Collect the youngest generation only: the objects made since it was last collected."""
    gc.collect(0)
