"""The chat surface: ``chat.*`` methods, ephemeral messages, what Slack shows for posts to
response URLs, and people writing (and deleting) messages: the sandbox's page and the tests.
The bot posts only in channels it is in (else ``not_in_channel``)."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.blockkit import validate_blocks
from bot.sandbox.slack_http import Json
from bot.sandbox.slack_state import MethodTable, SlackError, SlackState


class ChatMethods(SlackState):
    """Messages in channels and threads, and ephemeral messages."""

    def _init_chat(self) -> None:
        self._ephemerals: list[Json] = []
        # For the sandbox: who a response URL belongs to, so respond() lands with them.
        self.response_contexts: dict[str, Json] = {}

    def _chat_methods(self) -> MethodTable:
        return {
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
        }

    # ---- workspace accessors (deep copies)

    def ephemerals(self, user: str | None = None) -> list[Json]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals if user in (None, e["user"])]

    # ---- what people do (the sandbox's page)

    def post_as_user(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: list[Json] | None = None,
        subtype: str | None = None,
        at: float | None = None,
    ) -> Json:
        """A person writes in a channel or thread; returns the message. `files` (each
        ``{"id", "name", "title", "mimetype"}``) and `subtype` (e.g. ``file_share``) are kept
        on it as Slack does; `at` (seconds since the epoch) sets its ts, kept unique."""
        extra: dict[str, Any] = {"user": user, "bot_id": None}
        if files is not None:
            extra["files"] = copy.deepcopy(files)
        if subtype is not None:
            extra["subtype"] = subtype
        with self._lock:
            params = {"text": text, "thread_ts": thread_ts}
            message = self._add_message(channel, params, at=at, **extra)
            self._bump()
            return copy.deepcopy(message)

    def delete_message(self, channel: str, ts: str) -> Json:
        """The message is deleted (by its author, say): history, replies, updates and
        reactions no longer find it. Returns it; SlackError("message_not_found") if none."""
        with self._lock:
            message = self._remove_message(channel, ts)
            self._bump()
            return copy.deepcopy(message)

    # ---- method handlers (called with the lock held; return the body minus "ok")

    def _chat_post_message(self, params: Json) -> Json:
        channel = self._member_channel(params)
        self._check_content(params)
        message = self._add_message(channel, params)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_update(self, params: Json) -> Json:
        channel = self._channel(params)
        message = self._find(channel, params.get("ts"))
        if message is None:
            raise SlackError("message_not_found")
        self._check_content(params, required=False)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, params: Json) -> Json:
        channel = self._member_channel(params)
        self._require(params, "user")
        self._check_content(params)
        ephemeral = {
            "ts": self._next_ts(),
            "channel": channel,
            "user": params["user"],
            "text": params.get("text", ""),
            "blocks": params.get("blocks"),
            "thread_ts": params.get("thread_ts"),
        }
        self._ephemerals.append(ephemeral)
        return {"message_ts": ephemeral["ts"]}

    def _chat_get_permalink(self, params: Json) -> Json:
        channel = self._channel(params)
        self._require(params, "message_ts")
        ts = str(params["message_ts"])
        link = f"{self.workspace_url}archives/{channel}/p{ts.replace('.', '')}"
        message = self._find(channel, ts)
        if message and message["thread_ts"] not in (None, ts):
            link += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _chat_delete(self, params: Json) -> Json:
        channel = self._channel(params)
        message = self._remove_message(channel, params.get("ts"))
        return {"channel": channel, "ts": message["ts"]}

    def _check_content(self, params: Json, *, required: bool = True) -> None:
        blocks = params.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            errors = validate_blocks(blocks)
            if errors:
                raise SlackError("invalid_blocks", errors=errors)
            if not params.get("text"):
                self.warnings.append("missing_text_fallback")
        elif required and not params.get("text") and not params.get("attachments"):
            raise SlackError("no_text")

    # ---- response URLs

    def _show_response(self, context: Json, payload: Json) -> None:
        """What Slack does with a response URL post: a message for everyone (in_channel),
        a replacement of the ephemeral message clicked, or a new ephemeral message."""
        channel, user = context["channel"], context["user"]
        if payload.get("response_type") == "in_channel":
            self._add_message(channel, payload)
            return
        replaced = next((e for e in self._ephemerals if e["ts"] == context.get("replace_ts")), None)
        if payload.get("replace_original") and replaced is not None:
            replaced.update(text=payload.get("text", ""), blocks=payload.get("blocks"))
            return
        self._ephemerals.append(
            {
                "ts": self._next_ts(),
                "channel": channel,
                "user": user,
                "text": payload.get("text", ""),
                "blocks": payload.get("blocks"),
                "thread_ts": None,
            }
        )
