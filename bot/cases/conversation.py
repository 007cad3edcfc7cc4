"""What is said and recorded around a case without changing it: internal notes, messages in
its thread (the requester's replies resume a pending case; an agent's first reply stops the
first-response clock), and the events the desk records (an SLA alert, a survey, a rating)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.changes import SCHEDULER, Actor, CaseChange, Draft
from bot.cases.work import CaseWork
from bot.replays import record_first
from bot.requester import slack_moment
from models import Case, CaseAction, CaseStatus, CaseThread, EventSource


class Conversation(CaseWork):
    def note(self, session: Session, *, number: int, actor: Actor, text: str) -> CaseChange:
        case = self.guards.lock(session, number)
        self.guards.agent(case, actor.user_id, CaseAction.NOTE)
        text = self.guards.text(text, CaseAction.NOTE, case.id)
        draft = self._draft(case, actor)
        draft.record(CaseAction.NOTE, text=text)
        change = self.finish(session, draft)
        change.card_changed = False
        return change

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
            session, case=case, actor=SCHEDULER, action=action, refresh_sla=refresh_sla, **details
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
        draft = Draft(case, actor, self.clock.now())
        draft.record(action, **details)
        return self.finish(session, draft, activity=False, refresh_sla=refresh_sla)

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
        """Record a human message in a case thread: the requester's reply (which resumes a
        pending case), an agent's response (the first stops the first-response clock) or
        anyone else's comment. None when the thread is not a case's or Slack is retrying an
        event already recorded."""
        case_id = session.scalar(
            select(CaseThread.case_id).where(
                CaseThread.channel_id == channel_id, CaseThread.thread_ts == thread_ts
            )
        )
        if case_id is None or (event_id and not record_first(session, event_id, self.clock.now())):
            return None
        case = self.guards.lock(session, case_id)
        # For a case from a message the requester's thread is the conversation; the card's
        # thread is the team's own, where agents talk among themselves.
        public = not case.from_message or case.is_conversation(channel_id, thread_ts)
        return self.record_message(session, case, user_id, message_ts, public=public)

    def record_message(
        self, session: Session, case: Case, user_id: str, message_ts: str, *, public: bool = True
    ) -> CaseChange:
        """A message about the case (`case` locked): the requester's is a customer reply,
        an agent's where the requester reads it a response, anyone else's a comment."""
        draft = self._draft(case, Actor(user_id, EventSource.THREAD, slack_moment(message_ts)))
        card_changed = False
        if user_id == case.requester_id:
            draft.record(CaseAction.CUSTOMER_REPLIED, message_ts=message_ts)
            if case.status is CaseStatus.PENDING:
                draft.resume(cause="requester replied")
                card_changed = True
        elif public and self.roster.is_agent(self.guards.team(case.team_key), user_id):
            first = case.first_response_at is None
            if first:
                case.first_response_at, case.first_responder_id = draft.now, user_id
                card_changed = True
            draft.record(CaseAction.RESPONDED, message_ts=message_ts, first_response=first or None)
        else:
            draft.record(CaseAction.COMMENTED, message_ts=message_ts, internal=not public or None)
        change = self.finish(session, draft)
        change.card_changed = card_changed
        return change
