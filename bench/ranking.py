"""Benchmark: scoring and ranking at the sizes that exist: one bloc, and a whole country.

Run from the project root with ``python bench/ranking.py`` (about half a minute).

* **One bloc**: 30 units (the largest blocs) against a pact of 60 criteria: 50
  indicator criteria (proportional, threshold and stepped; one in three with
  over-plan bonus; one indicator in seven lower-is-better; one criterion in ten
  fed by two weighted indicators, so 55 indicators per unit), 10 self-scored
  criteria, bonus and deductions. Target: under 5 ms, the median of many runs.
* **A country**: about 4.000 units in 500 blocs of 5 to 30 units, each bloc with
  a pact of its own drawn like the one above. Target: every bloc scored and
  ranked in under 2 s, the median of a few runs.

Results are random but seeded: actuals from 75 % to 125 % of plan, 2 % of them
not reported, a fifth of the units with a reviewed score. Building the inputs
(pydantic models of the pact and indicators, as a loaded configuration holds
them) is not timed. What is timed is what the bot does to rank a bloc
(``handlers/ranking.py``): :meth:`ScoreSheet.build` from the bloc's pact and
indicators, :meth:`ScoreSheet.score` for every unit, :func:`rank` with four
tie-breaks, and :func:`band` for every unit. The last line of output is one
JSON object.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rules.config import (  # noqa: E402 (the project root is put on the path above)
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
from rules.ranking import RankedUnit, band, rank  # noqa: E402
from rules.scoring import ScoreSheet, UnitResults  # noqa: E402

SEED = 20190124
INDICATOR_CRITERIA = 50
SELF_CRITERIA = 10
BLOC_UNITS = 30
BLOC_TARGET_S = 0.005
COUNTRY_BLOCS = 500
COUNTRY_UNITS = 4_000
COUNTRY_TARGET_S = 2.0
TIE_BREAKS = ("section:I", "indicators_met", "bonus", "fewer_deductions")
BANDS = [
    Band(name="Xuất sắc", min_percent=Decimal(96)),
    Band(name="Tốt", min_percent=Decimal(92)),
    Band(name="Khá", min_percent=Decimal(80)),
    Band(name="Đạt", min_percent=Decimal(0)),
]


def build_pact(rng: random.Random) -> Pact:
    """A pact of 60 criteria: section I with 50 indicator criteria of mixed rules, II and III self-scored."""
    indicator_criteria = []
    for index in range(INDICATOR_CRITERIA):
        kind = rng.choice([RuleKind.proportional] * 3 + [RuleKind.threshold, RuleKind.stepped])
        over_plan = OverPlan(points_per_percent=Decimal("0.05"), cap=Decimal("0.5")) if index % 3 == 0 else None
        rule = ScoringRule(
            kind=kind,
            step_percent=Decimal(5) if kind is RuleKind.stepped else None,
            step_points=Decimal("0.25") if kind is RuleKind.stepped else None,
            over_plan=over_plan,
        )
        indicator_criteria.append(Criterion(code=f"I.{index + 1}", name=f"Chỉ tiêu {index + 1}",
                                            kind=CriterionKind.indicator, max=Decimal(1), rule=rule))
    self_criteria = [
        Criterion(code=f"{section}.{index + 1}", name=f"Tiêu chí {index + 1}", max=Decimal(5))
        for section in ("II", "III")
        for index in range(SELF_CRITERIA // 2)
    ]
    return Pact(
        standard_score=Decimal(100),
        sections=[
            Section(code="I", name="Nhiệm vụ chính trị", max=Decimal(50), criteria=indicator_criteria),
            Section(code="II", name="Xây dựng Đảng, đoàn thể", max=Decimal(25), criteria=self_criteria[:5]),
            Section(code="III", name="Công tác thi đua, khen thưởng", max=Decimal(25), criteria=self_criteria[5:]),
        ],
        bonus=Extras(max=Decimal(5), criteria=[
            Criterion(code="B.1", name="Sáng kiến", kind=CriterionKind.bonus, max=Decimal(3)),
            Criterion(code="B.2", name="Khen thưởng", kind=CriterionKind.bonus, max=Decimal(3)),
        ]),
        deductions=Extras(max=Decimal(5), criteria=[
            Criterion(code="D.1", name="Nộp chậm", kind=CriterionKind.deduction, max=Decimal(2)),
            Criterion(code="D.2", name="Vi phạm", kind=CriterionKind.deduction, max=Decimal(5)),
        ]),
    )


@dataclass(frozen=True)
class Bloc:
    """One bloc's inputs: its pact, its units' indicators and their results."""

    pact: Pact
    indicators: list[Indicator]
    results: list[UnitResults]


def build_bloc(name: str, units: int, rng: random.Random) -> Bloc:
    """A bloc of seeded random units against a pact of its own."""
    pact = build_pact(rng)
    indicators: list[Indicator] = []
    results: list[UnitResults] = []
    for number in range(units):
        unit = f"{name}-U{number:02d}"
        mine = []
        for index in range(INDICATOR_CRITERIA):
            direction = Direction.lower if index % 7 == 3 else Direction.higher
            for part in range(2 if index % 10 == 0 else 1):
                if direction is Direction.lower and rng.random() < 0.02:
                    target = Decimal(0)  # a "no accidents" plan
                else:
                    target = Decimal(rng.randint(1, 50_000))
                # Made without validation (the values are valid): quicker to set up.
                mine.append(Indicator.model_construct(
                    code=f"CT{index + 1:02d}-{part}", unit=unit, criterion=f"I.{index + 1}", text="Chỉ tiêu",
                    measure="hộ", target=target, direction=direction, weight=Decimal(part + 1),
                ))
        indicators += mine
        results.append(unit_results(unit, mine, rng))
    return Bloc(pact, indicators, results)


def unit_results(unit: str, indicators: list[Indicator], rng: random.Random) -> UnitResults:
    """A unit's seeded random actuals, self scores and, for a fifth of units, a reviewed score."""
    actuals = {}
    for indicator in indicators:
        if rng.random() < 0.02:
            continue  # a few indicators not reported
        if indicator.target:
            # 75 % to 125 % of the target, to one decimal place
            tenths = rng.randint(int(indicator.target) * 750, int(indicator.target) * 1250) // 100
            actuals[indicator.code] = Decimal(tenths).scaleb(-1)
        else:
            actuals[indicator.code] = Decimal(rng.choice([0, 0, 1]))
    self_scores = {f"{section}.{index + 1}": Decimal(rng.randint(12, 20)) / 4
                   for section in ("II", "III") for index in range(SELF_CRITERIA // 2)}
    if rng.random() < 0.3:
        self_scores["B.1"] = Decimal(rng.randint(0, 12)) / 4
    if rng.random() < 0.1:
        self_scores["D.1"] = Decimal(rng.randint(0, 8)) / 4
    reviewed = {"II.1": Decimal(rng.randint(0, 20)) / 4} if rng.random() < 0.2 else {}
    return UnitResults(unit, actuals, self_scores, reviewed)


def rank_bloc(bloc: Bloc) -> list[RankedUnit]:
    """What the bot does to rank a bloc: build the sheet, score every unit, rank, band."""
    sheet = ScoreSheet.build(bloc.pact, bloc.indicators)
    ranked = rank(sheet.score_all(bloc.results), TIE_BREAKS)
    named = [band(place.score.percent_of_standard, BANDS) for place in ranked]
    assert len(named) == len(bloc.results)
    return ranked


def timed(work: list[Bloc], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run of ranking every bloc of the work."""
    walls, cpus = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        for bloc in work:
            rank_bloc(bloc)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return walls, cpus


def country_sizes(rng: random.Random) -> list[int]:
    """500 bloc sizes from 5 to 30 units that add up to 4.000 (most blocs small, a few large)."""
    sizes = [rng.choice([5, 6, 7, 7, 8, 8, 9, 10, 12, 15]) for _ in range(COUNTRY_BLOCS)]
    while (gap := COUNTRY_UNITS - sum(sizes)) != 0:
        index = rng.randrange(COUNTRY_BLOCS)
        step = 1 if gap > 0 else -1
        if 5 <= sizes[index] + step <= 30:
            sizes[index] += step
    return sizes


def verdict(seconds: float, target: float) -> str:
    """'met' or 'missed', for the printout."""
    return "met" if seconds < target else "MISSED"


def main() -> None:
    """Run both sizes, print the figures and whether each target is met; the last line is JSON."""
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          "(other work on the machine slows the wall clock)")
    rng = random.Random(SEED)

    bloc = build_bloc("B000", BLOC_UNITS, rng)
    timed([bloc], 5)  # warm up
    bloc_walls, bloc_cpus = timed([bloc], 101)
    bloc_ms, bloc_cpu_ms = statistics.median(bloc_walls) * 1000, statistics.median(bloc_cpus) * 1000
    leader = rank_bloc(bloc)[0]
    print(f"one bloc, {BLOC_UNITS} units x 60 criteria ({len(bloc.indicators) // BLOC_UNITS} indicators a unit), "
          f"{len(bloc_walls)} runs: median {bloc_ms:.2f} ms (CPU {bloc_cpu_ms:.2f} ms; fastest "
          f"{min(bloc_walls) * 1000:.2f}, slowest {max(bloc_walls) * 1000:.2f}); leader {leader.unit_code} "
          f"at {leader.score.total}")
    print(f"  target < {BLOC_TARGET_S * 1000:.0f} ms: {verdict(bloc_ms / 1000, BLOC_TARGET_S)}")

    started = time.perf_counter()
    sizes = country_sizes(rng)
    country = [build_bloc(f"B{number:03d}", size, rng) for number, size in enumerate(sizes)]
    print(f"(country inputs built in {time.perf_counter() - started:.1f} s, not timed)")
    country_walls, country_cpus = timed(country, 5)
    country_s, country_cpu_s = statistics.median(country_walls), statistics.median(country_cpus)
    print(f"a country, {sum(sizes):,} units in {len(sizes)} blocs of {min(sizes)}-{max(sizes)} units, "
          f"{len(country_walls)} runs: median {country_s:.3f} s (CPU {country_cpu_s:.3f} s; runs "
          f"{', '.join(f'{seconds:.3f}' for seconds in country_walls)})")
    print(f"  target < {COUNTRY_TARGET_S:.0f} s: {verdict(country_s, COUNTRY_TARGET_S)}")

    print(json.dumps({
        "bloc_units": BLOC_UNITS,
        "bloc_median_ms": round(bloc_ms, 3),
        "bloc_cpu_median_ms": round(bloc_cpu_ms, 3),
        "bloc_target_ms": BLOC_TARGET_S * 1000,
        "bloc_met": bloc_ms / 1000 < BLOC_TARGET_S,
        "country_units": sum(sizes),
        "country_blocs": len(sizes),
        "country_median_s": round(country_s, 3),
        "country_cpu_median_s": round(country_cpu_s, 3),
        "country_target_s": COUNTRY_TARGET_S,
        "country_met": country_s < COUNTRY_TARGET_S,
    }))


if __name__ == "__main__":
    main()
