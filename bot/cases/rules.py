"""Domain services for cases: every state change, its rules and its audit event.

Nothing here talks to Slack. Each method takes the session of the caller's unit of work, locks
the case row it changes, checks the rules against the locked state and appends the audit
event in the same transaction, so concurrent requests (50 agents clicking Claim) serialise on
the row and exactly one of them wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.repeats import refuse_repeat
from bot.clock import Clock
from bot.desk import DeskConfig, Team
from bot.errors import BadInput, CaseNotFound, InvalidMove, NotAllowed
from bot.replays import record_first
from bot.roster import Roster
from bot.sla.timers import SlaTracker
from bot.text import escape, mention
from bot.timefmt import ago
from models import (
    Case,
    CaseAction,
    CaseEvent,
    CaseStatus,
    CaseThread,
    EventSource,
)

# The verb a refusal uses for an action checked before its modal opens.
_VERBS = {
    CaseAction.CLAIMED: "claim",
    CaseAction.ESCALATED: "escalate",
    CaseAction.CLOSED: "close",
    CaseAction.PENDING: "mark as pending",
}


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


@dataclass(frozen=True)
class Actor:
    user_id: str
    source: EventSource


@dataclass
class _Draft:
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


class CaseService:
    def __init__(
        self, desk: DeskConfig, roster: Roster, clock: Clock, sla: SlaTracker | None = None
    ) -> None:
        self.desk = desk
        self.roster = roster
        self.clock = clock
        self.sla = sla

    # Opening

    def open(
        self,
        session: Session,
        *,
        actor: Actor,
        title: str,
        description: str = "",
        priority: str | None = None,
        team_key: str | None = None,
        channel_id: str | None = None,
    ) -> CaseChange:
        title = title.strip()
        if not title:
            raise BadInput("A case needs a title: `/case open [p1-p4] [team:<key>] <title>`.")
        team = self._team(team_key) if team_key else self.desk.team_for_channel(channel_id)
        priority = priority or team.default_priority
        self._check_priority(priority)
        now = self.clock.now()
        case = Case(
            title=title,
            description=description.strip(),
            team_key=team.key,
            priority=priority,
            status=CaseStatus.OPEN,
            requester_id=actor.user_id,
            escalation_level=0,
            reopen_count=0,
            origin_channel_id=channel_id,
            opened_at=now,
            last_activity_at=now,
        )
        refuse_repeat(session, case)  # JustOpened: a retry of a case opened moments ago
        session.add(case)
        session.flush()  # assigns the case number
        draft = _Draft(case, actor, now)
        draft.record(
            CaseAction.OPENED, to_value=case.status.value, team=team.key, priority=priority
        )
        return self._finish(session, draft)

    def attach_card(
        self, session: Session, *, number: int, channel_id: str, card_ts: str
    ) -> Case | None:
        """Remember where the case card (and so its thread) was posted. If another process
        attached a card first, nothing changes and the case (with that card) is returned so
        the caller can withdraw its own; None means this card is the case's card now."""
        case = self._lock(session, number)
        if case.card_ts and case.channel_id:
            return case
        case.channel_id, case.card_ts = channel_id, card_ts
        session.merge(CaseThread(channel_id=channel_id, thread_ts=card_ts, case_id=case.id))
        return None

    def lock(self, session: Session, number: int) -> Case:
        """The case, its row locked until the transaction ends (CaseNotFound if none)."""
        return self._lock(session, number)

    # Ownership

    def claim(self, session: Session, *, number: int, actor: Actor) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "claim")
        self._require_agent(case, actor.user_id, "claim cases")
        if case.assignee_id == actor.user_id:
            raise InvalidMove(f"You already have case #{case.id}.")
        if case.assignee_id:
            since = ago(case.claimed_at, self.clock.now()) if case.claimed_at else "earlier"
            raise InvalidMove(
                f"Case #{case.id} is already claimed by {mention(case.assignee_id)} ({since}). "
                f"Ask them or a manager to hand it over with `/case assign {case.id} @you`."
            )
        return self._take(session, case, actor, actor.user_id, CaseAction.CLAIMED)

    def assign(
        self, session: Session, *, number: int, actor: Actor, assignee_id: str
    ) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "assign")
        team = self._team(case.team_key)
        if not self.roster.is_agent(team, assignee_id):
            raise NotAllowed(
                f"{mention(assignee_id)} is not an agent of {team.name}, so they cannot "
                f"take case #{case.id}."
            )
        if case.assignee_id == assignee_id:
            raise InvalidMove(f"Case #{case.id} is already assigned to {mention(assignee_id)}.")
        is_manager = self.roster.is_manager(team, actor.user_id)
        is_assignee = case.assignee_id == actor.user_id
        self_claim = assignee_id == actor.user_id and case.assignee_id is None
        if not (is_manager or is_assignee or self_claim):
            raise NotAllowed(
                f"Only a manager of {team.name} or the case's assignee can assign case "
                f"#{case.id} to someone else."
            )
        return self._take(session, case, actor, assignee_id, CaseAction.ASSIGNED)

    def unassign(self, session: Session, *, number: int, actor: Actor) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "unassign")
        if case.assignee_id is None:
            raise InvalidMove(f"Case #{case.id} has no assignee.")
        team = self._team(case.team_key)
        if case.assignee_id != actor.user_id and not self.roster.is_manager(team, actor.user_id):
            raise NotAllowed(
                f"Only a manager of {team.name} or the assignee can unassign case #{case.id}."
            )
        draft = self._draft(case, actor)
        previous, status_before = case.assignee_id, case.status
        case.assignee_id = None
        if case.status is CaseStatus.IN_PROGRESS:
            case.status = CaseStatus.OPEN
        draft.record(CaseAction.UNASSIGNED, from_value=previous, status_before=status_before)
        return self._finish(session, draft)

    # Escalation

    def escalate(
        self,
        session: Session,
        *,
        number: int,
        actor: Actor,
        reason: str,
        to_team_key: str | None = None,
    ) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "escalate")
        if actor.source is not EventSource.SCHEDULER:  # on_breach: escalate acts for the desk
            self._require_agent(case, actor.user_id, "escalate cases")
        reason = self._required_text(reason, "a reason", f"/case escalate {case.id} <reason>")
        from_team = self._team(case.team_key)
        to_team = self._team(to_team_key) if to_team_key else from_team
        draft = self._draft(case, actor)
        case.escalation_level += 1
        case.last_escalated_at = draft.now
        draft.record(
            CaseAction.ESCALATED,
            from_value=str(case.escalation_level - 1),
            to_value=str(case.escalation_level),
            reason=reason,
            from_team=from_team.key,
            to_team=to_team.key if to_team is not from_team else None,
        )
        moved_from = None
        if to_team is not from_team:
            moved_from = self._move(draft, from_team, to_team)
        change = self._finish(session, draft)
        change.moved_from = moved_from
        return change

    def _move(self, draft: _Draft, from_team: Team, to_team: Team) -> tuple[str, str] | None:
        """Hand the case to another team: its card moves to that team's channel, and an
        assignee who is not on the new team lets go of it."""
        case = draft.case
        old_card = (case.channel_id, case.card_ts) if case.channel_id and case.card_ts else None
        case.team_key = to_team.key
        case.channel_id = case.card_ts = None  # a new card is posted in the new channel
        draft.record(CaseAction.TEAM_CHANGED, from_value=from_team.key, to_value=to_team.key)
        if case.assignee_id and not self.roster.is_agent(to_team, case.assignee_id):
            previous, status_before = case.assignee_id, case.status
            case.assignee_id = None
            if case.status is CaseStatus.IN_PROGRESS:
                case.status = CaseStatus.OPEN
            draft.record(
                CaseAction.UNASSIGNED,
                from_value=previous,
                status_before=status_before,
                reason=f"not an agent of {to_team.name}",
            )
        return old_card

    # Waiting on the requester

    def pending(self, session: Session, *, number: int, actor: Actor, reason: str) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "mark as pending")
        self._require_agent(case, actor.user_id, "mark cases as pending")
        reason = self._required_text(
            reason, "what you are waiting for", f"/case pending {case.id} <what we wait for>"
        )
        if case.status is CaseStatus.PENDING:
            raise InvalidMove(
                f"Case #{case.id} is already pending ({escape(case.pending_reason or '')}). "
                f"`/case resume {case.id}` puts it back in progress."
            )
        if case.status is CaseStatus.OPEN:
            raise InvalidMove(
                f"Nobody is working on case #{case.id} yet. Claim it first with "
                f"`/case claim {case.id}`."
            )
        draft = self._draft(case, actor)
        case.status, case.pending_reason, case.pending_since = (
            CaseStatus.PENDING,
            reason,
            draft.now,
        )
        draft.record(CaseAction.PENDING, status_before=CaseStatus.IN_PROGRESS, reason=reason)
        return self._finish(session, draft)

    def resume(self, session: Session, *, number: int, actor: Actor) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "resume")
        if actor.user_id != case.requester_id:
            self._require_agent(case, actor.user_id, "resume cases")
        if case.status is not CaseStatus.PENDING:
            raise InvalidMove(f"Case #{case.id} is not pending; it is {case.status.label}.")
        draft = self._draft(case, actor)
        self._resume(draft)
        return self._finish(session, draft)

    def _resume(self, draft: _Draft, **details: Any) -> None:
        case = draft.case
        waited = ago(case.pending_since, draft.now) if case.pending_since else None
        case.status = CaseStatus.IN_PROGRESS if case.assignee_id else CaseStatus.OPEN
        case.pending_reason, case.pending_since = None, None
        draft.record(
            CaseAction.RESUMED, status_before=CaseStatus.PENDING, pending_since=waited, **details
        )

    # Closing

    def close(self, session: Session, *, number: int, actor: Actor, resolution: str) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "close")
        self._require_agent(case, actor.user_id, "close cases")
        resolution = self._required_text(
            resolution, "a resolution", f"/case close {case.id} <resolution>"
        )
        draft = self._draft(case, actor)
        status_before = case.status
        case.status, case.resolution = CaseStatus.CLOSED, resolution
        case.closed_at, case.closed_by = draft.now, actor.user_id
        case.pending_reason = case.pending_since = None
        draft.record(CaseAction.CLOSED, status_before=status_before, resolution=resolution)
        return self._finish(session, draft)

    def reopen(self, session: Session, *, number: int, actor: Actor, reason: str) -> CaseChange:
        case = self._lock(session, number)
        self._require_reopenable(case, actor.user_id)
        reason = self._required_text(reason, "a reason", f"/case reopen {case.id} <reason>")
        draft = self._draft(case, actor)
        case.status = CaseStatus.IN_PROGRESS if case.assignee_id else CaseStatus.OPEN
        case.reopen_count += 1
        case.reopened_at = draft.now
        case.resolution = None
        draft.record(CaseAction.REOPENED, status_before=CaseStatus.CLOSED, reason=reason)
        return self._finish(session, draft)

    def set_priority(
        self, session: Session, *, number: int, actor: Actor, priority: str
    ) -> CaseChange:
        case = self._lock(session, number)
        self._require_open(case, "change the priority of")
        self._require_agent(case, actor.user_id, "change priorities")
        priority = priority.strip().lower()
        self._check_priority(priority)
        if priority == case.priority:
            raise InvalidMove(f"Case #{case.id} is already {priority.upper()}.")
        draft = self._draft(case, actor)
        previous, case.priority = case.priority, priority
        draft.record(CaseAction.PRIORITY_CHANGED, from_value=previous, to_value=priority)
        return self._finish(session, draft)

    def record_system_event(
        self,
        session: Session,
        *,
        case: Case,
        action: CaseAction,
        refresh_sla: bool = True,
        **details: Any,
    ) -> CaseChange:
        """Something the desk did around a case (an SLA alert, a survey); not case activity."""
        return self.record_event(
            session,
            case=case,
            actor=Actor("scheduler", EventSource.SCHEDULER),
            action=action,
            refresh_sla=refresh_sla,
            **details,
        )

    def record_event(
        self,
        session: Session,
        *,
        case: Case,
        actor: Actor,
        action: CaseAction,
        refresh_sla: bool = True,
        **details: Any,
    ) -> CaseChange:
        """Append an event that changes nothing on the case itself (e.g. a CSAT rating)."""
        draft = _Draft(case, actor, self.clock.now())
        draft.record(action, **details)
        return self._finish(session, draft, activity=False, refresh_sla=refresh_sla)

    # Conversation

    def note(self, session: Session, *, number: int, actor: Actor, text: str) -> CaseChange:
        case = self._lock(session, number)
        self._require_agent(case, actor.user_id, "add internal notes")
        text = self._required_text(text, "the note's text", f"/case note {case.id} <text>")
        draft = self._draft(case, actor)
        draft.record(CaseAction.NOTE, text=text)
        change = self._finish(session, draft)
        change.card_changed = False
        return change

    def record_thread_message(
        self,
        session: Session,
        *,
        event_id: str | None,
        channel_id: str,
        thread_ts: str,
        message_ts: str,
        user_id: str,
    ) -> CaseChange | None:
        """Record a human message in a case thread. Returns None when the thread is not a
        case's or Slack is retrying an event we already recorded."""
        case_id = session.scalar(
            select(CaseThread.case_id).where(
                CaseThread.channel_id == channel_id, CaseThread.thread_ts == thread_ts
            )
        )
        if case_id is None or (event_id and not self._first_delivery(session, event_id)):
            return None
        case = self._lock(session, case_id)
        actor = Actor(user_id, EventSource.THREAD)
        draft = self._draft(case, actor)
        card_changed = False
        if user_id == case.requester_id:
            draft.record(CaseAction.CUSTOMER_REPLIED, message_ts=message_ts)
            if case.status is CaseStatus.PENDING:
                self._resume(draft, cause="requester replied")
                card_changed = True
        elif self.roster.is_agent(self._team(case.team_key), user_id):
            first = case.first_response_at is None
            if first:
                case.first_response_at, case.first_responder_id = draft.now, user_id
                card_changed = True
            draft.record(CaseAction.RESPONDED, message_ts=message_ts, first_response=first or None)
        else:
            draft.record(CaseAction.COMMENTED, message_ts=message_ts)
        change = self._finish(session, draft)
        change.card_changed = card_changed
        return change

    def _first_delivery(self, session: Session, event_id: str) -> bool:
        return record_first(session, event_id, self.clock.now())

    # Reading

    def get(self, session: Session, number: int) -> Case:
        case = session.get(Case, number)
        if case is None:
            raise CaseNotFound(number)
        return case

    def check(self, session: Session, *, number: int, actor_id: str, action: CaseAction) -> Case:
        """Refuse early, before a modal is opened for a change the user may not make."""
        case = self.get(session, number)
        if action is CaseAction.REOPENED:
            self._require_reopenable(case, actor_id)
            return case
        verb = _VERBS[action]
        self._require_open(case, verb)
        self._require_agent(case, actor_id, f"{verb} cases")
        return case

    # Helpers

    def _lock(self, session: Session, number: int) -> Case:
        """Load the case and lock its row until the transaction ends (SQLite already holds
        the database write lock from `BEGIN IMMEDIATE`)."""
        case = session.scalars(
            select(Case)
            .where(Case.id == number)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if case is None:
            raise CaseNotFound(number)
        return case

    def _draft(self, case: Case, actor: Actor) -> _Draft:
        return _Draft(case, actor, self.clock.now())

    def _take(
        self, session: Session, case: Case, actor: Actor, assignee_id: str, action: CaseAction
    ) -> CaseChange:
        draft = self._draft(case, actor)
        previous, status_before = case.assignee_id, case.status
        case.assignee_id = assignee_id
        case.first_assignee_id = case.first_assignee_id or assignee_id
        case.claimed_at = draft.now
        if case.status is CaseStatus.OPEN:
            case.status = CaseStatus.IN_PROGRESS
        draft.record(action, from_value=previous, to_value=assignee_id, status_before=status_before)
        return self._finish(session, draft)

    def _finish(
        self, session: Session, draft: _Draft, *, activity: bool = True, refresh_sla: bool = True
    ) -> CaseChange:
        if activity:
            draft.case.last_activity_at = draft.now
        session.add_all(draft.events)
        session.flush()
        if self.sla is not None and refresh_sla:
            # Any change may start, pause or move an SLA clock; replaying is cheap and exact.
            self.sla.refresh(session, draft.case, draft.now)
        return CaseChange(case=draft.case, events=draft.events)

    def team(self, key: str) -> Team:
        """The team named `key`, or a BadInput naming the teams there are."""
        return self._team(key)

    def _team(self, key: str) -> Team:
        if not isinstance(key, str) or key not in self.desk.teams:  # keys from buttons too
            known = ", ".join(f"`{team}`" for team in self.desk.teams)
            raise BadInput(f"There is no team `{escape(str(key))}`. Teams: {known}.")
        return self.desk.team(key)

    def _check_priority(self, priority: str) -> None:
        if priority not in self.desk.priorities:
            raise BadInput(f"`{escape(priority)}` is not a priority; use p1, p2, p3 or p4.")

    def _require_open(self, case: Case, verb: str) -> None:
        if case.is_closed:
            when = ago(case.closed_at, self.clock.now()) if case.closed_at else "earlier"
            by = f" by {mention(case.closed_by)}" if case.closed_by else ""
            raise InvalidMove(
                f"Case #{case.id} is already closed{by} {when}, so you cannot {verb} it. "
                f"Use `/case reopen {case.id} <reason>` first."
            )

    def _require_reopenable(self, case: Case, user_id: str) -> None:
        if not case.is_closed:
            raise InvalidMove(f"Case #{case.id} is not closed; it is {case.status.label}.")
        team = self._team(case.team_key)
        if user_id != case.requester_id and not self.roster.is_agent(team, user_id):
            raise NotAllowed(
                f"Only the requester or an agent or manager of {team.name} can reopen "
                f"case #{case.id}."
            )

    def _require_agent(self, case: Case, user_id: str, what: str) -> None:
        team = self._team(case.team_key)
        if not self.roster.is_agent(team, user_id):
            raise NotAllowed(f"Only agents and managers of {team.name} can {what}.")

    @staticmethod
    def _required_text(text: str, what: str, usage: str) -> str:
        text = text.strip()
        if not text:
            raise BadInput(f"Please give {what}: `{usage}`.")
        return text
