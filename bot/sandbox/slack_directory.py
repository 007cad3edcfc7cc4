"""The directory surface: who the bot is (``auth.test``), people (``users.info``), user groups
(``usergroups.users.list``) and conversations (``conversations.open`` / ``history`` /
``replies``)."""

from __future__ import annotations

import copy

from bot.sandbox.slack_http import Json
from bot.sandbox.slack_state import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    MethodTable,
    SlackError,
    SlackState,
)


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
        channel = self._channel(params)
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        limit = int(params.get("limit") or 100)
        top = [m for m in self.messages(channel) if oldest < float(m["ts"]) <= latest]
        top.reverse()
        return {
            "messages": top[:limit],
            "has_more": len(top) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, params: Json) -> Json:
        channel = self._channel(params)
        message = self._find(channel, params.get("ts"))
        if message is None:
            raise SlackError("thread_not_found")
        root_ts = message["thread_ts"] or message["ts"]
        root = self._find(channel, root_ts)
        replies = self.thread(channel, root_ts)
        return {"messages": ([copy.deepcopy(root)] if root else []) + replies, "has_more": False}
