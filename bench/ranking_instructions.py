"""Count the instructions of ranking bench/ranking.py's bloc, whatever the load on the machine.

Run under valgrind from the project root::

    valgrind --tool=callgrind --dump-before='os_getpid*' --callgrind-out-file=cg python bench/ranking_instructions.py
    grep summary: cg.2 cg.4     # 20 rankings again; 10 first rankings

Each ``os.getpid()`` below makes callgrind write the counts since the last one, so
part 2 holds 20 rankings on a kept configuration and part 4 ten first rankings of
fresh configurations (their building, part 3, is not counted). Divide by 20 and 10.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ranking import BLOC_UNITS, SEED, build_bloc, rank_bloc  # noqa: E402 (the root is put on the path above)


def main() -> None:
    """Rank the benchmark's bloc again 20 times, then 10 fresh configurations of it, between markers."""
    bloc = build_bloc("B000", BLOC_UNITS, random.Random(SEED))
    rank_bloc(bloc)
    rank_bloc(bloc)
    os.getpid()
    for _ in range(20):
        rank_bloc(bloc)
    os.getpid()
    fresh = [bloc.fresh() for _ in range(10)]
    os.getpid()
    for config in fresh:
        rank_bloc(config)
    os.getpid()


if __name__ == "__main__":
    main()
