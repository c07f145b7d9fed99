"""Benchmark: score, rank and band 10,000 and 100,000 units against a 50-indicator pact.

Run from the project root with ``python bench/ranking.py``. The pact has three
sections: 50 indicator criteria (proportional, threshold and stepped; one in
three with over-plan bonus; one in seven lower-is-better) and 10 self-scored
criteria, plus bonus and deduction criteria. Results are random but seeded:
actuals from 75 % to 125 % of plan, 2 % of them not reported, a fifth of the
units with a reviewed score. Every unit's values are Decimal objects of its
own, made unit after unit as loading them would make them.

Building the inputs is not timed. What is timed, per run, is what the bot does
when it ranks a bloc: :meth:`ScoreSheet.score` for every unit, then
:func:`rank`, then :func:`band` for every unit, with the cycle collector on.
Preparing the score sheet (:meth:`ScoreSheet.build`, once per pact and set of
indicators) is timed apart. Wall-clock medians are the targets; CPU medians are
printed too because other work on the machine stretches the wall clock. The
last line of output is one JSON object.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rules  # noqa: E402 (the project root is put on the path above)
from rules.config import (  # noqa: E402
    Band,
    Criterion,
    CriterionKind,
    Direction,
    Extras,
    Indicator,
    OverPlan,
    Pact,
    RuleKind,
    ScoringRule,
    Section,
)
from rules.ranking import band, rank  # noqa: E402
from rules.scoring import ScoreSheet, UnitResults  # noqa: E402

SEED = 20190124
INDICATOR_CRITERIA = 50
SELF_CRITERIA = 10
TIE_BREAKS = ("section:I", "indicators_met", "bonus", "fewer_deductions")
BANDS = [
    Band(name="Xuất sắc", min_percent=Decimal(96)),
    Band(name="Tốt", min_percent=Decimal(92)),
    Band(name="Khá", min_percent=Decimal(80)),
    Band(name="Đạt", min_percent=Decimal(0)),
]


def build_pact(rng: random.Random) -> Pact:
    """A pact: section I with 50 indicator criteria of mixed rules, II and III self-scored."""
    indicator_criteria = []
    for index in range(INDICATOR_CRITERIA):
        kind = rng.choice([RuleKind.proportional] * 3 + [RuleKind.threshold, RuleKind.stepped])
        over_plan = (
            OverPlan(points_per_percent=Decimal("0.05"), cap=Decimal("0.5"))
            if index % 3 == 0
            else None
        )
        rule = ScoringRule(
            kind=kind,
            step_percent=Decimal(5) if kind is RuleKind.stepped else None,
            step_points=Decimal("0.25") if kind is RuleKind.stepped else None,
            over_plan=over_plan,
        )
        indicator_criteria.append(
            Criterion(
                code=f"I.{index + 1}",
                name=f"Chỉ tiêu {index + 1}",
                kind=CriterionKind.indicator,
                max=Decimal(1),
                rule=rule,
            )
        )
    self_criteria = [
        Criterion(code=f"{section}.{index + 1}", name=f"Tiêu chí {index + 1}", max=Decimal(5))
        for section in ("II", "III")
        for index in range(SELF_CRITERIA // 2)
    ]
    return Pact(
        standard_score=Decimal(100),
        sections=[
            Section(code="I", name="Nhiệm vụ chính trị", max=Decimal(50),
                    criteria=indicator_criteria),
            Section(code="II", name="Xây dựng Đảng, đoàn thể", max=Decimal(25),
                    criteria=self_criteria[:5]),
            Section(code="III", name="Công tác thi đua, khen thưởng", max=Decimal(25),
                    criteria=self_criteria[5:]),
        ],
        bonus=Extras(
            max=Decimal(5),
            criteria=[
                Criterion(code="B.1", name="Sáng kiến", kind=CriterionKind.bonus, max=Decimal(3)),
                Criterion(code="B.2", name="Khen thưởng", kind=CriterionKind.bonus, max=Decimal(3)),
            ],
        ),
        deductions=Extras(
            max=Decimal(5),
            criteria=[
                Criterion(code="D.1", name="Nộp chậm", kind=CriterionKind.deduction,
                          max=Decimal(2)),
                Criterion(code="D.2", name="Vi phạm", kind=CriterionKind.deduction,
                          max=Decimal(5)),
            ],
        ),
    )


class Inputs:
    """Seeded random indicators and results for a number of units."""

    def __init__(self, pact: Pact, units: int, rng: random.Random) -> None:
        self.pact = pact
        self.unit_codes = [f"U{number:06d}" for number in range(units)]
        self.directions = [
            Direction.lower if index % 7 == 3 else Direction.higher
            for index in range(INDICATOR_CRITERIA)
        ]
        self.indicator_codes = [f"CT{index + 1:02d}" for index in range(INDICATOR_CRITERIA)]
        self.criterion_codes = [f"I.{index + 1}" for index in range(INDICATOR_CRITERIA)]
        # Every unit gets Decimal objects of its own, made one unit after the
        # other, as loading results from the database or a file would make them.
        self.targets: list[list[Decimal]] = []
        self.results: list[UnitResults] = []
        for unit in self.unit_codes:
            targets = [self._target(rng, direction) for direction in self.directions]
            self.targets.append(targets)
            self.results.append(self._results(unit, targets, rng))

    @staticmethod
    def _target(rng: random.Random, direction: Direction) -> Decimal:
        if direction is Direction.lower and rng.random() < 0.02:
            return Decimal(0)  # a "no accidents" plan
        return Decimal(rng.randint(1, 50_000))

    def _results(self, unit: str, targets: list[Decimal], rng: random.Random) -> UnitResults:
        actuals = {}
        for code, target in zip(self.indicator_codes, targets, strict=True):
            if rng.random() < 0.02:
                continue  # a few indicators not reported
            if target:
                # 75 % to 125 % of the target, to one decimal place
                tenths = rng.randint(int(target) * 750, int(target) * 1250) // 100
                actuals[code] = Decimal(tenths).scaleb(-1)
            else:
                actuals[code] = Decimal(rng.choice([0, 0, 1]))
        self_scores = {
            f"{section}.{index + 1}": Decimal(rng.randint(12, 20)) / 4
            for section in ("II", "III")
            for index in range(SELF_CRITERIA // 2)
        }
        if rng.random() < 0.3:
            self_scores["B.1"] = Decimal(rng.randint(0, 12)) / 4
        if rng.random() < 0.1:
            self_scores["D.1"] = Decimal(rng.randint(0, 8)) / 4
        reviewed = {"II.1": Decimal(rng.randint(0, 20)) / 4} if rng.random() < 0.2 else {}
        return UnitResults(unit, actuals, self_scores, reviewed)

    def indicators(self) -> Iterator[Indicator]:
        """Every unit's indicators, made on the fly (millions of models would not fit well)."""
        construct = Indicator.model_construct
        weight = Decimal(1)
        for unit, targets in zip(self.unit_codes, self.targets, strict=True):
            for index, code in enumerate(self.indicator_codes):
                yield construct(
                    code=code,
                    unit=unit,
                    criterion=self.criterion_codes[index],
                    text=code,
                    measure="hộ",
                    target=targets[index],
                    direction=self.directions[index],
                    weight=weight,
                )


