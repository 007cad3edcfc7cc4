"""The desk configuration (`app.yaml`): loading, validation and the questions asked of it.

Validation collects every problem with its key path (`teams.billing.agents[2]: ...`) so
`python -m bot check-config` can list them all at once.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.sla.calendars import ALWAYS, CalendarConfig
from bot.sla.policies import Duration, SlaConfig

PRIORITY_KEYS = ("p1", "p2", "p3", "p4")
DEFAULT_PRIORITY_LABELS = {"p1": "Urgent", "p2": "High", "p3": "Normal", "p4": "Low"}

_MEMBER_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_TEAM_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class ConfigError(Exception):
    """`app.yaml` cannot be used; `problems` holds one line per problem, each with its key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _member_id(value: str) -> str:
    if not _MEMBER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user or usergroup ID (U…, W… or S…)")
    return value


def _channel_id(value: str) -> str:
    if not _CHANNEL_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack channel ID (C… or G…)")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"{value!r} is not a time zone (use an IANA name like Europe/Madrid)"
        ) from None
    return value


MemberId = Annotated[str, AfterValidator(_member_id)]
ChannelId = Annotated[str, AfterValidator(_channel_id)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsatSettings(_Strict):
    """Ask the requester "How did we do?" after a case is closed."""

    enabled: bool = True
    delay: Duration = timedelta(0)


# Messages that only say thanks: in a help channel they open no case. Matched without case,
# punctuation or emoji (bot/intake/messages.py).
DEFAULT_PLEASANTRIES = (
    "thanks",
    "thank you",
    "thanks a lot",
    "thank you so much",
    "thx",
    "ty",
    "cheers",
    "ok",
    "okay",
    "ok thanks",
    "great",
    "perfect",
    "got it",
    "+1",
)


def _emoji_name(value: str) -> str:
    name = value.strip().strip(":").strip()
    if not name or not re.fullmatch(r"[a-z0-9_+'-]{1,100}", name):
        raise ValueError(f"{value!r} is not an emoji name like ticket or :ticket:")
    return name


EmojiName = Annotated[str, AfterValidator(_emoji_name)]


class IntakeSettings(_Strict):
    """How Slack messages become the team's cases (besides the message shortcut)."""

    # A reaction with this emoji on a message opens a case from it (its name, colons optional).
    emoji: EmojiName = "ticket"
    # Every new top-level message in the team's `routes_from` channels opens a case.
    auto: bool = False
    # The same person's next top-level messages within this time join their case.
    group_within: Duration = timedelta(minutes=3)
    ignore: list[str] = Field(default_factory=lambda: list(DEFAULT_PLEASANTRIES))


class AssignmentSettings(_Strict):
    """Who gets a new case: nobody until someone claims it (`manual`), the next agent in
    turn (`round_robin`), or the agent with the fewest open cases (`least_loaded`)."""

    mode: Literal["manual", "round_robin", "least_loaded"] = "manual"
    # An agent with this many open cases assigned gets no more automatically.
    max_open: int | None = Field(default=None, ge=1)
    # An assignee who has not responded by then (business time) loses the case to the next.
    reassign_after: Duration | None = None
    max_reassign: int = Field(default=2, ge=0)


class ReactionSettings(_Strict):
    """Agents' reactions on a case's card or its conversation's first message."""

    claim: EmojiName = "eyes"
    resolve: EmojiName = "white_check_mark"


class Team(_Strict):
    key: str = ""  # filled in from the mapping key
    name: str
    channel: ChannelId
    alert_channel: ChannelId | None = None
    agents: list[MemberId] = Field(default_factory=list)
    managers: list[MemberId] = Field(default_factory=list)
    routes_from: list[ChannelId] = Field(default_factory=list)
    default_priority: str = "p3"
    csat: CsatSettings = Field(default_factory=CsatSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    assignment: AssignmentSettings = Field(default_factory=AssignmentSettings)
    reactions: ReactionSettings = Field(default_factory=ReactionSettings)
    # Where the team's days begin and end (summaries, `/case stats`, App Home's "today");
    # unset: its default priority's SLA calendar's zone, else UTC (SummaryService.zone).
    timezone: TimeZoneName | None = None

    @property
    def alerts_channel(self) -> str:
        return self.alert_channel or self.channel

    @model_validator(mode="after")
    def _has_people(self) -> Team:
        if not self.agents and not self.managers:
            raise ValueError("a team needs at least one agent or manager")
        return self


class SummarySettings(_Strict):
    """When the team summaries are posted, in each team's time zone."""

    enabled: bool = True
    daily_at: str = "09:00"
    weekly_on: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    chart: bool = True

    @field_validator("daily_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.match(r"^(\d{1,2}):(\d{2})$", value.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"{value!r} is not a time of day like 09:00")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @property
    def daily_time(self) -> time:
        hours, minutes = self.daily_at.split(":")
        return time(int(hours), int(minutes))


class DeskConfig(_Strict):
    default_team: str
    priorities: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PRIORITY_LABELS))
    teams: dict[str, Team]
    sla: SlaConfig | None = None
    calendars: dict[str, CalendarConfig] = Field(default_factory=dict)
    summary: SummarySettings = Field(default_factory=SummarySettings)

    @field_validator("priorities", mode="before")
    @classmethod
    def _priority_labels(cls, value: Any) -> Any:
        """Priorities are written `p1: Urgent` or `p1: {label: Urgent}`."""
        if not isinstance(value, dict):
            return value
        labels: dict[str, Any] = {}
        for key, spec in value.items():
            labels[key] = spec.get("label") if isinstance(spec, dict) else spec
        return labels

    @field_validator("priorities")
    @classmethod
    def _known_priorities(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [key for key in value if key not in PRIORITY_KEYS]
        if unknown:
            raise ValueError(f"unknown priority {unknown[0]!r}; use p1, p2, p3 and p4")
        return {key: value.get(key) or DEFAULT_PRIORITY_LABELS[key] for key in PRIORITY_KEYS}

    @field_validator("teams", mode="before")
    @classmethod
    def _team_keys(cls, value: Any) -> Any:
        """Each team knows its own key; an empty mapping is a mistake, not a quiet desk."""
        if not isinstance(value, dict):
            return value
        if not value:
            raise ValueError("at least one team is needed")
        return {
            key: {**spec, "key": key} if isinstance(spec, dict) else spec
            for key, spec in value.items()
        }

    # Questions the rest of the app asks of the desk.

    def team(self, key: str) -> Team:
        return self.teams[key]

    def team_for_channel(self, channel_id: str | None) -> Team:
        """The team a channel routes to: its own channel, a routed channel, else the default."""
        for team in self.teams.values():
            if channel_id and (channel_id == team.channel or channel_id in team.routes_from):
                return team
        return self.teams[self.default_team]

    def routed_team(self, channel_id: str) -> Team | None:
        """The team whose help channel (`routes_from`) this is, if any."""
        return next((t for t in self.teams.values() if channel_id in t.routes_from), None)

    def priority_label(self, key: str) -> str:
        return self.priorities.get(key, key)


def _cross_reference_problems(data: dict[str, Any]) -> list[str]:
    """Checks that span sections. They read the raw mapping defensively, so they report even
    when other parts of the file are broken, and check-config lists everything in one go."""
    problems: list[str] = []
    teams = data.get("teams") if isinstance(data.get("teams"), dict) else {}
    assert isinstance(teams, dict)
    default_team = data.get("default_team")
    if isinstance(default_team, str) and teams and default_team not in teams:
        problems.append(f"default_team: {default_team!r} is not one of the teams")
    routed: dict[str, str] = {}
    for key, team in teams.items():
        if not isinstance(key, str) or not _TEAM_KEY.match(key):
            problems.append(
                f"teams.{key}: a team key must be lower-case letters, digits, '-' or '_' "
                "and start with a letter"
            )
        if not isinstance(team, dict):
            continue
        default_priority = team.get("default_priority", "p3")
        if default_priority not in PRIORITY_KEYS:
            problems.append(
                f"teams.{key}.default_priority: {default_priority!r} is not a priority "
                "(p1, p2, p3 or p4)"
            )
        routes = team.get("routes_from")
        for index, channel in enumerate(routes if isinstance(routes, list) else []):
            if not isinstance(channel, str):
                continue  # its type is reported by the schema check
            if channel in routed:
                problems.append(
                    f"teams.{key}.routes_from[{index}]: {channel} already routes to "
                    f"team {routed[channel]!r}"
                )
            routed[str(channel)] = str(key)
    problems += _sla_problems(data, teams)
    return problems


def _sla_problems(data: dict[str, Any], teams: dict[Any, Any]) -> list[str]:
    sla = data.get("sla")
    policies = sla.get("teams") if isinstance(sla, dict) else None
    if not isinstance(policies, dict):
        return []
    raw_calendars = data.get("calendars")
    calendars = set(raw_calendars) if isinstance(raw_calendars, dict) else set()
    problems = []
    for team_key, entries in policies.items():
        if team_key not in teams:
            problems.append(f"sla.teams.{team_key}: {team_key!r} is not one of the teams")
        for priority, spec in entries.items() if isinstance(entries, dict) else []:
            calendar = spec.get("calendar") if isinstance(spec, dict) else None
            if isinstance(calendar, str) and calendar != ALWAYS and calendar not in calendars:
                problems.append(
                    f"sla.teams.{team_key}.{priority}.calendar: {calendar!r} is not one of the "
                    f"calendars ({', '.join(sorted(calendars)) or 'none defined'}) nor {ALWAYS!r}"
                )
    return problems


def load_desk_config(path: str | Path) -> DeskConfig:
    """Read and validate `app.yaml`, raising ConfigError with every problem found."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(source, [f"cannot read the file: {error.strerror or error}"]) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            source, [f"cannot read the file: it is not UTF-8 text (byte {error.start})"]
        ) from None
    return parse_desk_config(text, source=source)


class _DeskLoader(yaml.SafeLoader):
    """Safe YAML in which an unquoted `daily_at: 10:00` stays the text "10:00": YAML 1.1
    reads digits with colons as a base-60 number (600), which no one writing app.yaml means."""


_DeskLoader.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _digit in "0123456789":
    _DeskLoader.yaml_implicit_resolvers.setdefault(_digit, []).insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^[0-9]+(?::[0-9]+)+$"))
    )


def parse_desk_config(text: str, *, source: str = "app.yaml") -> DeskConfig:
    try:
        data = yaml.load(text, Loader=_DeskLoader)  # a SafeLoader: builds plain data only
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(source, [f"{where}invalid YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, ["the file must be a mapping with `teams:` and `default_team:`"])
    problems = _cross_reference_problems(data)
    try:
        config = DeskConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(source, _describe(error) + problems) from None
    if problems:
        raise ConfigError(source, problems)
    return config


def _describe(error: ValidationError) -> list[str]:
    problems: list[str] = []
    for item in error.errors():
        path = _key_path(item["loc"])
        problems.append(f"{path}: {_message(item)}" if path else _message(item))
    return problems


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith("function-"):
            path += f".{part}" if path else str(part)
    return path


def _message(item: Any) -> str:
    kind = item["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown key (check the spelling)"
    message = str(item["msg"])
    return message.removeprefix("Value error, ")
