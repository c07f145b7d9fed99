"""What voters, the group and the leader read about the votes, and the minutes' vote lines.

Every function here turns the plain data of `handlers.services.votes` into
replies or text, in the reader's language (the minutes in Vietnamese, as the
board expects them); none of them reads the database or changes a state.
A voter's ballot buttons are `v:b:<ballot>:<token>:<action>[:<choice>]`: the
ballot's random token stands in for the chat's nonce, because a ballot arrives
in chats that may be in the middle of another flow. The leader's menu buttons
are made by the flow (`Buttons`), bound to the prompt's nonce.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.chat import Option, Reply
from handlers.flow import Buttons
from handlers.i18n import Safe, format_moment, t
from handlers.markup import to_plain
from handlers.services.votes import (
    Announced,
    Closed,
    Confirming,
    Desk,
    KindLine,
    Opened,
    Plan,
    Pressed,
    Recorded,
    Refusal,
    Refused,
    Reminder,
    Roster,
    Shown,
    Turnout,
    VoteResult,
    ballot_rules,
    election_rules,
    quorum_need,
    tied_units,
)
from rules.ballot_times import BallotTimes
from rules.config import BallotRules, WorkingHours
from rules.numbers import format_percent
from storage.chat import OfficerView
from storage.votes import BallotKind, BallotView

BALLOT_PREFIX = "v:b"
MINUTES = "vi"  # the minutes are written in Vietnamese, whatever the reader's language


plain_text = to_plain  # catalog text without markup, for a button label or a document


OUTSIDE = "out"  # the go button's argument: the leader confirms an opening outside the votes window


def _label(language: str, key: str, **params: object) -> str:
    """A button label: plain text (Telegram shows it as is), so not HTML-escaped."""
    return plain_text(t(language, key, **params))


def _secrecy(language: str, secret: bool) -> str:
    return t(language, "vote_secrecy_secret" if secret else "vote_secrecy_open")


def _share(rules: BallotRules, language: str) -> str:
    return format_percent(rules.pass_share * 100, decimals=0, locale=language)


def _base(language: str, pass_base: str) -> Safe:
    return t(language, "vote_base_votes" if pass_base == "votes_cast" else "vote_base_members")  # noqa: S105


def title(language: str, roster: Roster, kind: BallotKind, round: int, year: int, subject: str | None = None) -> Safe:
    """What a ballot of the voting `year` is called, e.g. `bầu Khối trưởng năm 2019 (vòng 2)`."""
    if kind is BallotKind.acclaim:
        text = t(language, "vote_title_acclaim", unit=roster.name(subject))
    else:
        text = t(language, f"vote_title_{kind.value}", year=year + 1)
    return Safe(text + (t(language, "vote_round", n=round) if round > 1 else ""))


def ballot_title(language: str, roster: Roster, ballot: BallotView) -> Safe:
    """The title of a stored ballot."""
    return title(language, roster, ballot.kind, ballot.round, ballot.year, roster.code(ballot.subject_unit_id))


def choice_label(language: str, roster: Roster, ballot: BallotView, choice: str) -> str:
    """What a choice reads as: Đồng ý / Không đồng ý, or a unit's name."""
    if ballot.kind is BallotKind.acclaim:
        return t(language, f"vote_choice_{choice}")
    return roster.name(choice)


def _closes(roster: Roster, ballot: BallotView, language: str) -> str:
    return format_moment(ballot.closes_at, roster.timezone, language)


# -- what a voter sees ---------------------------------------------------------------------


def ballot_message(language: str, roster: Roster, ballot: BallotView, unit_code: str, *, prefix: str = "",
                   edit: bool = False, chat_id: str | None = None) -> Reply:
    """The ballot as a voter sees it: what is asked, the secrecy, the buttons."""
    lines = [prefix] if prefix else []
    lines.append(t(language, "vote_ballot_head", title=ballot_title(language, roster, ballot),
                   unit=roster.name(unit_code), closes=_closes(roster, ballot, language)))
    lines.append(t(language, "vote_ballot_secret" if ballot.secret else "vote_ballot_open"))
    base = f"{BALLOT_PREFIX}:{ballot.id}:{ballot.token}:"
    if ballot.kind is BallotKind.acclaim:
        lines.append(t(language, "vote_ballot_question_acclaim", unit=roster.name(roster.code(ballot.subject_unit_id))))
        options: tuple[tuple[Option, ...], ...] = ((
            Option(_label(language, "vote_btn_yes"), base + "pick:yes"),
            Option(_label(language, "vote_btn_no"), base + "pick:no"),
        ),)
    else:
        self_vote = election_rules(ballot).self_vote
        lines.append(t(language, "vote_ballot_question_election", role=t(language, f"vote_role_{ballot.kind.value}"),
                       year=ballot.year + 1))
        if not self_vote and unit_code in ballot.candidates:
            lines.append(t(language, "vote_ballot_no_self"))
        options = tuple((Option(roster.name(code), base + f"pick:{code}"),)
                        for code in ballot.candidates if self_vote or code != unit_code)
    return Reply(Safe("\n".join(lines)), options=options, edit=edit, chat_id=chat_id, protect=True)


