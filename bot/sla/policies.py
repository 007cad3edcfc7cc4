"""SLA policies and timers.

Two targets run per case: first response (from opening until the first agent reply in the
thread; never paused) and resolution (from opening until close, paused while pending, resumed
from the remaining budget after a reopen). Both count business time of the policy's calendar.

The timers are derived from the case's audit trail, so they can always be recomputed (after a
priority or team change the whole history is replayed against the new policy) and explained
(`/case sla N`). The resulting due and warning times are stored on the case, indexed, so the
scheduler finds due cases with one range query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.sla.calendars import ALWAYS, BusinessCalendar, CalendarConfig
from models import Case, CaseAction, CaseEvent, CaseStatus

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)
TARGET_LABELS = {FIRST_RESPONSE: "first response", RESOLUTION: "resolution"}
_RUNNING = {CaseStatus.OPEN.value, CaseStatus.IN_PROGRESS.value}
_DURATION = re.compile(r"^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?$")


def parse_duration(value: object) -> timedelta:
    """`15m`, `4h`, `2d`, `1h30m`. A day is 24 hours of counted time."""
    if isinstance(value, timedelta):
        return value
    text = str(value).strip().lower()
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration like 15m, 4h, 2d or 1h30m")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if duration <= timedelta(0):
        raise ValueError(f"{value!r} must be longer than zero")
    return duration


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class PolicySpec(BaseModel):
    """One policy entry; fields left out are taken from the team's `default` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_response: Duration | None = None
    resolution: Duration | None = None
    warn_at: float | None = Field(default=None, gt=0, lt=1)
    calendar: str | None = None
    on_breach: Literal["alert", "escalate"] | None = None


