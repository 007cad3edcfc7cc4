"""What one change to a case is made of: who acted, the events it appends, what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.timefmt import ago
from models import Case, CaseAction, CaseEvent, CaseSource, CaseStatus, EventSource


@dataclass(frozen=True)
class Actor:
    user_id: str
    source: EventSource
    # When they acted, by Slack's own timestamp (a message's ts, a click's action_ts): a
    # change is timed by it, not by when a slow or redelivered request was carried out.
    at: datetime | None = None

    def moment(self, case: Case, now: datetime) -> datetime:
        """When this change happened: Slack's time, kept within [case opened, now]."""
        if self.at is None:
            return now
        return min(max(self.at, case.opened_at), now)


SCHEDULER = Actor("scheduler", EventSource.SCHEDULER)


@dataclass(frozen=True)
class Origin:
    """How a case came in and for whom: typed or a form (for the person who asked), or from
    a Slack message (for its author, whoever opened it), answered in that message's thread."""

    source: CaseSource
    requester_id: str
    message_channel_id: str | None = None
    message_ts: str | None = None
    conversation_ts: str | None = None  # the thread the requester is answered in
    permalink: str | None = None
    cut_from: int | None = None  # the message's length, when it was cut to fit the case

    @classmethod
    def asked_by(cls, actor: Actor) -> Origin:
        """A case someone asked for themselves, with /case open or the form."""
        source = CaseSource.FORM if actor.source is EventSource.MODAL else CaseSource.COMMAND
        return cls(source, actor.user_id)


@dataclass
class CaseChange:
    """What a service call did: the case as it is now and the events it appended.

    `moved_from` is the card location the case left when it moved to another team."""

    case: Case
    events: list[CaseEvent]
    moved_from: tuple[str, str] | None = None
    card_changed: bool = True

    @property
    def event(self) -> CaseEvent:
        return self.events[0]


@dataclass
class Draft:
    """Collects the events of one change before they are added to the session."""

    case: Case
    actor: Actor
    now: datetime
    events: list[CaseEvent] = field(default_factory=list)

    def record(
        self,
        action: CaseAction,
        *,
        from_value: str | None = None,
        to_value: str | None = None,
        status_before: CaseStatus | None = None,
        **details: Any,
    ) -> None:
        status_changed = status_before is not None and status_before != self.case.status
        self.events.append(
            CaseEvent(
                case_id=self.case.id,
                team_key=self.case.team_key,
                at=self.now,
                actor_id=self.actor.user_id,
                action=action,
                source=self.actor.source,
                from_value=from_value,
                to_value=to_value,
                status_before=status_before.value if status_changed and status_before else None,
                status_after=self.case.status.value if status_changed else None,
                details={key: value for key, value in details.items() if value is not None},
            )
        )

    def resume(self, **details: Any) -> None:
        """A pending case goes back to whoever works it (or to the queue)."""
        case = self.case
        waited = ago(case.pending_since, self.now) if case.pending_since else None
        case.status = CaseStatus.IN_PROGRESS if case.assignee_id else CaseStatus.OPEN
        case.pending_reason, case.pending_since = None, None
        self.record(
            CaseAction.RESUMED, status_before=CaseStatus.PENDING, pending_since=waited, **details
        )

    def let_go(self, **details: Any) -> None:
        """The assignee lets go of the case; work on it stops until someone takes it."""
        case = self.case
        previous, status_before = case.assignee_id, case.status
        case.assignee_id = None
        if case.status is CaseStatus.IN_PROGRESS:
            case.status = CaseStatus.OPEN
        self.record(
            CaseAction.UNASSIGNED, from_value=previous, status_before=status_before, **details
        )


def new_case(
    title: str,
    description: str,
    team_key: str,
    priority: str,
    origin: Origin,
    channel_id: str | None,
    now: datetime,
) -> Case:
    """A case as it is opened: open, unassigned, never escalated or reopened."""
    return Case(
        title=title,
        description=description.strip(),
        team_key=team_key,
        priority=priority,
        status=CaseStatus.OPEN,
        requester_id=origin.requester_id,
        escalation_level=0,
        reopen_count=0,
        origin_channel_id=channel_id,
        source=origin.source,
        conversation_channel_id=origin.message_channel_id,
        conversation_ts=origin.conversation_ts,
        message_ts=origin.message_ts,
        message_permalink=origin.permalink,
        opened_at=now,
        last_activity_at=now,
    )
