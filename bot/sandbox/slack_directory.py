"""The directory surface: who the bot is (``auth.test``), people (``users.info``), user groups
(``usergroups.users.list``) and conversations (``conversations.open`` / ``history`` /
``replies``).

History and replies read like Slack's: only in channels the bot is in (else
``not_in_channel``), between ``oldest`` and ``latest`` (themselves only with ``inclusive``),
``limit`` at a time with a ``cursor`` for the next page. History is the channel's own messages
(and replies also sent to it), newest first; replies is a thread, its parent first, and is found
by the ts of the parent or of any reply.
"""

from __future__ import annotations

import base64
import copy

from bot.sandbox.slack_http import Json
from bot.sandbox.slack_state import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    MethodTable,
    SlackError,
    SlackState,
    truthy,
    ts_value,
)

# Slack's page sizes: (default, most) for conversations.history and conversations.replies.
HISTORY_LIMIT = (100, 999)
REPLIES_LIMIT = (1000, 1000)


class DirectoryMethods(SlackState):
    """People, groups and conversations; ``users`` overrides what users.info answers."""

    def _init_directory(self) -> None:
        self.users: dict[str, Json] = {}  # per-user overrides merged into users.info answers
        self.usergroups: dict[str, list[str]] = {}
        self.refuse_usergroups: set[str] = set()

    def _directory_methods(self) -> MethodTable:
        return {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
        }

    # ---- method handlers (called with the lock held; return the body minus "ok")

    def _auth_test(self, params: Json) -> Json:
        return {
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team_id": TEAM_ID,
            "user": "casedesk",
            "team": "Test",
            "url": self.workspace_url,
        }

    def _users_info(self, params: Json) -> Json:
        user_id = str(params.get("user", ""))
        if user_id not in self.users and not user_id.startswith(("U", "W")):
            raise SlackError("user_not_found")
        user: Json = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "tz": "Europe/Berlin",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "is_bot": user_id == BOT_USER_ID,
            "deleted": False,
        }
        user.update(self.users.get(user_id, {}))
        user.setdefault(
            "profile",
            {
                "real_name": user["real_name"],
                "display_name": user["name"],
                "email": f"{user['name']}@example.com",
            },
        )
        return {"user": user}

    def _usergroups_users_list(self, params: Json) -> Json:
        group = str(params.get("usergroup", ""))
        if group in self.refuse_usergroups:
            raise SlackError("missing_scope", needed="usergroups:read", provided="chat:write")
        if group not in self.usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _conversations_open(self, params: Json) -> Json:
        if params.get("channel"):
            return {"channel": {"id": self._channel(params)}, "already_open": True}
        users = params.get("users") or ""
        ids = users if isinstance(users, list) else [u for u in str(users).split(",") if u]
        if not ids:
            raise SlackError("users_list_not_supplied")
        channel_id = f"D{ids[0]}" if len(ids) == 1 else "G" + "".join(sorted(ids))
        return {"channel": {"id": channel_id}, "no_op": False, "already_open": False}

    def _conversations_history(self, params: Json) -> Json:
        channel = self._member_channel(params)
        listed = sorted(self.messages(channel), key=lambda m: ts_value(m["ts"]), reverse=True)
        return _page(_window(listed, params), params, HISTORY_LIMIT)

    def _conversations_replies(self, params: Json) -> Json:
        channel = self._member_channel(params)
        self._require(params, "ts")
        message = self._find(channel, params["ts"])
        if message is None:
            raise SlackError("thread_not_found")
        root_ts = message["thread_ts"] or message["ts"]
        root = self._find(channel, root_ts)
        replies = sorted(self.thread(channel, root_ts), key=lambda m: ts_value(m["ts"]))
        listed = ([copy.deepcopy(root)] if root else []) + _window(replies, params)
        return _page(listed, params, REPLIES_LIMIT)


def _window(messages: list[Json], params: Json) -> list[Json]:
    """The messages between `oldest` and `latest`; those two only when `inclusive`."""
    oldest = ts_value(params.get("oldest") or 0, "invalid_ts_oldest")
    latest = ts_value(params["latest"], "invalid_ts_latest") if params.get("latest") else None
    inclusive = truthy(params.get("inclusive"))

    def inside(message: Json) -> bool:
        ts = ts_value(message["ts"])
        after = ts >= oldest if inclusive else ts > oldest
        before = latest is None or (ts <= latest if inclusive else ts < latest)
        return after and before

    return [m for m in messages if inside(m)]


def _page(messages: list[Json], params: Json, limits: tuple[int, int]) -> Json:
    """One page of `messages`: `limit` (within `limits`) from where `cursor` points."""
    default, most = limits
    try:
        limit = int(params.get("limit") or 0) or default
    except ValueError:
        raise SlackError("invalid_limit") from None
    start = _cursor_offset(params.get("cursor"))
    end = start + max(1, min(limit, most))
    more = end < len(messages)
    cursor = base64.b64encode(f"next_ts:{end}".encode()).decode() if more else ""
    return {
        "messages": messages[start:end],
        "has_more": more,
        "response_metadata": {"next_cursor": cursor},
    }


def _cursor_offset(cursor: object) -> int:
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.b64decode(str(cursor), validate=True).decode().partition(":")
        if kind != "next_ts":
            raise ValueError(kind)
        return int(offset)
    except ValueError:
        raise SlackError("invalid_cursor") from None
