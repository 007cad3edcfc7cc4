"""Customer satisfaction: the survey sent after close, and the answers.

The survey is a DM to the requester, queued in the outbox with the team's delay; one answer per
case is kept (a second one updates it) and each answer is recorded in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.rules import Actor, CaseService
from bot.csat.views import survey
from bot.errors import BadInput, NotAllowed
from bot.slack.queue import enqueue
from models import Case, CaseAction, CsatResponse


@dataclass(frozen=True)
class Rating:
    case_id: int
    rating: int
    previous: int | None  # the rating this answer replaced, if any
    comment: str | None


class CsatService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    def ask_after_close(self, session: Session, case: Case) -> int | None:
        """Queue the survey for a case just closed, unless the team turned it off or the
        requester closed it themselves. Returns the queued outbox message's id."""
        settings = self.cases.desk.team(case.team_key).csat
        if not settings.enabled or case.closed_by == case.requester_id:
            return None
        now = self.cases.clock.now()
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
        if not 1 <= rating <= 5:
            raise BadInput("Ratings go from 1 to 5.")
        # Locking the case serialises two quick clicks, also before any answer row exists.
        case = self.cases.lock(session, number)
        if actor.user_id != case.requester_id:
            raise NotAllowed(f"Only the requester of case #{case.id} can rate it.")
        now = self.cases.clock.now()
        answer = session.scalars(
            select(CsatResponse).where(CsatResponse.case_id == case.id)
        ).one_or_none()
        previous = answer.rating if answer else None
        comment = (comment or "").strip() or None
        if answer is None:
            answer = CsatResponse(
                case_id=case.id,
                team_key=case.team_key,
                requester_id=actor.user_id,
                rating=rating,
                comment=comment,
                answered_at=now,
                updated_at=now,
            )
            session.add(answer)
        else:
            answer.rating, answer.updated_at = rating, now
            answer.comment = comment or answer.comment
        self.cases.record_event(
            session,
            case=case,
            actor=actor,
            action=CaseAction.CSAT_RATED,
            rating=rating,
            previous=previous,
            comment=comment,
        )
        return Rating(case.id, rating, previous, answer.comment)
