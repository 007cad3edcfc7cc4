"""The CSAT survey: queued in the outbox as a DM to the requester with the team's delay when
a case closes, and the answers it brings back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot.cases.changes import Actor
from bot.cases.rules import CaseService
from bot.clock import Clock
from bot.csat.answers import Rating, record_rating
from bot.csat.views import survey
from bot.desk import DeskConfig
from bot.slack.queue import enqueue
from models import Case, CaseAction


class Surveys:
    def __init__(self, desk: DeskConfig, clock: Clock, cases: CaseService) -> None:
        self.desk = desk
        self.clock = clock
        self.cases = cases

    def ask_after_close(self, session: Session, case: Case) -> int | None:
        """Queue the survey for a case just closed, unless the team turned it off or the
        requester closed it themselves. Returns the queued outbox message's id."""
        settings = self.desk.team(case.team_key).csat
        if not settings.enabled or case.closed_by == case.requester_id:
            return None
        now = self.clock.now()
        message = enqueue(
            session,
            kind="csat_survey",
            channel_id=case.requester_id,  # posting to a user ID lands in the app's DM
            content=survey(case),
            now=now,
            case_id=case.id,
        )
        message.next_attempt_at = now + settings.delay
        self.cases.record_system_event(
            session,
            case=case,
            action=CaseAction.CSAT_REQUESTED,
            delay_minutes=int(settings.delay / timedelta(minutes=1)) or None,
        )
        session.flush()
        return message.id

    def rate(
        self,
        session: Session,
        *,
        number: int,
        actor: Actor,
        rating: int,
        comment: str | None = None,
    ) -> Rating:
        return record_rating(
            session,
            self.cases,
            number=number,
            actor=actor,
            rating=rating,
            comment=comment,
            now=self.clock.now(),
        )
