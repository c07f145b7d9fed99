"""The year's votes in the chat: the leader's desk (/vote) and the voters' ballots.

- The leader or deputy unit runs the votes with /vote (`desk`): a menu of the
  three ballots (acclaim, next year's leader, next year's deputy), the closing
  time (the configured default, or hours typed), opening, early closing with a
  confirmation. Its buttons are `v:<nonce>:<action>[:<argument>]`.
- A voter's buttons are `v:b:<ballot>:<token>:<action>[:<choice>]` (`ballot`):
  open buttons, keyed by "b", that leave the person's flow as it was.
- The scheduler closes and reminds (`due.due_ballot_replies`).
"""

from __future__ import annotations

from handlers.flow import Flow, Step
from handlers.flows.votes import ballot, desk
from handlers.flows.votes.desk import CLOSE, HOURS, MENU, PREFIX, DeskState

FLOW: Flow[DeskState] = Flow(
    name="vote",
    prefix=PREFIX,
    state_type=DeskState,
    steps={
        MENU: Step(buttons={"open": desk.ask_hours, "close": desk.ask_close, "announce": desk.announce},
                   on_message=desk.press_a_button),
        HOURS: Step(buttons={"go": desk.go, "menu": desk.back}, on_message=desk.typed_hours),
        CLOSE: Step(buttons={"closeok": desk.close, "menu": desk.back}, on_message=desk.press_a_button),
    },
    on_stale=desk.stale,
    commands={"vote": desk.start},
    open_buttons={"b": ballot.press},
    menu={"vote": "vote_cmd"},
)
