"""Customer satisfaction answers: one per case (a second one updates it), each recorded in
the audit trail. Refusals are data; `bot.csat.views` words them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.changes import Actor
from bot.cases.rules import CaseService
from bot.refusals import BadInput, NotAllowed
from models import CaseAction, CsatResponse

RATINGS = range(1, 6)


@dataclass(frozen=True)
class Rating:
    case_id: int
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


def record_rating(
    session: Session,
    cases: CaseService,
    *,
    number: int,
    actor: Actor,
    rating: int,
    comment: str | None,
    now: datetime,
) -> Rating:
    if rating not in RATINGS:
        raise RatingOutOfRange(rating)
    # Locking the case serialises two quick clicks, also before any answer row exists.
    case = cases.lock(session, number)
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
    return Rating(case.id, rating, previous, answer.comment)