def _confirm(language: str, pressed: Confirming, officer: OfficerView) -> Reply:
    """A secret ballot's choice, to confirm or choose again."""
    roster, ballot = pressed.roster, pressed.ballot
    base = f"{BALLOT_PREFIX}:{ballot.id}:{ballot.token}:"
    label = choice_label(language, roster, ballot, pressed.choice)
    return Reply(
        Safe(t(language, "vote_ballot_head", title=ballot_title(language, roster, ballot), unit=officer.unit_name,
               closes=_closes(roster, ballot, language))
             + "\n" + t(language, "vote_ballot_confirm", choice=label)),
        options=((Option(_label(language, "vote_btn_confirm"), base + f"ok:{pressed.choice}"),
                  Option(_label(language, "vote_btn_rechoose"), base + "back")),),
        edit=True, protect=True)


def _refused(language: str, pressed: Refused, officer: OfficerView) -> list[Reply]:
    roster, ballot = pressed.roster, pressed.ballot
    if roster is None or ballot is None or pressed.reason in (Refusal.forged, Refusal.self_vote):
        key = "vote_refused_self" if pressed.reason is Refusal.self_vote else "vote_refused_forged"
        return [Reply(t(language, key))]
    params: dict[str, object] = {"unit": officer.unit_name, "year": ballot.year,
                                 "title": ballot_title(language, roster, ballot)}
    if pressed.reason is Refusal.closed:
        params["closed"] = format_moment(ballot.closed_at or ballot.closes_at, roster.timezone, language)
    replies = [Reply(t(language, f"vote_refused_{pressed.reason.value}", **params))]
    if pressed.closing is not None:
        replies.extend(closing_replies(pressed.closing))
    return replies


def press_replies(language: str, officer: OfficerView, pressed: Pressed) -> tuple[list[Reply], str | None]:
    """The answer to a press on a ballot: replies, and the toast (None: no toast)."""
    if isinstance(pressed, Refused):
        return _refused(language, pressed, officer), t(language, "vote_notice_refused")
    if isinstance(pressed, Shown):
        return [ballot_message(language, pressed.roster, pressed.ballot, officer.unit_code, edit=True)], None
    if isinstance(pressed, Confirming):
        return [_confirm(language, pressed, officer)], None
    return _recorded(language, pressed, officer), t(language, "vote_notice_recorded")


def _recorded(language: str, pressed: Recorded, officer: OfficerView) -> list[Reply]:
    roster, ballot = pressed.roster, pressed.ballot
    ballot_name = ballot_title(language, roster, ballot)
    if ballot.secret:
        text = t(language, "vote_recorded_secret", unit=officer.unit_name, title=ballot_name)
        if pressed.receipt is not None:
            text = Safe(text + "\n\n" + t(language, "vote_receipt", receipt=pressed.receipt))
        replies = [Reply(text, edit=True, protect=True)]
    else:
        prefix = t(language, "vote_recorded_open", unit=officer.unit_name, title=ballot_name,
                   choice=choice_label(language, roster, ballot, pressed.choice))
        replies = [ballot_message(language, roster, ballot, officer.unit_code, prefix=prefix, edit=True)]
    if pressed.closing is not None:
        replies.extend(closing_replies(pressed.closing))
    elif pressed.turnout is not None:
        replies.extend(turnout_replies(roster, pressed.turnout))
    return replies