class Timing(NamedTuple):
    """Medians of one size: wall-clock and CPU seconds of the timed work, and the build."""

    wall: float
    cpu: float
    build: float


def run_once(sheet: ScoreSheet, inputs: Inputs) -> tuple[float, float, str]:
    """Score, rank and band every unit: wall and CPU seconds taken, and the leader's code."""
    started, started_cpu = time.perf_counter(), time.process_time()
    scores = sheet.score_all(inputs.results)
    ranked = rank(scores, TIE_BREAKS)
    named = [band(place.score.percent_of_standard, BANDS) for place in ranked]
    elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    assert len(named) == len(inputs.results)
    return elapsed, elapsed_cpu, ranked[0].unit_code


def measure(units: int, runs: int, pact: Pact) -> Timing:
    """Medians of scoring+ranking+bands over runs, and the sheet's build time."""
    inputs = Inputs(pact, units, random.Random(SEED + units))
    # The indicators are pydantic models made on the fly; time making them
    # alone and take it off the build time.
    started = time.perf_counter()
    for _ in inputs.indicators():
        pass
    making = time.perf_counter() - started
    started = time.perf_counter()
    sheet = ScoreSheet.build(pact, inputs.indicators())
    build_seconds = max(time.perf_counter() - started - making, 0.0)
    # The inputs live for the whole benchmark: keep the cycle collector off them.
    gc.collect()
    gc.freeze()
    walls, cpus = [], []
    leaders = set()
    for _ in range(runs):
        elapsed, elapsed_cpu, leader = run_once(sheet, inputs)
        walls.append(elapsed)
        cpus.append(elapsed_cpu)
        leaders.add(leader)
        gc.collect()
    assert len(leaders) == 1, "the same inputs must give the same leader"
    timing = Timing(statistics.median(walls), statistics.median(cpus), build_seconds)
    print(
        f"{units:>7,} units x {INDICATOR_CRITERIA} indicators: scored+ranked+banded in "
        f"median {timing.wall:.3f} s wall, {timing.cpu:.3f} s CPU "
        f"(runs: {', '.join(f'{t:.3f}' for t in walls)}); "
        f"sheet build {build_seconds:.3f} s (not in the timing)"
    )
    del sheet, inputs
    gc.unfreeze()
    gc.collect()
    return timing


