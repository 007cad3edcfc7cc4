"""Domain services for cases: every state change, its rules and its audit event.

Nothing here talks to Slack or words anything: a change returns a `CaseChange`, a refusal is
raised as data (`bot.cases.refusals`). Each method takes the session of the caller's unit of
work, locks the case row it changes, checks the rules against the locked state and appends
the audit event in the same transaction, so concurrent requests (50 agents clicking Claim)
serialise on the row and exactly one of them wins.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.cases.changes import SCHEDULER, Actor, CaseChange, Draft, Origin, new_case
from bot.cases.conversation import Conversation
from bot.cases.refusals import (
    AlreadyAssigned,
    AlreadyClaimed,
    AlreadyPending,
    AlreadyYours,
    NoAssignee,
    NotClaimedYet,
    NotOnTeam,
    OnlyManagerOrAssignee,
    SamePriority,
    WrongStatus,
)
from bot.cases.repeats import refuse_repeat
from bot.desk import Team
from models import Case, CaseAction, CaseStatus, CaseThread


class CaseService(Conversation):
    """Every state change of a case (on top of what is said and recorded around it)."""

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
        origin: Origin | None = None,
    ) -> CaseChange:
        """Open a case for `origin`'s requester (by default the actor, who asked for it)."""
        title = self.guards.text(title, CaseAction.OPENED)
        team = self.guards.team(team_key) if team_key else self.desk.team_for_channel(channel_id)
        priority = self.guards.priority(priority or team.default_priority)
        now = self.clock.now()
        origin = origin or Origin.asked_by(actor)
        case = new_case(title, description, team.key, priority, origin, channel_id, now)
        if origin.message_ts is None:
            refuse_repeat(session, case)  # JustOpened: a retry of a case opened moments ago
        session.add(case)
        session.flush()  # assigns the case number
        if case.conversation_channel_id and case.conversation_ts:
            self._keep_thread(session, case.conversation_channel_id, case.conversation_ts, case)
        draft = Draft(case, actor, now)
        draft.record(
            CaseAction.OPENED,
            to_value=case.status.value,
            team=team.key,
            priority=priority,
            source=origin.source.value if origin.message_ts else None,  # else: the actor's
            requester=origin.requester_id if origin.requester_id != actor.user_id else None,
            channel=origin.message_channel_id,
            message_ts=origin.message_ts,
            cut_from=origin.cut_from,
        )
        return self.finish(session, draft, new=True)

    @staticmethod
    def _keep_thread(session: Session, channel_id: str, thread_ts: str, case: Case) -> None:
        """Replies in this thread are the case's, unless it is another case's thread already
        (a reply in one case's conversation made into a case of its own)."""
        if session.get(CaseThread, (channel_id, thread_ts)) is None:
            session.add(CaseThread(channel_id=channel_id, thread_ts=thread_ts, case_id=case.id))

    def attach_card(
        self, session: Session, *, number: int, channel_id: str, card_ts: str
    ) -> Case | None:
        """Remember where the case card (and so its thread) was posted. If another process
        attached a card first, nothing changes and the case (with that card) is returned so
        the caller can withdraw its own; None means this card is the case's card now."""
        case = self.guards.lock(session, number)
        if case.card_ts and case.channel_id:
            return case
        case.channel_id, case.card_ts = channel_id, card_ts
        session.merge(CaseThread(channel_id=channel_id, thread_ts=card_ts, case_id=case.id))
        return None

    # Ownership

    def claim(self, session: Session, *, number: int, actor: Actor) -> CaseChange:
        case = self._changing(session, number, actor, CaseAction.CLAIMED)
        if case.assignee_id == actor.user_id:
            raise AlreadyYours(case.id)
        if case.assignee_id:
            raise AlreadyClaimed(case.id, case.assignee_id, case.claimed_at, self.clock.now())
        return self._take(session, case, actor, actor.user_id, CaseAction.CLAIMED)

    def assign(
        self, session: Session, *, number: int, actor: Actor, assignee_id: str
    ) -> CaseChange:
        case = self.guards.lock(session, number)
        self.guards.open(case, CaseAction.ASSIGNED)
        team = self.guards.team(case.team_key)
        if not self.roster.is_agent(team, assignee_id):
            raise NotOnTeam(assignee_id, team.name, case.id)
        if case.assignee_id == assignee_id:
            raise AlreadyAssigned(case.id, assignee_id)
        is_manager = self.roster.is_manager(team, actor.user_id)
        is_assignee = case.assignee_id == actor.user_id
        self_claim = assignee_id == actor.user_id and case.assignee_id is None
        if not (is_manager or is_assignee or self_claim):
            raise OnlyManagerOrAssignee(team.name, case.id, CaseAction.ASSIGNED)
        return self._take(session, case, actor, assignee_id, CaseAction.ASSIGNED)

    def unassign(self, session: Session, *, number: int, actor: Actor) -> CaseChange:
        case = self.guards.lock(session, number)
        self.guards.open(case, CaseAction.UNASSIGNED)
        if case.assignee_id is None:
            raise NoAssignee(case.id)
        team = self.guards.team(case.team_key)
        if case.assignee_id != actor.user_id and not self.roster.is_manager(team, actor.user_id):
            raise OnlyManagerOrAssignee(team.name, case.id, CaseAction.UNASSIGNED)
        draft = self._draft(case, actor)
        draft.let_go()
        return self.finish(session, draft)

    # Escalation

    def escalate(
        self,
        session: Session,
        *,
        number: int,
        actor: Actor,
        reason: str = "",
        to_team_key: str | None = None,
        breached: str | None = None,
    ) -> CaseChange:
        """An agent escalates with a reason; the desk (`on_breach: escalate`) because the
        `breached` target did."""
        case = self.guards.lock(session, number)
        self.guards.open(case, CaseAction.ESCALATED)
        if breached is None:
            self.guards.agent(case, actor.user_id, CaseAction.ESCALATED)
            reason = self.guards.text(reason, CaseAction.ESCALATED, case.id)
        from_team = self.guards.team(case.team_key)
        to_team = self.guards.team(to_team_key) if to_team_key else from_team
        draft = self._draft(case, actor)
        case.escalation_level += 1
        case.last_escalated_at = draft.now
        draft.record(
            CaseAction.ESCALATED,
            from_value=str(case.escalation_level - 1),
            to_value=str(case.escalation_level),
            reason=reason or None,
            breached=breached,
            from_team=from_team.key,
            to_team=to_team.key if to_team is not from_team else None,
        )
        moved_from = None
        if to_team is not from_team:
            moved_from = self._move(draft, from_team, to_team)
        change = self.finish(session, draft)
        change.moved_from = moved_from
        return change

    def _move(self, draft: Draft, from_team: Team, to_team: Team) -> tuple[str, str] | None:
        """Hand the case to another team: its card moves to that team's channel, and an
        assignee who is not on the new team lets go of it."""
        case = draft.case
        old_card = (case.channel_id, case.card_ts) if case.channel_id and case.card_ts else None
        case.team_key = to_team.key
        case.channel_id = case.card_ts = None  # a new card is posted in the new channel
        draft.record(CaseAction.TEAM_CHANGED, from_value=from_team.key, to_value=to_team.key)
        if case.assignee_id and not self.roster.is_agent(to_team, case.assignee_id):
            draft.let_go(reason=f"not an agent of {to_team.name}")
        return old_card

    # Waiting on the requester

    def pending(self, session: Session, *, number: int, actor: Actor, reason: str) -> CaseChange:
        case = self._changing(session, number, actor, CaseAction.PENDING)
        reason = self.guards.text(reason, CaseAction.PENDING, case.id)
        if case.status is CaseStatus.PENDING:
            raise AlreadyPending(case.id, case.pending_reason or "")
        if case.status is CaseStatus.OPEN:
            raise NotClaimedYet(case.id)
        draft = self._draft(case, actor)
        case.status, case.pending_reason, case.pending_since = (
            CaseStatus.PENDING,
            reason,
            draft.now,
        )
        draft.record(CaseAction.PENDING, status_before=CaseStatus.IN_PROGRESS, reason=reason)
        return self.finish(session, draft)

    def resume(self, session: Session, *, number: int, actor: Actor) -> CaseChange:
        case = self.guards.lock(session, number)
        self.guards.open(case, CaseAction.RESUMED)
        if actor.user_id != case.requester_id:
            self.guards.agent(case, actor.user_id, CaseAction.RESUMED)
        if case.status is not CaseStatus.PENDING:
            raise WrongStatus(case.id, case.status, CaseStatus.PENDING)
        draft = self._draft(case, actor)
        draft.resume()
        return self.finish(session, draft)

    # Closing

    def close(self, session: Session, *, number: int, actor: Actor, resolution: str) -> CaseChange:
        case = self._changing(session, number, actor, CaseAction.CLOSED)
        resolution = self.guards.text(resolution, CaseAction.CLOSED, case.id)
        draft = self._draft(case, actor)
        status_before = case.status
        case.status, case.resolution = CaseStatus.CLOSED, resolution
        case.closed_at, case.closed_by = draft.now, actor.user_id
        case.pending_reason = case.pending_since = None
        draft.record(CaseAction.CLOSED, status_before=status_before, resolution=resolution)
        return self.finish(session, draft)

    def reopen(self, session: Session, *, number: int, actor: Actor, reason: str) -> CaseChange:
        case = self.guards.lock(session, number)
        self.guards.reopenable(case, actor.user_id)
        reason = self.guards.text(reason, CaseAction.REOPENED, case.id)
        draft = self._draft(case, actor)
        case.status = CaseStatus.IN_PROGRESS if case.assignee_id else CaseStatus.OPEN
        case.reopen_count += 1
        case.reopened_at = draft.now
        case.resolution = None
        draft.record(CaseAction.REOPENED, status_before=CaseStatus.CLOSED, reason=reason)
        return self.finish(session, draft)

    def set_priority(
        self, session: Session, *, number: int, actor: Actor, priority: str
    ) -> CaseChange:
        case = self._changing(session, number, actor, CaseAction.PRIORITY_CHANGED)
        priority = self.guards.priority(priority.strip().lower())
        if priority == case.priority:
            raise SamePriority(case.id, priority)
        draft = self._draft(case, actor)
        previous, case.priority = case.priority, priority
        draft.record(CaseAction.PRIORITY_CHANGED, from_value=previous, to_value=priority)
        return self.finish(session, draft)

    # Taking a case

    def route(self, session: Session, case: Case, assignee_id: str, **why: Any) -> CaseChange:
        """The desk assigns a new case (automatic assignment, `case` locked); `why` is the
        choice's reason as data (mode, whose turn came before, who was skipped). Taking an
        open case moves no SLA clock (open and in progress both run), so the timers the open
        just computed stand."""
        return self._take(
            session,
            case,
            SCHEDULER,
            assignee_id,
            CaseAction.ASSIGNED,
            refresh_sla=False,
            auto=True,
            **why,
        )

    def _take(
        self,
        session: Session,
        case: Case,
        actor: Actor,
        assignee_id: str,
        action: CaseAction,
        *,
        refresh_sla: bool = True,
        **details: Any,
    ) -> CaseChange:
        draft = self._draft(case, actor)
        previous, status_before = case.assignee_id, case.status
        case.assignee_id = assignee_id
        case.first_assignee_id = case.first_assignee_id or assignee_id
        case.claimed_at = draft.now
        if case.status is CaseStatus.OPEN:
            case.status = CaseStatus.IN_PROGRESS
        draft.record(
            action,
            from_value=previous,
            to_value=assignee_id,
            status_before=status_before,
            **details,
        )
        return self.finish(session, draft, refresh_sla=refresh_sla)