def reminder_replies(reminder: Reminder) -> list[Reply]:
    """The one reminder, with the ballot again, to each voter whose unit has not voted."""
    roster, ballot = reminder.roster, reminder.ballot
    replies = []
    for chat in reminder.voters:
        unit_code = roster.codes[chat.unit_id]
        prefix = t(chat.language, "vote_reminder", unit=roster.name(unit_code),
                   title=ballot_title(chat.language, roster, ballot))
        replies.append(ballot_message(chat.language, roster, ballot, unit_code, prefix=prefix, chat_id=chat.user_id))
    return replies


# -- what the group (or the leader unit) sees --------------------------------------------------


def _turnout_key(ballot: BallotView, chat_id: str) -> str:
    return f"vote:{ballot.id}:{chat_id}"


def meaningful_turnout(voted: int, members: int, need: int) -> bool:
    """Whether a turnout of `voted` is worth a new message where it cannot be edited in place.

    Everyone has voted, the quorum (`need` votes) was just reached, or a quarter more of the
    members voted; each vote in between only edits the message where editing exists.
    """
    if voted >= members or voted == need:
        return True
    return members > 0 and voted * 4 // members > (voted - 1) * 4 // members


def turnout_replies(roster: Roster, turnout: Turnout, *, first: bool = False, closed: bool = False) -> list[Reply]:
    """The one turnout message per chat: sent when the ballot opens, edited after each new vote.

    An edit that is not a meaningful change (:func:`meaningful_turnout`) is marked minor: a
    channel that cannot edit (Zalo) leaves it out rather than post a new message per vote.
    """
    ballot = turnout.ballot
    members = len(ballot.members)
    minor = not first and not closed and not meaningful_turnout(
        turnout.voted, members, quorum_need(ballot_rules(ballot), members))
    replies = []
    for chat_id, language in turnout.chats:
        text = t(language, "vote_turnout_closed" if closed else "vote_turnout",
                 title=ballot_title(language, roster, ballot), secrecy=_secrecy(language, ballot.secret),
                 voted=turnout.voted, members=len(ballot.members), closes=_closes(roster, ballot, language))
        key = _turnout_key(ballot, chat_id)
        replies.append(Reply(text, chat_id=chat_id, remember_as=key if first else None,
                             edit_key=None if first else key, group_post=True, minor_edit=minor))
    return replies


def result_text(language: str, roster: Roster, ballot: BallotView) -> Safe:
    """The result with counts, and what comes next when there is no result."""
    rules = ballot_rules(ballot)
    result = ballot.result or {}
    members = len(ballot.members)
    lines = [t(language, "vote_result_head", title=ballot_title(language, roster, ballot),
               secrecy=_secrecy(language, ballot.secret), voted=result.get("votes_cast", 0), members=members)]
    share, base = _share(rules, language), _base(language, rules.pass_base)
    if ballot.kind is BallotKind.acclaim:
        subject = roster.name(roster.code(ballot.subject_unit_id))
        lines.append(t(language, "vote_result_acclaim_counts", yes=result.get("yes", 0), no=result.get("no", 0)))
        key = {"passed": "vote_result_passed", "rejected": "vote_result_rejected"}.get(
            ballot.outcome or "", "vote_result_no_quorum")
        lines.append(t(language, key, unit=subject, share=share, base=base,
                       need=quorum_need(rules, members), members=members))
    else:
        counts = result.get("counts", {})
        for code, votes in sorted(((code, votes) for code, votes in counts.items() if votes),
                                  key=lambda item: (-int(item[1]), roster.name(item[0]))):
            lines.append(t(language, "vote_result_count_line", unit=roster.name(code), votes=votes))
        if result.get("invalid"):
            lines.append(t(language, "vote_result_invalid", n=result["invalid"]))
        role = t(language, f"vote_role_{ballot.kind.value}")
        tied = ", ".join(roster.name(code) for code in tied_units(result))
        key = {
            "elected": "vote_result_elected",
            "tie": "vote_result_tie_runoff" if result.get("runoff_candidates") else "vote_result_tie_none",
            "below_pass_share": "vote_result_below",
        }.get(ballot.outcome or "", "vote_result_no_quorum")
        lines.append(t(language, key, unit=roster.name(roster.code(ballot.winner_unit_id)), role=role,
                       year=ballot.year + 1, units=tied, share=share, base=base,
                       need=quorum_need(rules, members), members=members))
    ballots = result.get("ballots") or {}
    if not ballots.get("roll_matches", True):
        lines.append(t(language, "vote_result_roll_mismatch", boxes=ballots.get("boxes", 0),
                       returned=ballots.get("returned", 0)))
    receipts = result.get("receipts") or []
    if receipts:
        lines.append(t(language, "vote_result_receipts", n=len(receipts), codes=", ".join(receipts)))
    choices = result.get("choices") or {}
    if choices:
        lines.append(t(language, "vote_result_open_choices"))
        lines.extend(t(language, "vote_result_choice_line", unit=roster.name(code),
                       choice=choice_label(language, roster, ballot, choice))
                     for code, choice in sorted(choices.items(), key=lambda item: roster.name(item[0])))
    return Safe("\n".join(lines))


