"""A voter's presses on a ballot: `v:b:<ballot>:<token>:<action>[:<choice>]`.

Ballots arrive in chats that may be in the middle of a report, so their buttons
cannot use the chat's nonce and do not touch the person's flow: the ballot's
random token (compared in constant time) plays the nonce's part, and every
press re-checks the officer, the unit's membership that year, the ballot being
open and the unit not having voted (`handlers.services.votes.press_ballot`).
"""

from __future__ import annotations

from handlers.flow import Context, FlowState, Turn, small_number
from handlers.renderers.votes import press_replies
from handlers.services.votes import press_ballot


def press(ctx: Context, _state: FlowState | None, arguments: list[str]) -> Turn:
    """A voter chose, confirmed or went back; the person's current flow stays as it was."""
    ballot_id = small_number(arguments[0]) if len(arguments) >= 3 else None
    token, action = (arguments[1], arguments[2]) if ballot_id is not None else ("", "")
    choice = arguments[3] if len(arguments) > 3 else ""
    pressed = press_ballot(session=ctx.session, officer=ctx.officer, ballot_id=ballot_id, token=token,
                           action=action, choice=choice, now=ctx.now)
    replies, notice = press_replies(ctx.language, ctx.officer, pressed)
    return Turn(replies, notice=notice)
