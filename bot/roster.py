"""Who is an agent or a manager of which team, with Slack usergroups expanded."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.desk import DeskConfig, Team

log = logging.getLogger(__name__)

GROUP_CACHE_TTL = timedelta(minutes=5)
# After Slack refuses (missing scope, outage) ask again sooner, but not on every request.
GROUP_FAILURE_TTL = timedelta(minutes=1)


class UsergroupDirectory(Protocol):
    def usergroup_members(self, group_id: str) -> list[str]:
        """Members of a usergroup (S…); raises UsergroupLookupError when Slack refuses."""
        ...


class UsergroupLookupError(Exception):
    pass


@dataclass(frozen=True)
class _CachedGroup:
    members: frozenset[str]
    fetched_at: datetime
    ok: bool


class Roster:
    """Answers role questions for the services. Usergroups listed in `app.yaml` are resolved
    through Slack and cached; when Slack refuses, only the user IDs listed directly count."""

    def __init__(self, desk: DeskConfig, directory: UsergroupDirectory, clock: Clock) -> None:
        self._desk = desk
        self._directory = directory
        self._clock = clock
        self._cache: dict[str, _CachedGroup] = {}
        self._lock = threading.Lock()

    def agents(self, team: Team) -> frozenset[str]:
        return self._expand(team.agents)

    def agents_in_turn(self, team: Team) -> list[str]:
        """The team's agents in app.yaml's order (a user group's members where it is listed,
        sorted), without its managers: whom automatic assignment goes round."""
        managers, seen = self.managers(team), set()
        ordered: list[str] = []
        for member in team.agents:
            group = sorted(self._group(member)) if member.startswith("S") else [member]
            for user in group:
                if user not in managers and user not in seen:
                    seen.add(user)
                    ordered.append(user)
        return ordered

    def managers(self, team: Team) -> frozenset[str]:
        return self._expand(team.managers)

    def is_manager(self, team: Team, user_id: str) -> bool:
        return user_id in self.managers(team)

    def is_agent(self, team: Team, user_id: str) -> bool:
        """Agents of the team; managers count as agents, they can work cases too."""
        return user_id in self.agents(team) or self.is_manager(team, user_id)

    def warm(self) -> None:
        """Resolve every user group now (a cache hit unless expired), so the role checks made
        inside a database transaction never wait for Slack while holding a lock."""
        for team in self._desk.teams.values():
            self._expand(team.agents)
            self._expand(team.managers)

    def teams_of(self, user_id: str) -> list[Team]:
        return [team for team in self._desk.teams.values() if self.is_agent(team, user_id)]

    def _expand(self, member_ids: list[str]) -> frozenset[str]:
        users = {member for member in member_ids if not member.startswith("S")}
        for group_id in (member for member in member_ids if member.startswith("S")):
            users |= self._group(group_id)
        return frozenset(users)

    def _group(self, group_id: str) -> frozenset[str]:
        now = self._clock.now()
        with self._lock:
            cached = self._cache.get(group_id)
        if cached and now - cached.fetched_at < (
            GROUP_CACHE_TTL if cached.ok else GROUP_FAILURE_TTL
        ):
            return cached.members
        try:
            fresh = _CachedGroup(frozenset(self._directory.usergroup_members(group_id)), now, True)
        except UsergroupLookupError as error:
            log.warning(
                "usergroup %s could not be resolved (%s); using listed users", group_id, error
            )
            # Keep the last good answer if there is one: a blip should not strip everyone's role.
            members = cached.members if cached and cached.ok else frozenset()
            fresh = _CachedGroup(members, now, False)
        with self._lock:
            self._cache[group_id] = fresh
        return fresh.members
