"""Factories for rule tests: pacts, indicators, results and the seed's bloc (Khối thi đua số 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from rules.config import (
    BlocConfig,
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
from rules.scoring import UnitResults, UnitScore

D = Decimal
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def rule(
    kind: RuleKind = RuleKind.proportional,
    *,
    step_percent: str | None = None,
    step_points: str | None = None,
    over_plan: tuple[str, str] | None = None,
) -> ScoringRule:
    """A scoring rule; over_plan is (points per percent, cap)."""
    return ScoringRule(
        kind=kind,
        step_percent=None if step_percent is None else D(step_percent),
        step_points=None if step_points is None else D(step_points),
        over_plan=None
        if over_plan is None
        else OverPlan(points_per_percent=D(over_plan[0]), cap=D(over_plan[1])),
    )


def indicator_criterion(code: str, maximum: str, scoring: ScoringRule | None = None) -> Criterion:
    """A criterion scored from indicators."""
    return Criterion(
        code=code, name=f"Chỉ tiêu {code}", kind=CriterionKind.indicator, max=D(maximum),
        rule=scoring,
    )


def self_criterion(code: str, maximum: str) -> Criterion:
    """A criterion the unit scores itself."""
    return Criterion(code=code, name=f"Tiêu chí {code}", kind=CriterionKind.self, max=D(maximum))


def extra_criterion(code: str, maximum: str, kind: CriterionKind) -> Criterion:
    """A bonus or deduction criterion."""
    return Criterion(code=code, name=f"Điểm {code}", kind=kind, max=D(maximum))


def section(code: str, maximum: str, *criteria: Criterion) -> Section:
    """A section of the pact."""
    return Section(code=code, name=f"Nội dung {code}", max=D(maximum), criteria=list(criteria))


def pact(
    *sections: Section,
    bonus: Sequence[Criterion] = (),
    bonus_max: str = "0",
    deductions: Sequence[Criterion] = (),
    deductions_max: str = "0",
) -> Pact:
    """A pact whose standard score is the sum of its sections' maxima."""
    return Pact(
        standard_score=sum((s.max for s in sections), D(0)),
        sections=list(sections),
        bonus=Extras(max=D(bonus_max), criteria=list(bonus)),
        deductions=Extras(max=D(deductions_max), criteria=list(deductions)),
    )


def indicator(
    code: str,
    unit: str,
    criterion: str,
    target: str,
    direction: Direction = Direction.higher,
    weight: str = "1",
) -> Indicator:
    """A unit's registered indicator."""
    return Indicator(
        code=code, unit=unit, criterion=criterion, text=f"Chỉ tiêu {code}", measure="lần",
        target=D(target), direction=direction, weight=D(weight),
    )


def results(
    unit: str,
    actuals: Mapping[str, str] | None = None,
    self_scores: Mapping[str, str] | None = None,
    reviewed: Mapping[str, str] | None = None,
) -> UnitResults:
    """A unit's results from text values."""
    return UnitResults(
        unit_code=unit,
        actuals={code: D(value) for code, value in (actuals or {}).items()},
        self_scores={code: D(value) for code, value in (self_scores or {}).items()},
        reviewed={code: D(value) for code, value in (reviewed or {}).items()},
    )


def unit_score(
    unit: str,
    total: str,
    *,
    sections: Mapping[str, str] | None = None,
    indicators_met: int = 0,
    bonus: str = "0",
    deductions: str = "0",
    standard: str = "100",
) -> UnitScore:
    """A score made directly, for ranking and awards tests."""
    total_value = D(total)
    return UnitScore(
        unit_code=unit,
        criteria={},
        sections={code: D(value) for code, value in (sections or {}).items()},
        over_plan={},
        bonus=D(bonus),
        deductions=D(deductions),
        total=total_value,
        percent_of_standard=total_value * 100 / D(standard),
        indicators_met=indicators_met,
        achievements={},
    )


# The seed: Emulation Bloc No. 3, year 2018 (scored in January 2019). Four units
# are named in the article; the other three are ours to name.
SEED_UNITS = {
    "STTTT": ("Sở Thông tin và Truyền thông", "TT&TT"),
    "SXD": ("Sở Xây dựng", "Xây dựng"),
    "SCT": ("Sở Công thương", "Công thương"),
    "SGTVT": ("Sở Giao thông – Vận tải", "GTVT"),
    "STC": ("Sở Tài chính", "Tài chính"),
    "SKHDT": ("Sở Kế hoạch và Đầu tư", "KH&ĐT"),
    "STNMT": ("Sở Tài nguyên và Môi trường", "TN&MT"),
}

