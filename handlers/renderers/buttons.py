"""The keyboard maker a flow hands to a renderer: buttons bound to the current prompt's nonce."""

from __future__ import annotations

from typing import Protocol

from handlers.chat import Option


class Buttons(Protocol):
    """Makes a button of the current prompt (the flow binds it to its prefix and the turn's nonce)."""

    def __call__(self, label: str, action: str, *arguments: object) -> Option: ...
