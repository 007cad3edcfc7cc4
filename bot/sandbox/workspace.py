"""Who and where in the sandbox: the people to act as, and the channels to show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.desk import DeskConfig

REQUESTER_ID = "U0RILEY"
_FIRST_NAMES = ("Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jun")


@dataclass(frozen=True)
class Persona:
    user_id: str
    name: str
    role: str  # requester | agent | manager
    teams: tuple[str, ...]

    @property
    def handle(self) -> str:
        return self.name.split(" ")[0].lower()

    def as_json(self) -> dict[str, Any]:
        return {"id": self.user_id, "name": self.name, "role": self.role, "teams": list(self.teams)}


def personas(desk: DeskConfig) -> list[Persona]:
    """A requester, then every person named in app.yaml (user groups cannot be acted as)."""
    roles: dict[str, tuple[str, list[str]]] = {}
    for key, team in desk.teams.items():
        for member in team.agents:
            roles.setdefault(member, ("agent", []))[1].append(key)
        for member in team.managers:
            role, teams = roles.get(member, ("manager", []))
            roles[member] = ("manager", [*teams, key])
    people = [Persona(REQUESTER_ID, "Riley (requester)", "requester", ())]
    names = iter(_FIRST_NAMES)
    for member, (role, teams) in roles.items():
        if member.startswith("S"):
            continue
        first = next(names, member)
        people.append(Persona(member, f"{first} ({role})", role, tuple(dict.fromkeys(teams))))
    return people


def channel_directory(desk: DeskConfig) -> list[dict[str, str]]:
    """Team channels, alert channels and the channels that route to a team, named after it."""
    channels: dict[str, dict[str, str]] = {}
    for key, team in desk.teams.items():
        channels.setdefault(team.channel, {"id": team.channel, "name": key, "kind": "team"})
        if team.alert_channel:
            channels.setdefault(
                team.alert_channel,
                {"id": team.alert_channel, "name": f"{key}-alerts", "kind": "alerts"},
            )
        for index, routed in enumerate(team.routes_from, start=1):
            suffix = "" if index == 1 else f"-{index}"
            channels.setdefault(
                routed, {"id": routed, "name": f"{key}-requests{suffix}", "kind": "requests"}
            )
    return list(channels.values())
