"""The seed's year, end to end through the rules: Khối thi đua số 3, 2018 results, 2019 roles."""

from __future__ import annotations

from decimal import Decimal

from rules.awards import Award, propose_awards
from rules.numbers import format_number, format_percent
from rules.ranking import band, rank
from rules.scoring import ScoreSheet, achievement
from rules.voting import ElectionReason, tally_acclaim, tally_election
from tests.rules.factories import SEED_UNITS, seed_config, seed_results

D = Decimal


def test_seed_ranking_awards_and_bands() -> None:
    config = seed_config()
    year = [unit.code for unit in config.members_in(2018)]
    assert len(year) == 7
    sheet = ScoreSheet.build(config.pact, config.indicators)
    scores = sheet.score_all(seed_results())
    ranked = rank(scores, config.tie_breaks)

    assert [place.unit_code for place in ranked][:2] == ["STTTT", "SCT"]
    assert all(place.rank == number for number, place in enumerate(ranked, start=1))
    proposals = propose_awards(ranked, config.awards, acclaim_passed=None)
    assert proposals["STTTT"] is Award.flag_pending_acclaim
    assert proposals["SCT"] is Award.merit
    assert [code for code, award in proposals.items() if award is not None] == ["STTTT", "SCT"]

    # "3/7 units at or above 96 % of the standard, 3/7 at or above 92 %, 1/7 at 86 %".
    bands = [band(place.score.percent_of_standard, config.bands) for place in ranked]
    assert bands.count("Xuất sắc") == 3
    assert bands.count("Tốt") == 3
    assert bands.count("Khá") == 1
    last = ranked[-1].score
    assert last.percent_of_standard == 86


def test_seed_leader_exceeds_the_standard_only_through_bonus() -> None:
    config = seed_config()
    sheet = ScoreSheet.build(config.pact, config.indicators)
    leader = sheet.score(seed_results()[0])
    assert leader.unit_code == "STTTT"
    assert leader.total > config.pact.standard_score
    assert sum(leader.sections.values()) <= config.pact.standard_score
    assert leader.total - leader.bonus <= config.pact.standard_score
    assert leader.over_plan == {"I.1": D("1.00")}  # 102 % of plan, 0,5 point per percent


def test_seed_indicator_echo_reads_like_the_article() -> None:
    config = seed_config()
    households = next(i for i in config.indicators if i.unit == "STTTT")
    actual = seed_results()[0].actuals[households.code]
    shown = (
        f"{format_number(actual)} {households.measure} = "
        f"{format_percent(achievement(actual, households.target, households.direction))} kế hoạch"
    )
    assert shown == "30.544 hộ = 102,0% kế hoạch"


def test_seed_votes_acclaim_then_leader_and_deputy_for_2019() -> None:
    config = seed_config()
    members = list(SEED_UNITS)
    acclaim = tally_acclaim(yes=7, no=0, members=len(members), rules=config.votes.acclaim)
    assert acclaim.passed
    sheet = ScoreSheet.build(config.pact, config.indicators)
    ranked = rank(sheet.score_all(seed_results()), config.tie_breaks)
    proposals = propose_awards(ranked, config.awards, acclaim_passed=acclaim.passed)
    assert proposals["STTTT"] is Award.flag

    election = config.votes.election
    leader_ballots = [("STTTT", "SXD"), ("SXD", "SCT"), ("SCT", "SXD"), ("SGTVT", "SXD"),
                      ("STC", "SXD"), ("SKHDT", "SGTVT"), ("STNMT", "SXD")]
    leader = tally_election(ballots=leader_ballots, members=members, candidates=members,
                            rules=election)
    assert (leader.winner, leader.reason) == ("SXD", ElectionReason.elected)
    deputy_candidates = [code for code in members if code != leader.winner]
    deputy_ballots = [("STTTT", "SCT"), ("SXD", "SCT"), ("SCT", "STTTT"), ("SGTVT", "SCT"),
                      ("STC", "SCT"), ("SKHDT", "SCT"), ("STNMT", "SGTVT")]
    deputy = tally_election(ballots=deputy_ballots, members=members,
                            candidates=deputy_candidates, rules=election)
    assert (deputy.winner, deputy.reason) == ("SCT", ElectionReason.elected)
