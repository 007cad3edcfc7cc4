"""The reactions surface: emoji on messages. The bot reacts with ``reactions.add`` /
``reactions.remove`` and reads them with ``reactions.get`` (only in channels it is in); people
react through ``react`` / ``unreact`` (the tests, the sandbox).

Reactions live on the message as Slack shows them: ``reactions``, a list of
``{"name", "users", "count"}`` in the order they were first added, absent when there are none.
"""

from __future__ import annotations

import copy

from bot.sandbox.slack_http import Json
from bot.sandbox.slack_state import BOT_USER_ID, MethodTable, SlackError, SlackState


class ReactionMethods(SlackState):
    """Emoji reactions on messages in channels and threads."""

    def _reactions_methods(self) -> MethodTable:
        return {
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "reactions.get": self._reactions_get,
        }

    # ---- what people do

    def react(self, channel: str, ts: str, user: str, name: str) -> Json:
        """`user` adds the `name` emoji to a message; returns the message. SlackError
        ``already_reacted`` if they had, ``message_not_found`` if there is no such message."""
        with self._lock:
            message = self._reacted_on(channel, ts)
            _add(message, user, _emoji(name))
            self._bump()
            return copy.deepcopy(message)

    def unreact(self, channel: str, ts: str, user: str, name: str) -> Json:
        """`user` takes their `name` emoji off a message; returns the message. SlackError
        ``no_reaction`` if they had none, ``message_not_found`` if there is no such message."""
        with self._lock:
            message = self._reacted_on(channel, ts)
            _remove(message, user, _emoji(name))
            self._bump()
            return copy.deepcopy(message)

    # ---- method handlers (called with the lock held; return the body minus "ok")

    def _reactions_add(self, params: Json) -> Json:
        channel = self._member_channel(params)
        message = self._item(channel, params)
        _add(message, BOT_USER_ID, _emoji(params.get("name")))
        return {}

    def _reactions_remove(self, params: Json) -> Json:
        channel = self._member_channel(params)
        message = self._item(channel, params)
        _remove(message, BOT_USER_ID, _emoji(params.get("name")))
        return {}

    def _reactions_get(self, params: Json) -> Json:
        channel = self._member_channel(params)
        message = self._item(channel, params)
        return {"type": "message", "channel": channel, "message": copy.deepcopy(message)}

    def _item(self, channel: str, params: Json) -> Json:
        if not params.get("timestamp"):
            raise SlackError("no_item_specified")
        return self._reacted_on(channel, params["timestamp"])

    def _reacted_on(self, channel: str, ts: object) -> Json:
        message = self._find(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        return message


def _emoji(name: object) -> str:
    """An emoji's name as Slack keeps it: ``thumbsup``, also when given as ``:thumbsup:``."""
    bare = str(name or "").strip().strip(":")
    if not bare:
        raise SlackError("invalid_name")
    return bare


def _add(message: Json, user: str, name: str) -> None:
    reactions: list[Json] = message.setdefault("reactions", [])
    reaction = next((r for r in reactions if r["name"] == name), None)
    if reaction is None:
        reactions.append({"name": name, "users": [user], "count": 1})
        return
    if user in reaction["users"]:
        raise SlackError("already_reacted")
    reaction["users"].append(user)
    reaction["count"] = len(reaction["users"])


def _remove(message: Json, user: str, name: str) -> None:
    reactions: list[Json] = message.get("reactions") or []
    reaction = next((r for r in reactions if r["name"] == name), None)
    if reaction is None or user not in reaction["users"]:
        raise SlackError("no_reaction")
    reaction["users"].remove(user)
    reaction["count"] = len(reaction["users"])
    if not reaction["users"]:
        reactions.remove(reaction)
    if not reactions:
        message.pop("reactions", None)
