"""The leader's part of the year: bind the group, review, rank, publish, reopen.

Who may act is checked again on every command, press and typed answer: only
officers of the leader and deputy units of the period's year review, preview and
publish; the leader's own submission is reviewed by the deputy; only the leader
reopens a published ranking. Every decision is audited (`handlers.services.review`).

Buttons are `rv:<nonce>:<action>[:<argument>]`; the dispatcher checks the nonce,
and a step answers only the actions of the prompt it showed, so a button of an
older message is refused and changes nothing.

The steps (`steps.py`: the review; `publication.py`: ranking, publish, reopen;
`group.py`: the bloc's group), the services they call (`handlers.services.review`)
and what they show (`handlers.renderers.review`) are apart; the map below is the
whole flow.
"""

from __future__ import annotations

from handlers.flow import Flow, Step
from handlers.flows.review import group, publication, steps
from handlers.flows.review.desk import stale
from handlers.flows.review.state import ReviewState
from handlers.renderers.review import PREFIX

FLOW = Flow(
    name="review",
    prefix=PREFIX,
    state_type=ReviewState,
    steps={
        "list": Step(buttons={"open": steps.open_unit}),
        "unit": Step(buttons={"open": steps.open_unit, "list": steps.back_to_list, "accept": steps.accept,
                              "change": steps.choose_item, "return": steps.ask_return, "ev": steps.open_evidence}),
        "unit_item": Step(buttons={"open": steps.open_unit, "item": steps.chose_item}),
        "value": Step(on_message=steps.read_value),
        "reason": Step(on_message=steps.read_reason),
        "return": Step(on_message=steps.read_return_reason),
        "publish": Step(buttons={"force": publication.force, "go": publication.go, "cancel": publication.cancel}),
        "publish2": Step(buttons={"go": publication.go, "cancel": publication.cancel}),
        "reopen": Step(on_message=publication.read_reopen_reason),
        "bind": Step(buttons={"move": group.move, "keep": group.keep}),
    },
    on_stale=stale,
    commands={
        "review": steps.review,
        "ranking": publication.preview,
        "publish": publication.publish,
        "reopen": publication.reopen,
        "bind": group.bind_in_private,
    },
    group_commands={"bind": group.bind},
    menu={"review": "review_cmd_review", "ranking": "review_cmd_ranking", "publish": "review_cmd_publish"},
)
