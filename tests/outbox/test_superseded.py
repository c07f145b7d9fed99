"""The sender and a superseded edit: the edit is dropped, the pressed button it carried is still answered."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.outbox import Sender
from bot.port import Answer, Delivery, Message, Owed, Verdict
from bot.units import UnitsOfWork
from storage.db import session_scope
from storage.messages import add_outgoing
from storage.models import OutboxMessage


class Recording:
    """A channel that delivers everything and keeps what it was given."""

    name = "telegram"
    bot = "1"

    def __init__(self) -> None:
        self.delivered: list[Owed] = []

    def is_group(self, chat_id: str) -> bool:
        return False

    async def deliver(self, chat_id: str, owed: Owed) -> Delivery:
        self.delivered.append(owed)
        return Delivery(Verdict.delivered, message_id="7")


async def test_a_superseded_edit_still_answers_the_button_it_carries(engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    chat = "telegram:1:42"
    with session_scope(engine) as session:
        for text, answer in (("Đã bỏ phiếu: 1/7", "press-1"), ("Đã bỏ phiếu: 2/7", None)):
            payload: dict[str, object] = {"reply": {"text": text, "edit_key": "turnout:1"}}
            if answer is not None:
                payload.update(answer=answer, notice=None)
            add_outgoing(session=session, channel="telegram", bot="1", chat_id="42", chat_key=chat,
                         payload=payload, now=now)
    channel = Recording()
    units = UnitsOfWork(engine)
    try:
        await Sender(units, [channel]).flush(chat)
    finally:
        await units.close()
    answers = [owed for owed in channel.delivered if isinstance(owed, Answer)]
    messages = [owed for owed in channel.delivered if isinstance(owed, Message)]
    assert [answer.option_id for answer in answers] == ["press-1"], "the first press answered, once"
    assert [message.reply.text for message in messages] == ["Đã bỏ phiếu: 2/7"], "only the newer edit sent"
    with session_scope(engine) as session:
        states = session.exec(select(OutboxMessage.state).order_by(col(OutboxMessage.id))).all()
    assert states == ["delivered", "delivered"]
