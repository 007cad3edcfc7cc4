"""Customer satisfaction answers: one per case (a second one updates it), each recorded in
the audit trail. Refusals are data; `bot.csat.views` words them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.changes import Actor
from bot.cases.rules import CaseService
from bot.clock import Clock
from bot.refusals import BadInput, NotAllowed
from models import CaseAction, CsatResponse

RATINGS = range(1, 6)


@dataclass(frozen=True)
class Rating:
    case_id: int
    title: str
    rating: int
    previous: int | None  # the rating this answer replaced, if any
    comment: str | None


@dataclass(eq=False)
class RatingOutOfRange(BadInput):
    rating: int


@dataclass(eq=False)
class NotTheRequester(NotAllowed):
    """Only the person who asked for help rates how it went."""

    case_id: int


def current_rating(session: Session, number: int) -> int | None:
    """The rating the requester gave the case, if any."""
    return session.scalar(select(CsatResponse.rating).where(CsatResponse.case_id == number))


def record_rating(
    session: Session,
    cases: CaseService,
    clock: Clock,
    *,
    number: int,
    actor: Actor,
    rating: int,
    comment: str | None,
) -> Rating:
    if rating not in RATINGS:
        raise RatingOutOfRange(rating)
    # Locking the case serialises two quick clicks, also before any answer row exists; the
    # answer is timed after the lock, so answers are in the order they were taken.
    case = cases.lock(session, number)
    now = clock.now()
    if actor.user_id != case.requester_id:
        raise NotTheRequester(case.id)
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
    cases.record_event(
        session,
        case=case,
        actor=actor,
        action=CaseAction.CSAT_RATED,
        rating=rating,
        previous=previous,
        comment=comment,
    )
    return Rating(case.id, case.title, rating, previous, answer.comment)