def closing_replies(closed: Closed) -> list[Reply]:
    """A ballot just closed: the turnout message's last edit, the result, and the leader's next step."""
    roster, ballot = closed.roster, closed.ballot
    replies = turnout_replies(roster, closed.turnout, closed=True)
    for chat_id, language in closed.turnout.chats:
        text = result_text(language, roster, ballot)
        if closed.roles is not None:
            text = Safe(text + "\n\n" + t(language, "vote_result_roles", year=ballot.year + 1,
                                           leader=roster.name(roster.code(closed.roles.leader_unit_id)),
                                           deputy=roster.name(roster.code(closed.roles.deputy_unit_id))))
        replies.append(Reply(text, chat_id=chat_id, group_post=True))
    runoff = (ballot.result or {}).get("runoff_candidates") or []
    for chat_id, language in closed.leader_chats:
        key = "vote_leader_runoff" if runoff else "vote_leader_again"
        replies.append(Reply(t(language, key, title=ballot_title(language, roster, ballot),
                               units=", ".join(roster.name(code) for code in runoff)), chat_id=chat_id))
    return replies


def opened_replies(language: str, opened: Opened) -> tuple[Safe, list[Reply]]:
    """A ballot just opened: the leader's line, then the group's turnout and every voter's ballot.

    The group's turnout message goes first (and is remembered) before any voter has
    a ballot, so that the first vote finds it to edit instead of sending a second one.
    """
    roster, ballot = opened.roster, opened.ballot
    replies = turnout_replies(roster, opened.turnout, first=True)
    replies.extend(ballot_message(chat.language, roster, ballot, roster.codes[chat.unit_id], chat_id=chat.user_id)
                   for chat in opened.voters)
    members = len(ballot.members)
    text = t(language, "vote_opened", title=ballot_title(language, roster, ballot), sent=members - len(opened.missing),
             members=members, closes=_closes(roster, ballot, language))
    if opened.missing:
        text = Safe(text + "\n" + t(language, "vote_opened_missing",
                                    units=", ".join(roster.name(code) for code in opened.missing)))
    return text, replies


def announced_replies(announced: Announced) -> list[Reply]:
    """Next year's leader and deputy by rotation or appointment, to the group (or the leader unit)."""
    roster = announced.roster
    return [Reply(t(language, "vote_announced_fixed", method=t(language, f"vote_method_{announced.method}"),
                    year=announced.year, leader=roster.name(announced.leader), deputy=roster.name(announced.deputy)),
                  chat_id=chat_id, group_post=True)
            for chat_id, language in announced.chats]


# -- the leader's desk -----------------------------------------------------------------------


def _status(language: str, roster: Roster, line: KindLine) -> str:
    latest = line.latest
    if latest is None:
        return t(language, "vote_status_wait_leader" if line.waits_for_leader else "vote_status_not_open")
    round_text = t(language, "vote_round", n=latest.round) if latest.round > 1 else ""
    members = len(latest.members)
    if latest.result is None:
        return t(language, "vote_status_open", round=round_text, members=members, voted=line.voted,
                 closes=_closes(roster, latest, language))
    result = latest.result
    counts = result.get("counts", {})
    winner = roster.code(latest.winner_unit_id)
    return t(language, f"vote_status_{latest.outcome}", round=round_text, members=members,
             yes=result.get("yes", 0), voted=result.get("votes_cast", 0), unit=roster.name(winner),
             votes=counts.get(winner or "", 0),
             units=", ".join(roster.name(code) for code in tied_units(result)) or "—",
             share=_share(ballot_rules(latest), language))


