"""Updates of one chat are processed in order, even when one arrives as another is released."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.telegram_channel import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    update = Update.de_json({
        "update_id": update_id,
        "message": {"message_id": update_id, "date": 0, "text": f"m{update_id}",
                    "chat": {"id": chat_id, "type": "private"},
                    "from": {"id": chat_id, "is_bot": False, "first_name": "Lan"}},
    }, None)
    assert update is not None
    return update


async def test_a_later_update_never_overtakes_one_still_waiting_for_its_chat() -> None:
    processor = PerChatUpdateProcessor(16)
    events: list[str] = []
    first_may_end = asyncio.Event()

    async def first() -> None:
        events.append("1 start")
        await first_may_end.wait()
        events.append("1 end")

    async def work(name: str) -> None:
        events.append(f"{name} start")
        await asyncio.sleep(0.05)
        events.append(f"{name} end")

    one = asyncio.create_task(processor.do_process_update(_update(1, 7), first()))
    await asyncio.sleep(0)
    two = asyncio.create_task(processor.do_process_update(_update(2, 7), work("2")))
    await asyncio.sleep(0)
    # The first ends; the third arrives after its release and before the second resumes.
    first_may_end.set()
    await asyncio.sleep(0)
    three = asyncio.create_task(processor.do_process_update(_update(3, 7), work("3")))
    await asyncio.gather(one, two, three)
    assert events == ["1 start", "1 end", "2 start", "2 end", "3 start", "3 end"]


async def test_different_chats_run_at_the_same_time() -> None:
    processor = PerChatUpdateProcessor(16)
    running: list[int] = []
    both_in = asyncio.Event()

    async def work(chat: int) -> None:
        running.append(chat)
        if len(running) == 2:
            both_in.set()
        await asyncio.wait_for(both_in.wait(), 5)

    await asyncio.gather(processor.do_process_update(_update(1, 7), work(7)),
                         processor.do_process_update(_update(2, 8), work(8)))
    assert sorted(running) == [7, 8]
