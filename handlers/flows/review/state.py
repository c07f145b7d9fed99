"""The review flow's state between two messages, stored by the dispatcher."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from handlers.flow import FlowState

ReviewStep = Literal[
    "list",  # the units of the period, a button each
    "unit",  # one unit's report: accept, change, return, back to the list
    "unit_item",  # which item to change
    "value",  # waiting for the reviewed value of `item_code`
    "reason",  # waiting for the reason of the change to `value`
    "return",  # waiting for the reason to return the report
    "publish",  # /publish asked to confirm
    "publish2",  # the last confirmation, units in `missing` not handed in
    "reopen",  # waiting for the reason to reopen
    "bind",  # a move of the bloc's group to be confirmed
]


class ReviewState(FlowState):
    """Where the leader or deputy is: the period, the unit and item under review, a value waiting for its reason."""

    step: ReviewStep
    period_id: int | None = None
    unit_id: int | None = None
    item_code: str | None = None
    value: Decimal | None = None
    missing: tuple[str, ...] = ()
