"""The bloc's group on Zalo, and what happens when the bot cannot post there (issue 14, item 3).

When the Zalo bot cannot join groups (getMe says `can_join_groups: false`), when Zalo refuses
a post to the bloc's Zalo group (the bot was removed), or when the bloc's group is not on Zalo,
each unit's officers on Zalo get the group post in private, through the outbox, once each; the
officers on Telegram see it in the Telegram group, or get it in private when the group is not on
Telegram (or cannot be used); the leader unit is told once why officers on Zalo get it in private.
A restart, a second publication and a refusal of every later message owe nothing twice.

The real application with its Zalo bot against both fake servers, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col, select

from bot.outbox import Limits
from bot.terminal import plain
from fakes.people import ScriptedOfficer, ZaloScriptedOfficer
from fakes.zalo import FakeZalo
from handlers.chat import Reply
from handlers.dispatch import owe
from rules.config import ResultsFile
from storage.db import session_scope
from storage.invites import link_account
from storage.models import BlocGroup, BotProfile, GroupNotice, Officer, OutboxMessage, Submission, stored_id
from storage.results import import_results
from tests.e2e.conftest import BotWorld
from tests.factories import seed_results_data
from tests.votes.helpers import GROUP, HEADS, VOTING, link_officers, publish_seed_year

USERS = {code: 800 + index for index, code in enumerate(HEADS.values())}

GROUP_ID = -1001234567890
TITLE = "📢 Kết quả thi đua"  # the group post's first line (publish_group_title)
WHY_CANNOT = "không được Zalo cho phép tham gia nhóm"
WHY_REFUSED = "Zalo không cho bot gửi tin vào nhóm Zalo"
WHY_NO_GROUP = "chưa gắn nhóm Zalo"


def _ready_to_publish(engine: Engine) -> None:
    """The seed's results imported and every report accepted (the review is not the point here)."""
    with session_scope(engine) as session:
        import_results(session=session, results=ResultsFile.model_validate(seed_results_data()), actor="test")
    with session_scope(engine) as session:
        session.connection().execute(update(Submission).values(status="accepted"))


def _titles(zalo: FakeZalo, chat_id: str) -> int:
    return sum(1 for message in zalo.messages_to(chat_id) if TITLE in message.text)


def _photos(zalo: FakeZalo, chat_id: str) -> int:
    return sum(1 for message in zalo.messages_to(chat_id) if message.method == "sendPhoto")


def _told_zalo(zalo: FakeZalo, chat_id: str, words: str) -> int:
    return sum(1 for message in zalo.messages_to(chat_id) if words in message.text)


def _told_telegram(world: BotWorld, chat_id: int, words: str) -> int:
    return sum(1 for message in world.fake.sent if message.chat_id == chat_id and words in plain(message.text))


async def _join_zalo(world: BotWorld, user_id: int, officer_code: str, name: str) -> ZaloScriptedOfficer:
    person = world.person(user_id, name)
    assert isinstance(person, ZaloScriptedOfficer)
    await person.say(f"/start {world.codes[officer_code]}", "Kính chào")
    return person


async def _publish(leader: ScriptedOfficer | ZaloScriptedOfficer) -> None:
    await leader.say("/publish", "Công bố kết quả")
    await leader.press("Công bố", "Đã công bố")


async def _restart(world: BotWorld) -> None:
    await world.stop_bot()
    if world.zalo is not None:  # the stopped bot's last long poll ends (408) before the new bot polls
        await world.zalo.wait_until(lambda: world.zalo is not None and world.zalo.updates.polls_waiting == 0)
    await world.start_bot()
    await world.wait_handled()


