"""The CSAT survey: queued in the outbox as a DM to the requester with the team's delay when
a case closes (`Surveys`), and the answers it brings back (`RatingFlows`): a rating button or
the comment form, the survey then showing the rating given."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.changes import Actor
from bot.cases.rules import CaseService
from bot.cases.views.refusals import describe
from bot.cases.views.replies import notice
from bot.clock import Clock
from bot.core import Core, Flow
from bot.csat.answers import Rating, current_rating, record_rating
from bot.csat.views import comment_modal, survey, thanks
from bot.desk import DeskConfig
from bot.refusals import Refusal
from bot.requester import Requester
from bot.slack.blocks import SlackMessage
from bot.slack.outbox import DELIVERY_WAIT, OutboxDeliverer
from bot.slack.queue import UPDATE, enqueue
from models import Case, CaseAction, OutboxMessage

SURVEY, SURVEY_UPDATE = "csat_survey", "csat_survey_update"


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
            kind=SURVEY,
            channel_id=case.requester_id,  # posting to a user ID lands in the app's DM
            content=survey(case.id, case.title),
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
            self.clock,
            number=number,
            actor=actor,
            rating=rating,
            comment=comment,
        )


class RatingFlows(Flow):
    """The requester rates a closed case: from the survey's buttons or its comment form."""

    def __init__(self, core: Core, *, surveys: Surveys, outbox: OutboxDeliverer) -> None:
        super().__init__(core)
        self.surveys = surveys
        self.outbox = outbox

    def rate(
        self,
        who: Requester,
        number: int,
        rating: int,
        comment: str | None = None,
    ) -> SlackMessage:
        """Record the rating; the survey then shows it."""
        try:
            with self.db.unit_of_work() as session:
                self.finish_request(session, who)
                answer = self.surveys.rate(
                    session, number=number, actor=who.actor, rating=rating, comment=comment
                )
                queued = self._show_rating(session, answer)
        except Refusal as refusal:
            return notice(describe(refusal))
        self.outbox.deliver_within(queued, DELIVERY_WAIT)
        return thanks(answer.case_id, answer.rating, answer.previous)

    def _show_rating(self, session: Session, answer: Rating) -> list[int]:
        """Update the survey the requester was sent (our own record of it, not what a click
        says it was) to show the rating given."""
        sent = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.case_id == answer.case_id,
                OutboxMessage.kind == SURVEY,
                OutboxMessage.state == "sent",
                OutboxMessage.sent_ts.is_not(None),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).first()
        if sent is None:
            return []
        message = enqueue(
            session,
            kind=SURVEY_UPDATE,
            op=UPDATE,
            channel_id=sent.channel_id,
            target_ts=sent.sent_ts,
            content=survey(answer.case_id, answer.title, chosen=answer.rating),
            now=self.clock.now(),
            case_id=answer.case_id,
        )
        session.flush()
        return [message.id]

    def comment_form(self, number: int, trigger_id: str | None) -> SlackMessage | None:
        """The comment form, the rating already given chosen in it."""
        with self.db.read_only() as session:
            given = current_rating(session, number)
        return self.show_modal(trigger_id, comment_modal(number, given))
