"""The views surface: modals (``views.open`` / ``push`` / ``update``) and Home tabs
(``views.publish``), and for the sandbox's page who has which modal open."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.blockkit import validate_blocks
from bot.sandbox.slack_http import Json
from bot.sandbox.slack_state import BOT_ID, TEAM_ID, MethodTable, SlackError, SlackState


class ViewMethods(SlackState):
    """Modals and Home tabs, each view kept as last updated."""

    def _init_views(self) -> None:
        self.home_views: dict[str, Json] = {}
        self.views: dict[str, Json] = {}  # view id -> latest version
        self._opened: list[str] = []
        # For the sandbox: who a trigger id belongs to, so views.open lands with them.
        self.trigger_users: dict[str, str] = {}
        self.view_users: dict[str, str] = {}
        self.closed_views: set[str] = set()

    def _views_methods(self) -> MethodTable:
        return {
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    # ---- workspace accessors (deep copies)

    def opened_views(self) -> list[Json]:
        """Views opened by views.open / views.push, in order, as last updated."""
        with self._lock:
            return [copy.deepcopy(self.views[v]) for v in self._opened]

    def open_view_of(self, user: str) -> Json | None:
        """The modal this user has open, if any (the latest opened, not yet closed)."""
        with self._lock:
            for view_id in reversed(self._opened):
                if self.view_users.get(view_id) == user and view_id not in self.closed_views:
                    return copy.deepcopy(self.views[view_id])
        return None

    # ---- what people do (the sandbox's page)

    def close_view(self, view_id: str) -> None:
        with self._lock:
            self.closed_views.add(view_id)
            self._bump()

    # ---- method handlers (called with the lock held; return the body minus "ok")

    def _views_open(self, params: Json) -> Json:  # views.open and views.push
        self._require(params, "trigger_id", "view")
        view = self._store_view(params["view"])
        self._opened.append(view["id"])
        user = self.trigger_users.get(str(params["trigger_id"]))
        if user:
            self.view_users[view["id"]] = user
        return {"view": view}

    def _views_update(self, params: Json) -> Json:
        view_id = params.get("view_id") or next(
            (
                v["id"]
                for v in self.views.values()
                if params.get("external_id") and v.get("external_id") == params["external_id"]
            ),
            None,
        )
        if view_id not in self.views:
            raise SlackError("not_found")
        if params.get("hash") and params["hash"] != self.views[view_id]["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._store_view(params.get("view"), view_id)}

    def _views_publish(self, params: Json) -> Json:
        self._require(params, "user_id", "view")
        view = self._store_view(params["view"])
        self.home_views[str(params["user_id"])] = view
        return {"view": view}

    def _store_view(self, view: Any, view_id: str | None = None) -> Json:
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["bad view"]})
        errors = validate_blocks(view.get("blocks", []), max_blocks=100)
        if errors:
            messages = [f"[ERROR] {e}" for e in errors]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        view_id = view_id or self._new_id("V")
        stored: Json = {
            "state": {"values": {}},
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "bot_id": BOT_ID,
            "hash": self._new_id("H"),
        }
        self.views[view_id] = stored
        return copy.deepcopy(stored)
