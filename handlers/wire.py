"""Replies kept as JSON: the outbox holds what must go out, files as their makers' data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from handlers.chat import KeptFile, Option, Reply, WebPage
from handlers.renderers.files import dump_file, load_file


def dump_reply(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-ready data (its files as their makers' data)."""
    return {
        "text": str(reply.text),
        "options": [[[option.label, option.data, *([asdict(option.page)] if option.page else []),
                       *([option.command] if option.command else [])]
                     for option in row] for row in reply.options],
        "files": [dump_file(file) for file in reply.files],
        "chat_id": reply.chat_id,
        "edit": reply.edit,
        "remember_as": reply.remember_as,
        "edit_key": reply.edit_key,
        "resend": [asdict(kept) for kept in reply.resend],
        "protect": reply.protect,
        "menu": reply.menu,
        "typed_numbers": reply.typed_numbers,
        "minor_edit": reply.minor_edit,
    }


def load_reply(data: dict[str, Any]) -> Reply:
    """A reply back from `dump_reply`."""
    return Reply(
        text=str(data.get("text") or ""),
        options=tuple(tuple(_option(option) for option in row) for row in data.get("options") or ()),
        files=tuple(load_file(file) for file in data.get("files") or ()),
        chat_id=data.get("chat_id"),
        edit=bool(data.get("edit")),
        remember_as=data.get("remember_as"),
        edit_key=data.get("edit_key"),
        resend=tuple(KeptFile(**kept) for kept in data.get("resend") or ()),
        protect=bool(data.get("protect")),
        menu=data.get("menu"),
        typed_numbers=bool(data.get("typed_numbers")),
        minor_edit=bool(data.get("minor_edit")),
    )


def _option(kept: list[Any]) -> Option:
    """An option back: `[label, data]`, then a web page (an object) and/or a command to type (text)."""
    page = next((WebPage(**extra) for extra in kept[2:] if isinstance(extra, dict)), None)
    command = next((str(extra) for extra in kept[2:] if isinstance(extra, str)), None)
    return Option(str(kept[0]), str(kept[1]), page=page, command=command)