def menu(language: str, desk: Desk, buttons: Buttons, prefix: str = "") -> Reply:
    """The three ballots, their state, and a button for each thing that may be done now."""
    roster = desk.roster
    lines = [prefix] if prefix else []
    lines.append(t(language, "vote_menu_title", year=desk.year, bloc=roster.bloc_name))
    status = {line.kind: _status(language, roster, line) for line in desk.kinds}
    if len(desk.flagged) == 1:
        lines.append(t(language, "vote_line_acclaim", unit=roster.name(desk.flagged[0]),
                       status=status[BallotKind.acclaim]))
    else:
        reason = t(language, "vote_no_flag") if not desk.flagged else t(
            language, "vote_shared_flag", units=", ".join(roster.name(code) for code in desk.flagged))
        lines.append(t(language, "vote_line_acclaim_none", reason=reason))
    options: list[tuple[Option, ...]] = []
    fixed = desk.fixed
    if fixed is None:
        lines.append(t(language, "vote_line_leader", year=desk.year + 1, status=status[BallotKind.leader]))
        lines.append(t(language, "vote_line_deputy", year=desk.year + 1, status=status[BallotKind.deputy]))
    else:
        lines.append(t(language, "vote_line_fixed", year=desk.year + 1,
                       method=t(language, f"vote_method_{fixed.method}"), leader=roster.name(fixed.leader),
                       deputy=roster.name(fixed.deputy), announced=t(language, "vote_fixed_done") if fixed.announced
                       else ""))
        if not fixed.announced:
            options.append((buttons(_label(language, "vote_btn_announce", year=desk.year + 1), "announce"),))
    for line in desk.kinds:
        plan = line.plan
        if plan is not None:
            if plan.runoff:
                label = _label(language, "vote_btn_runoff", what=t(language, f"vote_kind_{line.kind.value}"),
                               units=", ".join(roster.name(code) for code in plan.candidates))
            else:
                label = _label(language, f"vote_btn_{'open' if plan.round == 1 else 'again'}_{line.kind.value}")
            options.append((buttons(label, "open", line.kind.value),))
        if line.latest is not None and line.latest.closed_at is None:
            what = t(language, f"vote_kind_{line.kind.value}")
            options.append((buttons(_label(language, "vote_btn_close", what=what), "close", line.latest.id),))
    return Reply(Safe("\n".join(lines)), options=tuple(options))


def hours_prompt(language: str, roster: Roster, *, kind: BallotKind, round: int, year: int, plan: Plan | None,
                 rules: BallotRules, members: int, hours: int, times: BallotTimes, working: WorkingHours,
                 buttons: Buttons, prefix: str = "") -> Reply:
    """The ballot about to be opened, when it would close if opened now, and the go and back buttons.

    A close that falls outside the working day says where it moves to; an opening
    outside the bloc's votes window says the window, and the go button confirms it.
    """
    zone = roster.timezone
    candidates = "" if kind is BallotKind.acclaim or plan is None else t(
        language, "vote_candidates_line", names=", ".join(roster.name(code) for code in plan.candidates)) + "\n"
    text = t(language, "vote_hours_prompt",
             title=title(language, roster, kind, round, year, plan.subject if plan else None),
             candidates=Safe(candidates), secrecy=_secrecy(language, rules.secret), members=members, hours=hours,
             closes=format_moment(times.asked_close, zone, language), min=rules.min_hours, max=rules.max_hours)
    if times.moved:
        text = Safe(text + "\n\n" + t(language, "vote_close_moved", start=working.start.strftime("%H:%M"),
                                       end=working.end.strftime("%H:%M"),
                                       closes=format_moment(times.closes_at, zone, language)))
    go = buttons(_label(language, "vote_btn_go"), "go")
    if times.outside_window and times.window is not None:
        text = Safe(text + "\n\n" + t(language, "vote_outside_window",
                                       opens=format_moment(times.window[0], zone, language),
                                       deadline=format_moment(times.window[1], zone, language)))
        go = buttons(_label(language, "vote_btn_go_outside"), "go", OUTSIDE)
    # A number typed here is the hours (on Zalo the two options are typed as /1 and /2).
    return Reply(Safe((prefix + "\n\n" if prefix else "") + text),
                 options=((go, buttons(_label(language, "vote_btn_back"), "menu")),), typed_numbers=True)


def close_prompt(language: str, roster: Roster, ballot: BallotView, voted: int, buttons: Buttons) -> Reply:
    """Close early? The turnout so far, and the confirm and back buttons."""
    text = t(language, "vote_confirm_close", title=ballot_title(language, roster, ballot), voted=voted,
             members=len(ballot.members))
    return Reply(text, options=((buttons(_label(language, "vote_btn_close_now"), "closeok", ballot.id),
                                 buttons(_label(language, "vote_btn_back"), "menu")),))