@pytest.mark.parametrize("channel", ["zalo"])
async def test_a_bot_that_cannot_join_groups_posts_to_each_unit_in_private(world: BotWorld) -> None:
    assert world.zalo is not None
    zalo = world.zalo
    _ready_to_publish(world.engine)
    leader = world.officer(7001, "Mai")  # the leader unit's officer, on Telegram, with the bloc's Telegram group
    await leader.say(f"/start {world.codes['tttt-tdkt']}", "Kính chào")
    group = world.fake.group(GROUP_ID, "Khối thi đua số 3")
    mark = world.fake.mark()
    await leader.user.send_text("/bind", chat=group)
    await world.fake.wait_for(lambda m: m.chat_id == GROUP_ID and "Đã gắn nhóm này" in plain(m.text), after=mark)
    on_zalo = [await _join_zalo(world, 7002, "xd-tdkt", "Hà"), await _join_zalo(world, 7003, "ct-tdkt", "Lan"),
               await _join_zalo(world, 7004, "tttt-head", "Thành")]  # the last: the leader unit's, on Zalo
    # The platform says the bot cannot join groups; the bot learns it at its (re)start and keeps it.
    zalo.can_join_groups = False
    await _restart(world)
    with session_scope(world.engine) as session:
        profile = session.exec(select(BotProfile).where(BotProfile.channel == "zalo")).one()
    assert profile.can_join_groups is False

    telegram_mark = world.fake.mark()
    await _publish(leader)
    await world.wait_handled()
    in_group = [m for m in world.fake.sent[telegram_mark:] if m.chat_id == GROUP_ID]
    assert sum(1 for m in in_group if TITLE in plain(m.text)) == 1, "the Telegram group still gets its post"
    assert sum(1 for m in in_group if m.kind == "photo") == 1
    for person in on_zalo:
        assert _titles(zalo, person.chat_id) == 1 and _photos(zalo, person.chat_id) == 1, person.name
        table = "\n".join(m.text for m in zalo.messages_to(person.chat_id))
        assert "1. Sở Thông tin và Truyền thông" in table and "2. Sở Công thương" in table
    assert not [params for params in zalo.calls_of("sendMessage") if params["chat_id"] not in
                {person.chat_id for person in on_zalo}], "nothing was tried in a Zalo group"
    # The leader unit is told once why, in private, on each channel its officers use; the others are not.
    assert _told_telegram(world, 7001, "không được Zalo cho phép tham gia nhóm") == 1
    assert _told_zalo(zalo, "7004", WHY_CANNOT) == 1
    assert _told_zalo(zalo, "7002", WHY_CANNOT) == 0
    assert not _told_telegram(world, GROUP_ID, WHY_CANNOT)

    # A restart owes nothing again; a second publication is a new post, without a second notice.
    sent_before = len(zalo.sent)
    await _restart(world)
    assert len(zalo.sent) == sent_before
    await leader.say("/reopen Bổ sung minh chứng", "Đã mở lại")
    await _publish(leader)
    await world.wait_handled()
    for person in on_zalo:
        assert _titles(zalo, person.chat_id) == 2 and _photos(zalo, person.chat_id) == 2, person.name
        assert sum(1 for m in zalo.messages_to(person.chat_id) if "lần 2" in m.text) == 1
    assert _told_telegram(world, 7001, "không được Zalo cho phép tham gia nhóm") == 1
    assert _told_zalo(zalo, "7004", WHY_CANNOT) == 1
    with session_scope(world.engine) as session:
        assert [row.reason for row in session.exec(select(GroupNotice))] == ["cannot_join"]


@pytest.mark.parametrize("channel", ["zalo"])
async def test_a_zalo_group_that_refuses_the_bot_sends_the_post_in_private_once(world: BotWorld) -> None:
    assert world.zalo is not None
    zalo = world.zalo
    _ready_to_publish(world.engine)
    leader = await _join_zalo(world, 7101, "tttt-tdkt", "Mai")
    members = [await _join_zalo(world, 7102, "xd-tdkt", "Hà"), await _join_zalo(world, 7103, "ct-tdkt", "Lan")]
    group = zalo.group("Khối thi đua số 3")
    mark = len(zalo.messages_to(group))
    await leader.say_in_group(group, "/bind")
    await zalo.wait_for_messages(group, 1, after=mark)
    assert "Đã gắn nhóm này" in zalo.messages_to(group)[-1].text

    # The bot is in the group: the ranking goes there, and to nobody in private.
    await _publish(leader)
    await world.wait_handled()
    assert _titles(zalo, group.id) == 1 and _photos(zalo, group.id) == 1
    assert all(_titles(zalo, person.chat_id) == 0 for person in members)

    # The bot is removed from the group: Zalo answers 403; the post goes to each unit, once, in order.
    zalo.remove_from_group(group)
    await leader.say("/reopen Bổ sung minh chứng", "Đã mở lại")
    await world.wait_handled()
    for person in [leader, *members]:
        reopened = [m.text for m in zalo.messages_to(person.chat_id) if "mở lại" in m.text and "Bổ sung" in m.text]
        assert len(reopened) == 1, person.name
    assert _told_zalo(zalo, leader.chat_id, WHY_REFUSED) == 1
    with session_scope(world.engine) as session:
        refused = session.exec(select(BlocGroup.refused_at)).one()
        states = {row.state for row in session.exec(select(OutboxMessage).where(
            OutboxMessage.chat_id == group.id))}
    assert refused is not None and "refused" in states
    tries = len(zalo.calls_of("sendMessage"))

    # Later posts go in private at once: not tried in the group again; the notice is not repeated.
    await _publish(leader)
    await world.wait_handled()
    group_tries = [p for p in zalo.calls_of("sendMessage")[tries:] if p["chat_id"] == group.id]
    assert not group_tries
    for person in [leader, *members]:
        assert _titles(zalo, person.chat_id) == 1 and _photos(zalo, person.chat_id) == 1, person.name
    assert _told_zalo(zalo, leader.chat_id, WHY_REFUSED) == 1
    await _restart(world)
    for person in [leader, *members]:
        assert _titles(zalo, person.chat_id) == 1, person.name

    # Bound again once the bot is back: the group is tried again, and gets the next post.
    zalo.refusing_groups.clear()
    mark = len(zalo.messages_to(group))
    await leader.say_in_group(group, "/bind")
    await zalo.wait_for_messages(group, 1, after=mark)
    with session_scope(world.engine) as session:
        assert session.exec(select(BlocGroup.refused_at)).one() is None


