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
not reported, a fifth of the units with a reviewed score. Building the inputs (a
validated :class:`BlocConfig`, as a loaded configuration file gives it, and each
unit's stored figures as :func:`storage.results.reported_figures` returns them) is
not timed. What is timed is what the bot does to rank a bloc once it has read the
figures: :func:`handlers.services.ranking.rank_figures`, the function behind
``/ranking``, ``/publish``, the votes and ``python -m bot ranking``: each unit's
figures made into results, every unit scored (a reviewed unit twice: its own
points and the reviewed ones), ranked with four tie-breaks, banded, awards
proposed. The database read before it and the rendering after it are not timed.

Each bloc is ranked first on a configuration object it has never ranked before
(``first``: what the first ranking after a start or a changed file costs), then
many times on the same object (what every later ranking in the process costs;
the bot keeps one parsed configuration per text, ``storage/blocs.py``). The last
line of output is one JSON object.
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

from handlers.services.ranking import RankingReport, rank_figures  # noqa: E402 (the root is put on the path above)
from rules.config import (  # noqa: E402
    Band,
    BlocConfig,
    Criterion,
    CriterionKind,
    Direction,
    Extras,
    Indicator,
    OverPlan,
    Pact,
    PeriodKind,
    RuleKind,
    ScoringRule,
    Section,
)
from rules.scoring import UnitResults  # noqa: E402
from storage.results import ReportedFigures  # noqa: E402

SEED = 20190124
YEAR = 2018
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
    """One bloc's inputs: its configuration and its units' stored figures."""

    config: BlocConfig
    figures: dict[str, ReportedFigures]

    def fresh(self) -> Bloc:
        """The same bloc on a configuration object never ranked before (as after a start or a new file)."""
        config = self.config
        units = [unit.code for unit in config.units]
        return Bloc(bloc_config(config.bloc.code, config.pact, units, config.indicators), self.figures)


def bloc_config(name: str, pact: Pact, units: list[str], indicators: list[Indicator]) -> BlocConfig:
    """A validated configuration of the bloc, as loading its file gives it (the models are not validated twice)."""
    return BlocConfig.model_validate({
        "bloc": {"code": name, "name": f"Khối {name}", "province": "Tỉnh mẫu"},
        "units": [{"code": unit, "name": f"Sở {unit}", "short_name": unit} for unit in units],
        "roles": {"leader": units[0], "deputy": units[1]},
        "periods": [{"year": YEAR, "kind": "year-end",
                     "reporting": {"opens": "2018-12-01T08:00:00", "deadline": "2019-01-10T17:00:00"}}],
        "pact": pact,
        "indicators": indicators,
        "tie_breaks": list(TIE_BREAKS),
        "bands": BANDS,
    })


def build_bloc(name: str, units: int, rng: random.Random) -> Bloc:
    """A bloc of seeded random units against a pact of its own."""
    pact = build_pact(rng)
    indicators: list[Indicator] = []
    results: list[UnitResults] = []
    codes = [f"{name}-U{number:02d}" for number in range(units)]
    for unit in codes:
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
                    code=f"{unit}-CT{index + 1:02d}-{part}", unit=unit, criterion=f"I.{index + 1}", text="Chỉ tiêu",
                    measure="hộ", target=target, direction=direction, weight=Decimal(part + 1),
                ))
        indicators += mine
        results.append(unit_results(unit, mine, rng))
    figures = {
        found.unit_code: ReportedFigures(unit_code=found.unit_code, status="submitted", actuals=dict(found.actuals),
                                         scores=dict(found.self_scores), reviewed=dict(found.reviewed))
        for found in results
    }
    return Bloc(bloc_config(name, pact, codes, indicators), figures)


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


def rank_bloc(bloc: Bloc) -> RankingReport:
    """What the bot does to rank a bloc once its figures are read: ``rank_figures``."""
    report = rank_figures(config=bloc.config, year=YEAR, period=PeriodKind.year_end, figures=bloc.figures,
                          acclaim_passed=None)
    assert len(report.rows) == len(bloc.figures)
    return report