# -- the minutes and the command line -------------------------------------------------------------


def minutes_question(result: VoteResult) -> str:
    """What was put to the vote, for the minutes."""
    round_text = plain_text(t(MINUTES, "vote_round", n=result.round)) if result.round > 1 else ""
    secrecy = plain_text(_secrecy(MINUTES, result.secret))
    if result.kind == BallotKind.acclaim.value:
        return plain_text(t(MINUTES, "vote_minutes_question_acclaim", unit=result.subject_name or "?",
                            secrecy=secrecy, round=round_text))
    return plain_text(t(MINUTES, "vote_minutes_question_election", role=t(MINUTES, f"vote_role_{result.kind}"),
                        year=result.for_year, secrecy=secrecy, round=round_text))


def minutes_tallies(result: VoteResult) -> list[tuple[str, int]]:
    """(option, votes) in the minutes' order: yes then no, or the units that got votes, most first."""
    if result.kind == BallotKind.acclaim.value:
        return [(plain_text(t(MINUTES, f"vote_choice_{choice}")), result.counts[choice])
                for choice in ("yes", "no") if choice in result.counts]
    ordered = sorted(((code, votes) for code, votes in result.counts.items() if votes),
                     key=lambda item: (-item[1], result.unit_names.get(item[0], item[0])))
    return [(result.unit_names.get(code, code), votes) for code, votes in ordered]


def minutes_count(result: VoteResult) -> list[str]:
    """The counting committee's lines of a closed ballot: ballots issued, returned, valid, invalid;
    votes and percentage per option; the check against the roll; the receipts found in the box."""
    if result.decision is None:
        return []
    lines = [plain_text(t(MINUTES, "vote_minutes_ballots", issued=result.issued, returned=result.returned,
                          valid=result.valid, invalid=result.invalid))]
    base_count = result.valid if result.pass_base == "votes_cast" else result.members  # noqa: S105
    base = _base(MINUTES, result.pass_base)
    for option, votes in minutes_tallies(result):
        share = Decimal(votes) * 100 / base_count if base_count else Decimal(0)
        lines.append(plain_text(t(MINUTES, "vote_minutes_tally_line", option=option, votes=votes, base=base,
                                  percent=format_percent(share, decimals=2, locale=MINUTES))))
    key = "vote_minutes_roll_ok" if result.roll_matches else "vote_minutes_roll_mismatch"
    lines.append(plain_text(t(MINUTES, key, returned=result.returned, issued=result.issued)))
    if result.receipts:
        lines.append(plain_text(t(MINUTES, "vote_minutes_receipts", codes=", ".join(result.receipts))))
    return lines


def minutes_outcome(result: VoteResult) -> str:
    """The result in one sentence, for the minutes."""
    if result.decision is None:
        return plain_text(t(MINUTES, "vote_minutes_open", voted=result.votes_cast, members=result.members,
                            closes=format_moment(result.closes_at, result.timezone, MINUTES)))
    role = "" if result.kind == BallotKind.acclaim.value else t(MINUTES, f"vote_role_{result.kind}")
    counts = result.counts
    tied = list(result.runoff_candidates) or [
        code for code, votes in counts.items() if counts and votes == max(counts.values())]
    return plain_text(t(
        MINUTES, f"vote_minutes_{result.decision}", members=result.members, voted=result.votes_cast,
        yes=counts.get("yes", 0), unit=result.winner_name or "?", votes=counts.get(result.winner_code or "", 0),
        role=role, year=result.for_year, units=", ".join(result.unit_names.get(code, code) for code in tied),
        share=format_percent(result.pass_share * 100, decimals=0, locale=MINUTES),
        base=_base(MINUTES, result.pass_base),
    ))


def minutes_rules(result: VoteResult) -> str:
    """The ballot's rules in one line: quorum, pass share, self-vote."""
    text = t(MINUTES, "vote_minutes_rules", quorum=format_percent(result.quorum * 100, decimals=0, locale=MINUTES),
             share=format_percent(result.pass_share * 100, decimals=0, locale=MINUTES),
             base=_base(MINUTES, result.pass_base))
    if result.self_vote is False:
        text = Safe(text + t(MINUTES, "vote_minutes_no_self"))
    return plain_text(text)

