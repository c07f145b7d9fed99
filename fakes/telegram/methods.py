"""The Bot API methods the fake answers, each checked the way Telegram checks it."""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fakes.telegram.checks import check_markup, render_caption, render_text, upload
from fakes.telegram.errors import ApiError
from fakes.telegram.models import CallbackAnswer, FakeChat, JSONDict, SentMessage
from fakes.telegram.state import ServerState, inline_markup
from fakes.telegram.updates import UpdateQueue

__all__ = ["BotApiMethods"]

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip

_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class BotApiMethods:
    """The answers of the Bot API methods (all but getUpdates, which waits) over the state."""

    def __init__(self, state: ServerState, updates: UpdateQueue) -> None:
        """Answer over ``state``; the webhook methods go to ``updates``."""
        self.state = state
        self.updates = updates
        self.callback_answers: list[CallbackAnswer] = []
        # answerCallbackQuery calls per query id, also those refused (a second answer).
        self.answer_attempts: Counter[str] = Counter()
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getme": self._m_get_me,
            "logout": self._m_true,
            "close": self._m_true,
            "setwebhook": self._m_set_webhook,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "senddocument": self._m_send_document,
            "sendphoto": self._m_send_photo,
            "editmessagetext": self._m_edit_message_text,
            "editmessagecaption": self._m_edit_message_caption,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback_query,
            "sendchataction": self._m_send_chat_action,
            "setmycommands": self._m_set_my_commands,
            "getmycommands": self._m_get_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "getfile": self._m_get_file,
        }

    # ------------------------------------------------------------------ messages

    def _reply_to(self, params: JSONDict, chat_id: int) -> int | None:
        reply = params.get("reply_parameters")
        message_id: Any = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = params.get("reply_to_message_id")
        if message_id is None:
            return None
        if self.state.lookup_message_json(chat_id, int(message_id)) is None:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return int(message_id)

    def _new_sent(self, method: str, chat: FakeChat, params: JSONDict, **fields: Any) -> JSONDict:
        markup = check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(params, chat.id)
        sm = SentMessage(
            method=method,
            chat_id=chat.id,
            message_id=self.state.alloc_message_id(chat.id),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            date=int(time.time()),
            reply_to_message_id=reply_to,
            params=params,
            **fields,
        )
        self.state.current[(chat.id, sm.message_id)] = dataclasses.replace(sm)
        self.state.record(sm)
        return self.state.message_json(sm)

    def _editable(self, params: JSONDict) -> SentMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self.state.resolve_chat(params)
        try:
            message_id = int(params.get("message_id") or 0)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: message_id is invalid") from exc
        current = self.state.current.get((chat.id, message_id))
        if current is None or current.deleted:
            if (chat.id, message_id) in self.state.user_messages:
                raise ApiError(400, "Bad Request: message can't be edited")
            raise ApiError(400, "Bad Request: message to edit not found")
        return current

    def _apply_edit(self, method: str, current: SentMessage, params: JSONDict) -> JSONDict:
        current.edit_date = int(time.time())
        snapshot = dataclasses.replace(current, method=method, params=params)
        self.state.record(snapshot)
        return self.state.message_json(current)

    # ------------------------------------------------------------------ Bot API methods

    def _m_true(self, params: JSONDict) -> bool:
        return True

    def _m_get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.state.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_set_webhook(self, params: JSONDict) -> bool:
        self.updates.set_webhook(params)
        return True

    def _m_delete_webhook(self, params: JSONDict) -> bool:
        self.updates.delete_webhook(params)
        return True

    def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        return self.updates.webhook_info()

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat = self.state.resolve_chat(params)
        plain, entities = render_text(params)
        return self._new_sent(
            "sendMessage",
            chat,
            params,
            text=str(params.get("text")),
            plain_text=plain,
            entities=entities,
        )

    def _send_file(self, method: str, field: str, params: JSONDict) -> JSONDict:
        chat = self.state.resolve_chat(params)
        plain, entities = render_caption(params)
        stored = upload(self.state, params, field, field)
        caption = params.get("caption")
        return self._new_sent(
            method,
            chat,
            params,
            text=None if caption is None else str(caption),
            plain_text=plain,
            entities=entities,
            kind=field,
            file_name=stored.file_name,
            file_bytes=stored.content,
            mime_type=stored.mime_type,
            file_id=stored.file_id,
        )

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        return self._send_file("sendDocument", "document", params)

    def _m_send_photo(self, params: JSONDict) -> JSONDict:
        return self._send_file("sendPhoto", "photo", params)

    def _m_edit_message_text(self, params: JSONDict) -> JSONDict:
        current = self._editable(params)
        if current.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        plain, entities = render_text(params)
        markup = check_markup(params.get("reply_markup"))
        if (
            plain == current.plain_text
            and entities == current.entities
            and inline_markup(markup) == inline_markup(current.reply_markup)
        ):
            raise ApiError(400, _NOT_MODIFIED)
        current.text = str(params.get("text"))
        current.parse_mode = params.get("parse_mode")
        current.plain_text, current.entities = plain, entities
        current.reply_markup = markup  # no reply_markup removes the inline keyboard
        return self._apply_edit("editMessageText", current, params)

    def _m_edit_message_caption(self, params: JSONDict) -> JSONDict:
        current = self._editable(params)
        if current.kind == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        plain, entities = render_caption(params)
        markup = check_markup(params.get("reply_markup"))
        if (
            plain == current.plain_text
            and entities == current.entities
            and inline_markup(markup) == inline_markup(current.reply_markup)
        ):
            raise ApiError(400, _NOT_MODIFIED)
        caption = params.get("caption")
        current.text = None if caption is None else str(caption)
        current.parse_mode = params.get("parse_mode")
        current.plain_text, current.entities = plain, entities
        current.reply_markup = markup
        return self._apply_edit("editMessageCaption", current, params)

    def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        current = self._editable(params)
        markup = check_markup(params.get("reply_markup"))
        if inline_markup(markup) == inline_markup(current.reply_markup):
            raise ApiError(400, _NOT_MODIFIED)
        current.reply_markup = markup
        return self._apply_edit("editMessageReplyMarkup", current, params)

    def _m_delete_message(self, params: JSONDict) -> bool:
        chat = self.state.resolve_chat(params)
        key = (chat.id, int(params.get("message_id") or 0))
        current = self.state.current.get(key)
        if current is not None and not current.deleted:
            current.deleted = True
            return True
        if self.state.user_messages.pop(key, None) is not None:
            return True
        raise ApiError(400, "Bad Request: message to delete not found")

    def _m_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        self.answer_attempts[query_id] += 1
        pending = self.state.pending_callbacks.pop(query_id, None)
        if pending is None:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        cache_time = params.get("cache_time")
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                user_id=pending[0],
                data=pending[1],
                text=None if text is None else str(text),
                show_alert=bool(params.get("show_alert")),
                url=params.get("url"),
                cache_time=None if cache_time is None else int(cache_time),
            )
        )
        if text and self.state.chronicle is not None:
            self.state.note_toast(self.state.chronicle, pending[0], str(text))
        return True

    def _m_send_chat_action(self, params: JSONDict) -> bool:
        chat = self.state.resolve_chat(params)
        action = str(params.get("action") or "")
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict) or not scope.get("type"):
            return "default"
        parts = [str(scope["type"])]
        parts.extend(str(scope[k]) for k in ("chat_id", "user_id") if k in scope)
        return ":".join(parts)

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        return self._scope_key(params.get("scope")), str(params.get("language_code") or "")

    def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        parsed: list[tuple[str, str]] = []
        for item in commands:
            if not isinstance(item, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand")
            name = str(item.get("command", ""))
            description = str(item.get("description", ""))
            if not _COMMAND_NAME_RE.match(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((name, description))
        language = str(params.get("language_code") or "")
        if language and not re.match(r"^[a-z]{2}$", language):
            raise ApiError(400, "Bad Request: LANG_CODE_INVALID")
        key = self._commands_key(params)
        if parsed:
            self.commands[key] = parsed
        else:
            self.commands.pop(key, None)
        return True

    def _m_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return [
            {"command": name, "description": description}
            for name, description in self.commands.get(self._commands_key(params), [])
        ]

    def _m_delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _m_get_file(self, params: JSONDict) -> JSONDict:
        stored = self.state.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.to_file()
