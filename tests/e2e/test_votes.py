"""End-to-end: the year's votes through the real Application and the fake Bot API server.

The seed year continued from its published ranking: the leader opens ballots with
/vote, each unit's head votes in a private chat, the group sees the turnout in one
edited message and then the results. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, func, inspect
from sqlmodel import col, select

from bot.cli import main
from bot.outbox import Limits
from bot.settings import get_settings
from bot.terminal import plain
from fakes.people import ScriptedOfficer, ZaloScriptedOfficer, option_number
from fakes.zalo import SentZaloMessage
from handlers.renderers.files import make
from handlers.services.ranking import compute_ranking
from handlers.services.votes import vote_results
from rules.config import BlocConfig
from storage.blocs import load_bloc
from storage.db import session_scope
from storage.models import Ballot, BallotBox, BallotTally, BallotVoter, ChatState, Period, YearRoles
from storage.sealing import Opener
from storage.votes import BallotStillOpen, ballot_counts, ballots_of
from tests.e2e.conftest import CHANNELS, CHANNELS_AND_MIXED, BotWorld, Group, Mark, Seen
from tests.factories import seed_bloc_data
from tests.votes.helpers import GROUP, HEADS, VOTING, link_officers, publish_seed_year, seed_config_data

SXD, SCT, SGTVT = "Sở Xây dựng", "Sở Công thương", "Sở Giao thông – Vận tải"
USERS = {code: 800 + index for index, code in enumerate(HEADS.values())}


class Votes:
    """The seven unit heads (voters; the leader unit's head opens the ballots) and the group, on the world's channel."""

    def __init__(self, world: BotWorld, group: Group) -> None:
        self.world = world
        self.fake = world.fake
        self.group = group
        self.voters = {unit: world.person(USERS[code], code) for unit, code in HEADS.items()}
        self.lead = self.voters["STTTT"]

    async def open(self, button: str, *, hours: int | None = None,
                   who: ScriptedOfficer | ZaloScriptedOfficer | None = None) -> int | Mark:
        """/vote, press the ballot's button, maybe type hours, open; returns the `sent` mark before opening."""
        lead = who or self.lead
        await lead.say("/vote", "Bỏ phiếu cuối năm")
        await lead.press(button, "Phiếu sẽ đóng sau")
        if hours is not None:
            await lead.say(f"{hours} giờ", f"{hours} giờ")
        mark = self.world.mark()
        await lead.press("Mở phiếu", "Đã mở phiếu")
        return mark

    async def ballot(self, unit: str, title: str, after: int | Mark) -> Seen:
        """The ballot message (with its options) a unit's voter received after `after`."""
        return await self.world.wait_to(self.voters[unit], f"Phiếu {title}", after=after, choice=True)

    async def cast(self, unit: str, title: str, after: int | Mark, choice: str) -> None:
        """A unit's voter chooses and confirms (a secret ballot): presses, or types the numbers on Zalo."""
        voter = self.voters[unit]
        voter.last = await self.ballot(unit, title, after)  # type: ignore[assignment]  # of the voter's channel
        await voter.press(choice, "Lựa chọn của đơn vị")
        await voter.press("Xác nhận", "Đã ghi nhận phiếu")

    async def cast_all(self, title: str, after: int | Mark, choices: dict[str, str]) -> None:
        """Every unit in `choices` votes, all at once."""
        await asyncio.gather(*(self.cast(unit, title, after, choice) for unit, choice in choices.items()))

    async def group_message(self, text: str, after: int | Mark) -> Seen:
        """A new message in the bloc's group containing `text`."""
        return await self.world.wait_to(self.group, text, after=after, new=True)


@pytest.fixture
async def votes(world: BotWorld) -> AsyncIterator[Votes]:
    """The seed year with its ranking published, a group bound, the seven heads linked, January 24th.

    No group rate limit: Telegram lets a bot write about 20 messages a minute to
    a group and the sender holds the rest back (1 every 3 s); these tests vote
    three ballots in seconds, far faster than any meeting.
    """
    assert world.parts is not None
    world.parts.runtime.sender.limits = Limits(per_second=None, per_group_minute=None)
    publish_seed_year(world.engine, channel=world.group_channel)
    group = world.group(GROUP, "Khối thi đua số 3")
    for code, user in USERS.items():
        link_officers(world.engine, {code: user}, channel=world.channel_of(user))
    world.clock.now = VOTING
    yield Votes(world, group)


def _count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _tally(engine: Engine) -> dict[str, int]:
    """The sealed boxes opened as the key holder would (the test holds the ballot secret), open or not."""
    with session_scope(engine) as session:
        counts: dict[str, int] = {}
        for ballot in ballots_of(session=session, bloc_id=1):
            if ballot.seal_key is None:
                continue
            counts.update(dict.fromkeys(ballot.options, 0))
            opener = Opener(ballot.seal_key, ballot.id)
            for sealed in session.exec(select(BallotBox.sealed).where(BallotBox.ballot_id == ballot.id)):
                unsealed = opener.open(sealed)
                assert unsealed is not None
                counts[unsealed.choice] += 1
        return counts


@pytest.mark.parametrize("channel", CHANNELS_AND_MIXED)
async def test_the_seed_year_acclaims_the_leader_and_elects_sxd_and_sct(
    votes: Votes, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    world = votes.world
    engine = world.engine
    with session_scope(engine) as session:
        before = compute_ranking(session=session, bloc_code="K3", year=2018)
    assert (before.rows[0].unit_code, before.rows[0].award) == ("STTTT", "flag-pending-acclaim")

    mark = await votes.open("Mở phiếu suy tôn")
    acclaim = "suy tôn Sở Thông tin và Truyền thông"
    await votes.cast_all(acclaim, mark, dict.fromkeys(HEADS, "Đồng ý"))
    result = world.read(await votes.group_message("Kết quả phiếu suy tôn", mark))
    assert "Đồng ý: 7 · Không đồng ý: 0" in result and "Thông qua" in result
    # Each voter has the receipt of the vote, and nothing of the choice made.
    for voter in votes.voters.values():
        receipt = world.read(await world.wait_to(voter, "Đã ghi nhận phiếu", after=mark))
        assert "Đồng ý" not in receipt
    if world.channel == "telegram":
        turnout = [m for m in votes.fake.messages_to(GROUP)
                   if "đơn vị đã bỏ phiếu" in plain(m.text) and "Kết quả" not in plain(m.text)]
        assert len(turnout) == 1, "the turnout is one message, edited after each vote"
        # The closing edit may still be on its way when the result arrives; it must come, and stay last.
        await votes.fake.wait_for(lambda m: m.chat_id == GROUP and m.message_id == turnout[0].message_id
                                  and "đã đóng; 7/7 đơn vị đã bỏ phiếu" in plain(m.text), after=mark)
        await votes.world.wait_handled()
        assert "đã đóng; 7/7 đơn vị đã bỏ phiếu" in plain(votes.fake.message(GROUP, turnout[0].message_id).text)
    else:
        # No editing on Zalo: the turnout is sent anew when it changed meaningfully (a quarter more
        # of the members, the quorum, everyone), never backwards, and the closed one comes last.
        await world.wait_to(votes.group, "đã đóng; 7/7 đơn vị đã bỏ phiếu", after=mark)
        await world.wait_handled()
        turnout = [world.read(m) for m in world.sent_to(votes.group, mark)
                   if "đơn vị đã bỏ phiếu" in world.read(m) and "Kết quả" not in world.read(m)]
        counts = [int(text.split("/7 đơn vị đã bỏ phiếu")[0].rsplit(" ", 1)[-1]) for text in turnout]
        assert counts[0] == 0 and counts == sorted(counts) and len(counts) < 1 + 7 + 1, turnout
        assert 1 not in counts and 3 not in counts, "one vote more of seven is no new message on Zalo"
        assert "đã đóng; 7/7 đơn vị đã bỏ phiếu" in turnout[-1]
        assert all("đã đóng" not in text for text in turnout[:-1])
    if world.channel == "mixed":
        # The group is on Zalo: the voters on Telegram get the turnout in private when the ballot opens and
        # the result when it closes, one copy each (not at every vote: a private copy is never edited).
        on_telegram = [voter for voter in votes.voters.values()  # (the leader's desk shows the turnout too)
                       if isinstance(voter, ScriptedOfficer) and voter is not votes.lead]
        assert on_telegram
        for voter in on_telegram:
            texts = [world.read(m) for m in world.sent_to(voter, mark)]
            assert sum(1 for text in texts if "đơn vị đã bỏ phiếu" in text and "Kết quả" not in text) == 1, texts
            assert sum(1 for text in texts if "Kết quả phiếu suy tôn" in text) == 1
    with session_scope(engine) as session:
        after = compute_ranking(session=session, bloc_code="K3", year=2018)
    assert (after.rows[0].unit_code, after.rows[0].award) == ("STTTT", "flag")

    mark = await votes.open("Mở bầu Khối trưởng")
    await votes.cast_all("bầu Khối trưởng năm 2019", mark, {unit: SCT if unit == "SXD" else SXD for unit in HEADS})
    elected = world.read(await votes.group_message("Kết quả phiếu bầu Khối trưởng", mark))
    assert "Sở Xây dựng: 6 phiếu" in elected
    assert "Sở Xây dựng trúng cử Khối trưởng năm 2019" in elected

    mark = await votes.open("Mở bầu Khối phó")
    deputy_ballot = await votes.ballot("SGTVT", "bầu Khối phó năm 2019", mark)
    assert SCT in world.options(deputy_ballot)
    assert SXD not in world.options(deputy_ballot), "the leader-elect does not stand for deputy"
    await votes.cast_all("bầu Khối phó năm 2019", mark, {unit: SGTVT if unit == "SCT" else SCT for unit in HEADS})
    deputy = world.read(await votes.group_message("Kết quả phiếu bầu Khối phó", mark))
    assert "Sở Công thương trúng cử Khối phó năm 2019" in deputy
    assert "Năm 2019: Khối trưởng Sở Xây dựng, Khối phó Sở Công thương" in deputy

    with session_scope(engine) as session:
        roles = session.exec(select(YearRoles).where(YearRoles.year == 2019)).one()
        assert roles.source == "election"
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    capsys.readouterr()
    try:
        assert main(["votes", "--format", "json"]) == 0
    finally:
        get_settings.cache_clear()
    shown = json.loads(capsys.readouterr().out)
    assert shown["next_year_roles"] == {"year": 2019, "leader": "SXD", "deputy": "SCT", "source": "election"}
    assert [(b["kind"], b["outcome"], b["winner"]) for b in shown["ballots"]] == [
        ("acclaim", "passed", None), ("leader", "elected", "SXD"), ("deputy", "elected", "SCT")]
    assert shown["ballots"][0]["counts"] == {"yes": 7, "no": 0}
    assert shown["ballots"][1]["counts"]["SXD"] == 6 and shown["ballots"][1]["votes_cast"] == 7
    world.check_wording()  # "chọn" on Zalo (typed numbers), "bấm" on Telegram (buttons)


async def test_bad_votes_are_refused_and_change_nothing(votes: Votes) -> None:
    world, engine = votes.world, votes.world.engine
    # A unit that joins the bloc in 2019 is no member in 2018; a reporter is no voter.
    data = seed_bloc_data(**seed_config_data())
    data["units"].append({"code": "SYT", "name": "Sở Y tế", "short_name": "Sở YT", "valid_from": "2019-01-01"})
    data["officers"].append({"code": "yt-head", "name": "Lâm Văn Khoa", "unit": "SYT", "role": "unit_head"})
    with session_scope(engine) as session:
        load_bloc(session=session, config=BlocConfig.model_validate(data), actor="test")
    link_officers(engine, {"yt-head": 880, "xd-tdkt": 881})
    newcomer, reporter = world.officer(880, "Khoa"), world.officer(881, "Hà")
    stranger = world.officer(882, "Stranger")

    member = votes.voters["SXD"]
    await member.say("/vote", "không có phiếu nào chờ")  # a member unit may not open ballots
    mark = await votes.open("Mở bầu Khối trưởng")
    ballot = await votes.ballot("SXD", "bầu Khối trưởng", mark)
    labels = [label for label, _ in ballot.buttons]
    assert SXD not in labels and SCT in labels, "a unit is not offered itself where the rules forbid it"
    sct_data = next(data for label, data in ballot.buttons if label == SCT)
    assert sct_data is not None
    ballot_id, token = sct_data.split(":")[2:4]

    async def refused(person: ScriptedOfficer, data: str, expect: str) -> None:
        mark = votes.fake.mark()
        await person.user.press_raw(ballot.message_id, data)
        await votes.fake.wait_for(lambda m: m.chat_id == person.user.id and expect in plain(m.text), after=mark)

    await refused(member, f"v:b:{ballot_id}:{token}:ok:SXD", "không được tự bầu")
    await refused(member, f"v:b:{ballot_id}:{token}:ok:NOPE", "không hợp lệ")
    await refused(member, f"v:b:{ballot_id}:00000000:ok:SCT", "không hợp lệ")
    await refused(member, f"v:b:99999:{token}:ok:SCT", "không hợp lệ")
    await refused(member, "v:b:x", "không hợp lệ")
    await refused(member, f"v:b:{ballot_id}:é\u0301:ok:SCT", "không hợp lệ")
    await refused(member, f"v:b:²:{token}:ok:SCT", "không hợp lệ")
    await refused(member, f"v:b:99999999999999999999:{token}:ok:SCT", "không hợp lệ")
    await refused(member, f"v:abcdef:close:{ballot_id}", "tin nhắn cũ")  # a forged menu button
    await refused(newcomer, f"v:b:{ballot_id}:{token}:ok:SCT", "không phải thành viên của khối trong năm 2018")
    await refused(reporter, f"v:b:{ballot_id}:{token}:ok:SCT", "không phải người bỏ phiếu")
    await refused(stranger, f"v:b:{ballot_id}:{token}:ok:SCT", "chưa được liên kết")
    assert _count(engine, BallotVoter) == 0 and sum(_tally(engine).values()) == 0

    with session_scope(engine) as session:  # the leader reopens the ranking: no votes meanwhile
        period = session.exec(select(Period).where(Period.year == 2018)).one()
        published, period.published_at = period.published_at, None
        session.add(period)
    await refused(member, f"v:b:{ballot_id}:{token}:ok:SCT", "mở lại để rà soát")
    with session_scope(engine) as session:
        period = session.exec(select(Period).where(Period.year == 2018)).one()
        period.published_at = published
        session.add(period)
    await votes.cast("SXD", "bầu Khối trưởng", mark, SCT)
    await refused(member, f"v:b:{ballot_id}:{token}:ok:SGTVT", "đã bỏ phiếu")  # the unit's second vote
    assert _count(engine, BallotVoter) == 1 and _tally(engine)["SCT"] == 1 and sum(_tally(engine).values()) == 1

    # The clock passes the closing time: a late vote is refused, and the ballot is closed then and there.
    # 48 hours from Thursday 10:00 fall on Saturday, so the ballot closes on Monday at 07:30.
    with session_scope(engine) as session:
        closes_at = session.exec(select(Ballot.closes_at)).one()
    assert closes_at == dt.datetime(2019, 1, 28, 0, 30, tzinfo=dt.UTC)
    world.clock.now = closes_at + dt.timedelta(minutes=1)
    mark_late = votes.fake.mark()
    await refused(votes.voters["SCT"], f"v:b:{ballot_id}:{token}:ok:SXD", "đã đóng")
    result = await votes.group_message("Kết quả phiếu bầu Khối trưởng", mark_late)
    assert "Không đủ túc số" in plain(result.text)
    assert _count(engine, BallotVoter) == 1
    # Old menu buttons are stale.
    lead = votes.lead
    await lead.say("/vote", "Bỏ phiếu cuối năm")
    old_menu = lead.last
    assert old_menu is not None
    await lead.say("/vote", "Bỏ phiếu cuối năm")
    open_again = next(data for label, data in old_menu.buttons if data and "open" in data)
    await refused(lead, open_again, "tin nhắn cũ")


async def test_two_officers_of_one_unit_pressing_at_once_cast_one_vote(votes: Votes) -> None:
    engine = votes.world.engine
    data = seed_bloc_data(**seed_config_data())
    for officer in data["officers"]:
        if officer["code"] == "xd-tdkt":
            officer["voter"] = True
    with session_scope(engine) as session:
        load_bloc(session=session, config=BlocConfig.model_validate(data), actor="test")
    link_officers(engine, {"xd-tdkt": 890})
    second = votes.world.officer(890, "Hà")
    mark = await votes.open("Mở phiếu suy tôn")
    head = votes.voters["SXD"]
    for person in (head, second):
        person.last = await votes.fake.wait_for(
            lambda m, p=person: m.chat_id == p.user.id and not m.is_edit and bool(m.buttons), after=mark)
        await person.press("Đồng ý", "Lựa chọn của đơn vị")
    pressed = votes.fake.mark()
    await asyncio.gather(*(_confirm(votes, person) for person in (head, second)))  # both at the same moment
    answers = []
    for person in (head, second):
        answers.append(await votes.fake.wait_for(
            lambda m, p=person: m.chat_id == p.user.id and ("Đã ghi nhận phiếu" in plain(m.text)
                                                            or "đã bỏ phiếu" in plain(m.text)), after=pressed))
    texts = sorted(plain(answer.text) for answer in answers)
    assert sum("Đã ghi nhận phiếu" in text for text in texts) == 1
    assert sum("đã bỏ phiếu" in text for text in texts) == 1
    assert _count(engine, BallotVoter) == 1 and _tally(engine) == {"yes": 1, "no": 0}


async def _confirm(votes: Votes, person: ScriptedOfficer) -> None:
    assert person.last is not None
    message = votes.fake.message(person.user.id, person.last.message_id)
    await person.user.press(message, text=next(label for label, _ in message.buttons if "Xác nhận" in label))


async def test_nobody_sees_choices_or_counts_of_a_secret_ballot_and_it_closes_once(votes: Votes) -> None:
    engine, fake = votes.world.engine, votes.fake
    mark = await votes.open("Mở phiếu suy tôn")
    title = "suy tôn Sở Thông tin và Truyền thông"
    await votes.cast_all(title, mark, {"SXD": "Đồng ý", "SCT": "Không đồng ý", "SGTVT": "Đồng ý"})
    # Issue 16: each voter's ballot is sent protected from forwarding and saving.
    ballots = [m for m in fake.sent[mark:] if not m.is_edit and m.chat_id > 0
               and any(data and data.startswith("v:b:") for _, data in m.buttons)]
    assert ballots and all(str(m.params.get("protect_content")).lower() == "true" for m in ballots)
    # The leader's menu, the group and the command line show the turnout only.
    menu = await votes.lead.say("/vote", "Bỏ phiếu cuối năm")
    assert "3/7 đơn vị đã bỏ phiếu" in plain(menu.text) and "đồng ý)" not in plain(menu.text)
    group = [plain(m.text) for m in fake.messages_to(GROUP, include_edits=True)]
    assert group and all("Đồng ý" not in text and "Kết quả" not in text for text in group)
    nonce = next(data for _, data in menu.buttons if data and data.startswith("v:")
                 and not data.startswith("v:b:")).split(":")[1]
    asked = fake.mark()  # the leader forges a button asking for the choices: there is no such thing
    await votes.lead.user.press_raw(menu.message_id, f"v:{nonce}:choices:1")
    await fake.wait_for(lambda m: m.chat_id == votes.lead.user.id and "tin nhắn cũ" in plain(m.text), after=asked)
    with session_scope(engine) as session:
        ballot = session.exec(select(Ballot)).one()
        with pytest.raises(BallotStillOpen):
            ballot_counts(session=session, ballot_id=ballot.id or 0)
        shown = vote_results(session=session, bloc_id=1, year=2018)
        assert [(v.status, v.votes_cast, v.counts, v.choices) for v in shown] == [("open", 3, {}, {})]
        # Who voted and what was chosen share no key, no time and no order; no chat state holds a choice.
        columns = {column["name"] for column in inspect(session.connection()).get_columns("ballot_box")}
        assert columns == {"slot", "ballot_id", "sealed"}
        assert {column["name"] for column in inspect(session.connection()).get_columns("ballot_voter")} == \
            {"id", "ballot_id", "unit_id"}
        assert all('"yes"' not in (state.flow_state or "") and '"no"' not in (state.flow_state or "")
                   for state in session.exec(select(ChatState)))
        assert session.exec(select(func.count()).select_from(BallotTally)).one() == 0, "no counter per vote"
        assert session.exec(select(func.count()).select_from(BallotBox)).one() == 3
    # The leader and the deputy close it early at the same moment: it closes, and is counted, once.
    deputy = votes.voters["SGTVT"]
    for person in (votes.lead, deputy):
        await person.say("/vote", "Bỏ phiếu cuối năm")
        await person.press("Đóng sớm", "Đóng sớm phiếu")
    pressed = fake.mark()
    await asyncio.gather(*(person.user.press(fake.message(person.user.id, person.last.message_id),
                                             text="⏹ Đóng phiếu ngay")
                           for person in (votes.lead, deputy) if person.last is not None))
    result = await votes.group_message("Kết quả phiếu suy tôn", pressed)
    assert "Đồng ý: 2 · Không đồng ý: 1" in plain(result.text) and "Không đủ túc số" in plain(result.text)
    await fake.wait_for(lambda m: m.chat_id in (votes.lead.user.id, deputy.user.id)
                        and "đã đóng rồi" in plain(m.text), after=pressed)
    await votes.world.wait_handled()
    results = [m for m in fake.messages_to(GROUP) if "Kết quả phiếu" in plain(m.text)]
    assert len(results) == 1
    with session_scope(engine) as session:
        stored = session.exec(select(Ballot)).one()
        assert stored.outcome == "no_quorum" and stored.closed_by in ("officer:tttt-head", "officer:gtvt-head")
        # Even now, nothing pairs a unit with its choice: the voters and three sealed boxes.
        assert session.exec(select(func.count()).select_from(BallotVoter)).one() == 3
        assert session.exec(select(func.count()).select_from(BallotBox)).one() == 3
    assert _tally(engine) == {"yes": 2, "no": 1}


async def test_a_tie_leads_to_a_runoff_that_decides(votes: Votes) -> None:
    fake = votes.fake
    mark = await votes.open("Mở bầu Khối trưởng")
    tie = {"STTTT": SXD, "SGTVT": SXD, "STNMT": SXD, "SKHCN": SCT, "SNNPTNT": SCT, "SXD": SCT, "SCT": SGTVT}
    await votes.cast_all("bầu Khối trưởng năm 2019", mark, tie)
    result = await votes.group_message("Kết quả phiếu bầu Khối trưởng", mark)
    assert "Hòa giữa Sở Xây dựng, Sở Công thương" in plain(result.text)
    await fake.wait_for(lambda m: m.chat_id == votes.lead.user.id and "vòng bầu lại" in plain(m.text), after=mark)
    mark = await votes.open("Bầu lại")
    runoff = await votes.ballot("STNMT", "bầu Khối trưởng năm 2019 (vòng 2)", mark)
    assert sorted(label for label, _ in runoff.buttons) == [SCT, SXD]
    await votes.cast_all("bầu Khối trưởng năm 2019 (vòng 2)", mark,
                         {unit: SCT if unit == "SXD" else SXD for unit in HEADS})
    decided = await votes.group_message("Kết quả phiếu bầu Khối trưởng năm 2019 (vòng 2)", mark)
    assert "Sở Xây dựng trúng cử Khối trưởng năm 2019" in plain(decided.text)
    with session_scope(votes.world.engine) as session:
        rounds = list(session.exec(select(Ballot.round, Ballot.outcome).order_by(col(Ballot.round))))
    assert rounds == [(1, "tie"), (2, "elected")]


async def test_a_ballot_closes_on_time_across_a_restart_and_a_failed_quorum_says_so(votes: Votes) -> None:
    world, fake = votes.world, votes.fake
    mark = await votes.open("Mở phiếu suy tôn", hours=4)
    await votes.cast_all("suy tôn Sở Thông tin và Truyền thông", mark, dict.fromkeys(("SXD", "SCT", "SGTVT"),
                                                                                     "Đồng ý"))
    assert world.parts is not None
    scheduler = world.parts.reminders
    await scheduler.start()
    try:
        # With a quarter of the time left, the units that have not voted are reminded, once.
        world.clock.now = VOTING + dt.timedelta(hours=3, minutes=1)
        reminded = fake.mark()
        await scheduler.tick()
        await scheduler.tick()
        reminders = [m for m in fake.sent[reminded:] if "Nhắc" in plain(m.text)]
        assert sorted(m.chat_id for m in reminders) == sorted(
            USERS[HEADS[unit]] for unit in ("STTTT", "STNMT", "SKHCN", "SNNPTNT"))
    finally:
        await scheduler.stop()
    await world.stop_bot()
    world.clock.now = VOTING + dt.timedelta(hours=5)  # the closing time passes while the bot is down
    closed = fake.mark()
    parts = await world.start_bot()
    await parts.reminders.start()  # the first pass runs at start-up
    try:
        result = await votes.group_message("Kết quả phiếu suy tôn", closed)
    finally:
        await parts.reminders.stop()
    text = plain(result.text)
    assert "3/7 đơn vị đã bỏ phiếu" in text and "Không đủ túc số (cần ít nhất 4/7" in text
    await fake.wait_for(lambda m: m.chat_id == votes.lead.user.id and "chưa có kết quả" in plain(m.text),
                        after=closed)
    with session_scope(world.engine) as session:
        ranking = compute_ranking(session=session, bloc_code="K3", year=2018)
    assert ranking.rows[0].award == "flag-pending-acclaim", "no quorum: the acclaim is still to be held"
    await votes.lead.say("/vote", "không đủ túc số")
    await votes.lead.press("Mở lại phiếu suy tôn", "vòng 2")


async def test_the_minutes_record_the_closed_ballots(votes: Votes) -> None:
    """After the seed's acclaim, the minutes .docx of the period carries the result."""
    import datetime as dt
    import io

    from docx import Document

    from handlers.renderers.documents import paperwork_files
    from handlers.services.paperwork import build_paperwork

    mark = await votes.open("Mở phiếu suy tôn")  # at 10:00; the configured votes window opens at 08:00
    votes.world.clock.now = VOTING + dt.timedelta(hours=2, minutes=15)
    await votes.cast_all("suy tôn Sở Thông tin và Truyền thông", mark, dict.fromkeys(HEADS, "Đồng ý"))
    await votes.group_message("Kết quả phiếu suy tôn", mark)
    with session_scope(votes.world.engine) as session:
        sheet, minutes = build_paperwork(session=session, bloc_code="K3", year=2018,
                                         now=dt.datetime(2019, 1, 24, 3, tzinfo=dt.UTC))
    docx = next(file for file in paperwork_files(sheet, minutes) if file.name.endswith(".docx"))
    text = "\n".join(paragraph.text for paragraph in Document(io.BytesIO(make(docx))).paragraphs)
    assert "4. Kết quả biểu quyết" in text
    assert "Sở Thông tin và Truyền thông" in text[text.index("4. Kết quả biểu quyết"):]
    # the real times of the ballot, not the configured 08:00
    assert "Thời gian: từ 10 giờ 00, ngày 24 tháng 01 năm 2019 đến 12 giờ 15, ngày 24 tháng 01 năm 2019" in text
    assert "Thời gian bỏ phiếu: từ 10 giờ 00, ngày 24 tháng 01 năm 2019 đến 12 giờ 15" in text
    assert "08 giờ 00" not in text
    assert "7 phiếu" in text
    assert sheet.rows[0].award == "flag"


@pytest.mark.parametrize("channel", CHANNELS)
async def test_the_leader_types_the_hours_as_a_bare_number(votes: Votes) -> None:
    """The hours prompt offers two options and asks for a number of hours: on Zalo "2" is two hours,
    not option 2 (back to the menu); the options are typed "/1" and "/2" there."""
    lead = votes.lead
    await lead.say("/vote", "Bỏ phiếu cuối năm")
    await lead.press("Mở phiếu suy tôn", "Phiếu sẽ đóng sau")
    await lead.say("2", "2 giờ")
    asked = await lead.say("1", "1 giờ")
    if isinstance(asked, SentZaloMessage):  # no bare numbers to choose by: they are the hours
        assert "✅ Mở phiếu: /1" in asked.text and "↩️ Quay lại: /2" in asked.text, asked.text
        assert option_number(asked.text, "Mở phiếu") is None
    await lead.press("Mở phiếu", "Đã mở phiếu")
    with session_scope(votes.world.engine) as session:
        closes_at = session.exec(select(Ballot.closes_at)).one()
    assert closes_at == VOTING + dt.timedelta(hours=1)