class SlaConfig(BaseModel):
    """The `sla:` section of app.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check_every: Duration = timedelta(minutes=1)
    digest_threshold: int = Field(default=5, ge=1)
    # team key -> {"default" | "p1".."p4" -> policy}
    teams: dict[str, dict[Literal["default", "p1", "p2", "p3", "p4"], PolicySpec]] = Field(
        default_factory=dict
    )


@dataclass(frozen=True)
class SlaPolicy:
    first_response: timedelta | None
    resolution: timedelta | None
    warn_at: float
    calendar: BusinessCalendar
    on_breach: str

    def target(self, name: str) -> timedelta | None:
        return self.first_response if name == FIRST_RESPONSE else self.resolution


class SlaPolicies:
    """Resolves the policy for a team and priority, with calendars built once and each
    policy resolved once (app.yaml's `sla:` does not change while the desk runs)."""

    def __init__(self, sla: SlaConfig | None, calendars: dict[str, CalendarConfig] | None) -> None:
        self.config = sla or SlaConfig()
        self.calendars = {
            name: BusinessCalendar(name, spec) for name, spec in (calendars or {}).items()
        }
        self.calendars[ALWAYS] = BusinessCalendar.always()
        self._resolved: dict[tuple[str, str], SlaPolicy | None] = {}

    def policy(self, team_key: str, priority: str) -> SlaPolicy | None:
        key = (team_key, priority)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(team_key, priority)
        return self._resolved[key]

    def _resolve(self, team_key: str, priority: str) -> SlaPolicy | None:
        entries = self.config.teams.get(team_key)
        if not entries:
            return None
        default = entries.get("default", PolicySpec())
        specific = entries.get(priority, PolicySpec())  # type: ignore[call-overload]

        def pick(name: str) -> object:
            own = getattr(specific, name)
            return own if own is not None else getattr(default, name)

        first_response, resolution = pick("first_response"), pick("resolution")
        if first_response is None and resolution is None:
            return None
        return SlaPolicy(
            first_response=first_response,  # type: ignore[arg-type]
            resolution=resolution,  # type: ignore[arg-type]
            warn_at=float(pick("warn_at") or 0.75),  # type: ignore[arg-type]
            calendar=self.calendars[str(pick("calendar") or ALWAYS)],
            on_breach=str(pick("on_breach") or "alert"),
        )


@dataclass(frozen=True)
class ClockStep:
    """One thing that happened to a timer, for `/case sla`."""

    at: datetime
    kind: Literal["start", "pause", "resume", "stop", "met"]
    cause: str
    by: str | None = None  # the person whose action it was, where it matters (a first reply)


@dataclass
class Timer:
    target: str
    budget: timedelta
    used: timedelta = timedelta(0)
    running_since: datetime | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    met_at: datetime | None = None
    steps: list[ClockStep] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def left(self) -> timedelta:
        return self.budget - self.used


def compute_timers(
    case: Case, events: Iterable[CaseEvent], policy: SlaPolicy, now: datetime
) -> dict[str, Timer]:
    """Replay the case's history against `policy` up to `now`."""
    ordered = sorted(events, key=lambda event: (event.at, event.id or 0))
    timers: dict[str, Timer] = {}
    for target in TARGETS:
        budget = policy.target(target)
        if budget is not None:
            segments, steps, met_at = _segments(target, case, ordered, now)
            timers[target] = _measure(target, budget, segments, steps, met_at, policy, now)
    return timers


Segment = tuple[datetime, datetime | None]  # end None: still running


def _segments(
    target: str, case: Case, events: list[CaseEvent], now: datetime
) -> tuple[list[Segment], list[ClockStep], datetime | None]:
    """When the clock of `target` was running, and why it started and stopped."""
    steps = [ClockStep(case.opened_at, "start", "case opened")]
    segments: list[Segment] = []
    running_since: datetime | None = case.opened_at
    met_at: datetime | None = None
    for event in events:
        if event.at > now:
            break
        if target == FIRST_RESPONSE:
            if event.action is CaseAction.RESPONDED and running_since is not None:
                segments.append((running_since, event.at))
                steps.append(ClockStep(event.at, "met", "first agent reply", by=event.actor_id))
                running_since, met_at = None, event.at
            elif event.action is CaseAction.CLOSED and running_since is not None:
                segments.append((running_since, event.at))
                steps.append(ClockStep(event.at, "stop", "case closed before any reply"))
                running_since = None
            continue
        if event.status_after is None:
            continue
        if event.action is CaseAction.CLOSED and running_since is None:
            # Closed while pending: the paused clock stops for good here.
            steps.append(ClockStep(event.at, "stop", _cause(event)))
            met_at = event.at
            continue
        running_now = event.status_after in _RUNNING
        if running_since is not None and not running_now:
            segments.append((running_since, event.at))
            kind: Literal["pause", "stop"] = (
                "stop" if event.action is CaseAction.CLOSED else "pause"
            )
            steps.append(ClockStep(event.at, kind, _cause(event)))
            running_since = None
            if event.action is CaseAction.CLOSED:
                met_at = event.at
        elif running_since is None and running_now:
            running_since = event.at
            steps.append(ClockStep(event.at, "resume", _cause(event)))
            met_at = None
    if running_since is not None:
        segments.append((running_since, None))
    return segments, steps, met_at


def _cause(event: CaseEvent) -> str:
    return {
        CaseAction.PENDING: "waiting on the requester",
        CaseAction.RESUMED: "back in progress",
        CaseAction.CLOSED: "case closed",
        CaseAction.REOPENED: "case reopened (remaining budget)",
    }.get(event.action, event.action.value.replace("_", " "))


def _measure(
    target: str,
    budget: timedelta,
    segments: list[Segment],
    steps: list[ClockStep],
    met_at: datetime | None,
    policy: SlaPolicy,
    now: datetime,
) -> Timer:
    calendar = policy.calendar
    timer = Timer(target=target, budget=budget, steps=steps, met_at=met_at)
    warn_budget = budget * policy.warn_at
    used = timedelta(0)
    for start, end in segments:
        # The moments inside this segment where the warning and the due point are reached; a
        # segment still running (end None) reaches them for sure, sooner or later.
        span = calendar.business_time(start, end) if end is not None else None
        if timer.warn_at is None and (span is None or used + span >= warn_budget):
            timer.warn_at = calendar.add(start, warn_budget - used)
        if timer.due_at is None and (span is None or used + span >= budget):
            timer.due_at = calendar.add(start, budget - used)
        # Counted up to now (the span itself when the segment ended before now).
        done = span if end is not None and end <= now else None
        used += done if done is not None else calendar.business_time(start, min(end or now, now))
        if end is None:
            timer.running_since = start
    timer.used = used
    return timer