def calibration() -> float:
    """Seconds this machine takes, now, for a fixed Decimal workload like scoring's (median of 5).

    Shared 2-core VMs vary from day to day by a factor of two or more; dividing a
    timing by this figure compares runs made on different days.
    """
    rng = random.Random(SEED)
    # Distinct objects, as many as 4.000 units' actuals: memory counts, not just the CPU.
    actuals = [Decimal(rng.randint(7_500, 12_500)).scaleb(-1) for _ in range(200_000)]
    divisors = [Decimal(rng.randint(1, 50_000)).scaleb(-2) for _ in range(200_000)]
    factor, cent = Decimal("0.01"), Decimal("0.01")
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for actual, divisor in zip(actuals, divisors, strict=True):
            (actual / divisor * factor).quantize(cent)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    """Run both sizes and print the medians; the last line is JSON."""
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs (other work on the machine slows the wall clock)")
    print("rules: " + ("scoring and ranking compiled (mypyc)" if rules.COMPILED
                       else "scoring and ranking as Python (not compiled, or older than the source)"))
    reference = calibration()
    print(f"calibration: 200,000 Decimal divide-multiply-quantize in {reference:.3f} s "
          "(the machine's speed now; divide timings by it to compare days)")
    pact = build_pact(random.Random(SEED))
    small = measure(10_000, 5, pact)
    large = measure(100_000, 3, pact)
    print(
        json.dumps(
            {
                "units_10k_s": round(small.wall, 4),
                "units_100k_s": round(large.wall, 4),
                "ratio": round(large.wall / small.wall, 2),
                "units_10k_cpu_s": round(small.cpu, 4),
                "units_100k_cpu_s": round(large.cpu, 4),
                "build_10k_s": round(small.build, 4),
                "build_100k_s": round(large.build, 4),
                "calibration_s": round(reference, 4),
                "units_10k_in_calibrations": round(small.wall / reference, 2),
                "compiled": rules.COMPILED,
            }
        )
    )


if __name__ == "__main__":
    main()