@pytest.mark.parametrize("channel", ["zalo"])
async def test_without_a_group_every_officer_gets_the_post_in_private(world: BotWorld) -> None:
    assert world.zalo is not None
    zalo = world.zalo
    _ready_to_publish(world.engine)
    leader = await _join_zalo(world, 7201, "tttt-tdkt", "Mai")
    member = await _join_zalo(world, 7202, "xd-tdkt", "Hà")
    telegram = world.officer(7203, "Long")  # on Telegram, without a Telegram group: in private too
    await telegram.say(f"/start {world.codes['gtvt-tdkt']}", "Kính chào")
    await _publish(leader)  # no group bound: allowed, since officers are on Zalo
    await world.wait_handled()
    for person in (leader, member):
        assert _titles(zalo, person.chat_id) == 1 and _photos(zalo, person.chat_id) == 1, person.name
    assert _told_zalo(zalo, leader.chat_id, WHY_NO_GROUP) == 1
    assert _told_zalo(zalo, member.chat_id, WHY_NO_GROUP) == 0
    assert sum(1 for m in world.fake.sent if m.chat_id == 7203 and TITLE in plain(m.text)) == 1
    assert sum(1 for m in world.fake.sent if m.chat_id == 7203 and m.kind == "photo") == 1
    assert _told_telegram(world, 7203, WHY_NO_GROUP) == 0


@pytest.mark.parametrize("channel", ["zalo"])
async def test_a_ballot_turnout_goes_in_private_when_it_opens_and_not_at_every_vote(world: BotWorld) -> None:
    assert world.zalo is not None
    world.zalo.can_join_groups = False
    await _restart(world)
    await _join_zalo(world, 7301, "tttt-tdkt", "Mai")
    await _join_zalo(world, 7302, "xd-tdkt", "Hà")
    now = dt.datetime.now(dt.UTC)
    assert world.parts is not None
    bots = world.parts.conversation.bots
    with session_scope(world.engine) as session:
        session.add(BlocGroup(bloc_id=1, channel="telegram", chat_id=str(GROUP_ID), bound_at=now))
        session.flush()
        first = owe(session, replies=[Reply("Phiếu: 0/7 đơn vị đã bỏ phiếu", chat_id=f"telegram:{GROUP_ID}",
                                            remember_as="vote:1:telegram:-1001234567890", group_post=True)],
                    now=now, bots=bots)
        edit = owe(session, replies=[Reply("Phiếu: 1/7 đơn vị đã bỏ phiếu", chat_id=f"telegram:{GROUP_ID}",
                                           edit_key="vote:1:telegram:-1001234567890", group_post=True)],
                   now=now, bots=bots)
        private = list(session.exec(select(OutboxMessage.chat_id, OutboxMessage.edit_key).where(
            OutboxMessage.channel == "zalo", col(OutboxMessage.payload).contains("đơn vị đã bỏ phiếu"))))
    assert first[0] == edit[0] and first[0].startswith("telegram:"), "the group gets the post and its edit"
    assert sorted(chat for chat, _ in private) == ["7301", "7302"], "the opening, once to each officer on Zalo"
    assert all(key is None for _, key in private), "a private copy is never edited"
    assert len(edit) == 1, "an edit of the turnout is not sent again to every officer"