# Each unit's headline indicator of Content I: (code, text, measure, target, actual).
SEED_INDICATORS = {
    "STTTT": ("TTTT-DTT", "Hỗ trợ đầu thu truyền hình số cho hộ nghèo, cận nghèo", "hộ",
              "29.945", "30.544"),  # 102 %
    "SXD": ("SXD-DT", "Chương trình phát triển đô thị năm 2018", "chương trình", "1", "1"),
    "SCT": ("SCT-BL", "Tổng mức bán lẻ hàng hoá và doanh thu dịch vụ", "tỷ đồng",
            "20.000", "20.200"),  # 101 %
    "SGTVT": ("SGTVT-KD", "Phương tiện được kiểm định, cấp giấy chứng nhận", "phương tiện",
              "40.000", "42.000"),  # 105 %
    "STC": ("STC-THU", "Thu ngân sách được giao tham mưu", "tỷ đồng", "5.000", "4.900"),
    "SKHDT": ("SKHDT-DA", "Dự án được thẩm định đúng hạn", "dự án", "120", "118"),
    "STNMT": ("STNMT-GCN", "Giấy chứng nhận quyền sử dụng đất được cấp", "giấy",
              "10.000", "8.500"),
}

# Self scores of the other criteria (reviewed, where the leader changed one).
SEED_SELF_SCORES = {
    #        I.2   II.1  II.2  III.1 III.2  B.1
    "STTTT": ("10", "10", "9,5", "14,5", "14", "2"),
    "SXD": ("9,5", "9,5", "9,5", "14", "13,5", "0"),
    "SCT": ("10", "10", "9,5", "14", "14", "1"),
    "SGTVT": ("9", "9", "9", "13", "12,5", "0"),
    "STC": ("9", "9", "9", "13", "13", "0"),
    "SKHDT": ("9", "9", "9", "13", "13", "0"),
    "STNMT": ("9", "8,5", "8,5", "13", "13", "0"),
}


def seed_config() -> BlocConfig:
    """The seed's bloc as a configuration, validated like a loaded file."""
    criteria_codes = ("I.2", "II.1", "II.2", "III.1", "III.2", "B.1")
    assert all(len(scores) == len(criteria_codes) for scores in SEED_SELF_SCORES.values())
    return BlocConfig.model_validate(
        {
            "bloc": {"code": "K3", "name": "Khối thi đua số 3", "province": "Tỉnh mẫu"},
            "units": [
                {"code": code, "name": name, "short_name": short}
                for code, (name, short) in SEED_UNITS.items()
            ],
            "roles": {"leader": "STTTT", "deputy": "SCT"},
            "periods": [
                {
                    "year": 2018,
                    "reporting": {
                        "opens": dt.datetime(2018, 12, 1, 8, 0, tzinfo=VIETNAM),
                        "deadline": dt.datetime(2019, 1, 15, 17, 0, tzinfo=VIETNAM),
                    },
                }
            ],
            "pact": {
                "standard_score": "100",
                "sections": [
                    {
                        "code": "I",
                        "name": "Thực hiện nhiệm vụ chính trị được giao",
                        "max": "50",
                        "criteria": [
                            {
                                "code": "I.1",
                                "name": "Chỉ tiêu định lượng đã đăng ký",
                                "kind": "indicator",
                                "max": "40",
                                "rule": {
                                    "kind": "proportional",
                                    "over_plan": {"points_per_percent": "0,5", "cap": "2"},
                                },
                            },
                            {"code": "I.2", "name": "Tham mưu, đề xuất", "max": "10"},
                        ],
                    },
                    {
                        "code": "II",
                        "name": "Xây dựng Đảng, đoàn thể vững mạnh",
                        "max": "20",
                        "criteria": [
                            {"code": "II.1", "name": "Tổ chức cơ sở đảng", "max": "10"},
                            {"code": "II.2", "name": "Đoàn thể", "max": "10"},
                        ],
                    },
                    {
                        "code": "III",
                        "name": "Thực hiện tốt công tác thi đua, khen thưởng",
                        "max": "30",
                        "criteria": [
                            {"code": "III.1", "name": "Phát động thi đua", "max": "15"},
                            {"code": "III.2", "name": "Khen thưởng kịp thời", "max": "15"},
                        ],
                    },
                ],
                "bonus": {
                    "max": "5",
                    "criteria": [
                        {"code": "B.1", "name": "Sáng kiến", "kind": "bonus", "max": "3"}
                    ],
                },
                "deductions": {
                    "max": "5",
                    "criteria": [
                        {"code": "D.1", "name": "Nộp báo cáo chậm", "kind": "deduction",
                         "max": "2"}
                    ],
                },
            },
            "indicators": [
                {
                    "code": code,
                    "unit": unit,
                    "criterion": "I.1",
                    "text": text,
                    "measure": measure,
                    "target": target,
                }
                for unit, (code, text, measure, target, _) in SEED_INDICATORS.items()
            ],
        }
    )


def seed_results() -> list[UnitResults]:
    """Results consistent with the article, as officers would type them."""
    from rules.numbers import parse_number

    codes = ("I.2", "II.1", "II.2", "III.1", "III.2", "B.1")
    found = []
    for unit, (indicator_code, _, _, _, actual) in SEED_INDICATORS.items():
        scores = {
            code: parse_number(value).value
            for code, value in zip(codes, SEED_SELF_SCORES[unit], strict=True)
        }
        found.append(
            UnitResults(
                unit_code=unit,
                actuals={indicator_code: parse_number(actual).value},
                self_scores=scores,
                # The leader's review trimmed one of the Transport department's scores.
                reviewed={"III.1": D("12.5")} if unit == "SGTVT" else {},
            )
        )
    return found