def timed(work: list[Bloc], runs: int, *, first: bool) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run of ranking every bloc of the work.

    ``first``: each run ranks configuration objects never ranked before (made
    before the clock starts), so nothing built for a configuration is reused.
    """
    walls, cpus = [], []
    for _ in range(runs):
        blocs = [bloc.fresh() for bloc in work] if first else work
        started, started_cpu = time.perf_counter(), time.process_time()
        for bloc in blocs:
            rank_bloc(bloc)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return walls, cpus


def spread(seconds: list[float], scale: float, unit: str) -> str:
    """Median, fastest and slowest, for the printout."""
    return (f"median {statistics.median(seconds) * scale:.2f} {unit} (fastest {min(seconds) * scale:.2f}, "
            f"slowest {max(seconds) * scale:.2f})")


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
    timed([bloc], 5, first=True)  # warm up the interpreter (imports, caches of the decimal module)
    first_walls, first_cpus = timed([bloc], 101, first=True)
    bloc_walls, bloc_cpus = timed([bloc], 101, first=False)
    first_ms, bloc_ms = statistics.median(first_walls) * 1000, statistics.median(bloc_walls) * 1000
    leader = rank_bloc(bloc).rows[0]
    indicators = len(bloc.config.indicators) // BLOC_UNITS
    print(f"one bloc, {BLOC_UNITS} units x 60 criteria ({indicators} indicators a unit), 101 runs each; "
          f"leader {leader.unit_code} at {leader.total}")
    print(f"  first ranking of its configuration: {spread(first_walls, 1000, 'ms')}; "
          f"CPU median {statistics.median(first_cpus) * 1000:.2f} ms")
    print(f"  ranking again:                      {spread(bloc_walls, 1000, 'ms')}; "
          f"CPU median {statistics.median(bloc_cpus) * 1000:.2f} ms")
    print(f"  target < {BLOC_TARGET_S * 1000:.0f} ms: first {verdict(first_ms / 1000, BLOC_TARGET_S)}, "
          f"again {verdict(bloc_ms / 1000, BLOC_TARGET_S)}")

    started = time.perf_counter()
    sizes = country_sizes(rng)
    country = [build_bloc(f"B{number:03d}", size, rng) for number, size in enumerate(sizes)]
    print(f"(country inputs built in {time.perf_counter() - started:.1f} s, not timed)")
    country_walls, country_cpus = timed(country, 5, first=True)
    country_s = statistics.median(country_walls)
    print(f"a country, {sum(sizes):,} units in {len(sizes)} blocs of {min(sizes)}-{max(sizes)} units, "
          f"each bloc's first ranking, 5 runs: {spread(country_walls, 1, 's')}; "
          f"CPU median {statistics.median(country_cpus):.3f} s")
    print(f"  target < {COUNTRY_TARGET_S:.0f} s: {verdict(country_s, COUNTRY_TARGET_S)}")

    print(json.dumps({
        "bloc_units": BLOC_UNITS,
        "bloc_first_median_ms": round(first_ms, 3),
        "bloc_first_cpu_median_ms": round(statistics.median(first_cpus) * 1000, 3),
        "bloc_median_ms": round(bloc_ms, 3),
        "bloc_cpu_median_ms": round(statistics.median(bloc_cpus) * 1000, 3),
        "bloc_min_ms": round(min(bloc_walls) * 1000, 3),
        "bloc_max_ms": round(max(bloc_walls) * 1000, 3),
        "bloc_target_ms": BLOC_TARGET_S * 1000,
        "bloc_met": max(first_ms, bloc_ms) / 1000 < BLOC_TARGET_S,
        "country_units": sum(sizes),
        "country_blocs": len(sizes),
        "country_median_s": round(country_s, 3),
        "country_cpu_median_s": round(statistics.median(country_cpus), 3),
        "country_target_s": COUNTRY_TARGET_S,
        "country_met": country_s < COUNTRY_TARGET_S,
    }))


if __name__ == "__main__":
    main()