@pytest.mark.parametrize("channel", ["zalo"])
async def test_a_ballot_on_a_telegram_group_reaches_the_zalo_voters_in_private(world: BotWorld) -> None:
    assert world.parts is not None and world.zalo is not None
    zalo = world.zalo
    world.parts.runtime.sender.limits = Limits(per_second=None, per_group_minute=None)
    publish_seed_year(world.engine)  # the ranking published, the bloc's group on Telegram
    world.fake.group(GROUP, "Khối thi đua số 3")
    on_zalo = {"SXD": "xd-head", "SCT": "ct-head"}
    link_officers(world.engine, {code: USERS[code] for unit, code in HEADS.items() if unit not in on_zalo})
    world.clock.now = VOTING
    zalo_voters = {unit: await _join_zalo(world, 7400 + index, code, code)
                   for index, (unit, code) in enumerate(on_zalo.items())}
    voters: dict[str, ScriptedOfficer | ZaloScriptedOfficer] = {
        unit: world.officer(USERS[code], code) for unit, code in HEADS.items() if unit not in on_zalo}
    voters.update(zalo_voters)
    lead = voters["STTTT"]
    await lead.say("/vote", "Bỏ phiếu cuối năm")
    await lead.press("Mở phiếu suy tôn", "Phiếu sẽ đóng sau")
    marks = {unit: voter.mark() for unit, voter in voters.items()}
    await lead.press("Mở phiếu", "Đã mở phiếu")

    async def cast(unit: str, voter: ScriptedOfficer | ZaloScriptedOfficer) -> None:
        await voter.wait_choice("Phiếu suy tôn Sở Thông tin và Truyền thông", marks[unit])
        await voter.press("Đồng ý", "Lựa chọn của đơn vị")
        await voter.press("Xác nhận", "Đã ghi nhận phiếu")

    for unit, voter in voters.items():  # one after another: each vote changes the turnout
        await cast(unit, voter)
    await world.fake.wait_for(lambda m: m.chat_id == GROUP and "Kết quả phiếu suy tôn" in plain(m.text))
    await world.wait_handled()
    group = [plain(m.text) for m in world.fake.messages_to(GROUP, include_edits=True)]
    assert sum(1 for text in group if "đơn vị đã bỏ phiếu" in text) >= 7, "the group's turnout is edited per vote"
    for unit, voter in zalo_voters.items():
        texts = [m.text for m in zalo.messages_to(voter.chat_id)]
        assert sum(1 for text in texts if "đơn vị đã bỏ phiếu" in text and "Kết quả" not in text) == 1, unit
        assert sum(1 for text in texts if "Kết quả phiếu suy tôn" in text) == 1, unit
    assert _told_telegram(world, USERS["tttt-head"], WHY_NO_GROUP) == 1
    assert not any(WHY_NO_GROUP in text for voter in zalo_voters.values()
                   for text in (m.text for m in zalo.messages_to(voter.chat_id)))


@pytest.mark.parametrize("channel", ["mixed"])
async def test_beside_a_zalo_group_officers_on_telegram_get_the_post_in_private_once(world: BotWorld) -> None:
    """The bloc's group is on Zalo: the officers on Zalo read the ranking there, those on Telegram get it in
    private, one copy each (an officer linked on both, on the channel used last), and nobody is told why."""
    assert world.zalo is not None
    zalo = world.zalo
    _ready_to_publish(world.engine)
    leader = await _join_zalo(world, 7501, "tttt-tdkt", "Mai")
    member = await _join_zalo(world, 7502, "xd-tdkt", "Hà")
    on_telegram = [world.officer(7503, "Lan"), world.officer(7504, "Long"), world.officer(7507, "Nga")]
    for person, code in zip(on_telegram, ("ct-tdkt", "gtvt-tdkt", "khcn-tdkt"), strict=True):
        await person.say(f"/start {world.codes[code]}", "Kính chào")
    with session_scope(world.engine) as session:  # Nga has a Zalo account too, unused: Telegram is used last
        officer = session.exec(select(Officer).where(Officer.code == "khcn-tdkt")).one()
        link_account(session=session, officer_id=stored_id(officer), channel="zalo", external_id="7507",
                     now=dt.datetime.now(dt.UTC))
    group = world.group(GROUP_ID, "Khối thi đua số 3")
    await world.in_group(leader, group, "/bind", "Đã gắn nhóm này")

    await _publish(leader)
    await world.wait_handled()
    assert _titles(zalo, str(GROUP_ID)) == 1 and _photos(zalo, str(GROUP_ID)) == 1
    for person in (leader, member):
        assert _titles(zalo, person.chat_id) == 0, f"{person.name} reads it in the Zalo group"
    for person in on_telegram:
        received = world.sent_to(person)
        assert sum(1 for m in received if TITLE in world.read(m)) == 1, person.name
        assert sum(1 for m in received if m.kind == "photo") == 1, person.name
        assert "1. Sở Thông tin và Truyền thông" in world.texts(received), person.name
    assert _titles(zalo, "7507") == 0, "one copy for an officer on both channels"
    assert not any(words in m.text for m in zalo.sent for words in (WHY_CANNOT, WHY_REFUSED, WHY_NO_GROUP))
    with session_scope(world.engine) as session:
        assert not list(session.exec(select(GroupNotice)))
