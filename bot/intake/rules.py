"""Intake's rules: a Slack message becomes a case exactly once, and a requester's next
messages in a help channel join their case.

One case per (channel, message ts) is the primary key of `case_messages`: whatever asks
(a redelivered event, a double click, a reaction and a shortcut, two processes at once),
the second insert fails and the whole change is refused with `AlreadyACase`, its case undone.
Changes to one message, and a person's messages in one help channel, are made one at a time
(PostgreSQL: a transaction lock per message and per channel and author; SQLite: its one
writer), so a reaction and a shortcut at once are one case and the second told so, and two
quick messages cannot both open a case.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.cases.changes import Actor, CaseChange, Origin
from bot.cases.rules import CaseService
from bot.desk import Team
from bot.intake.messages import CaseDraft, IncomingMessage
from bot.intake.refusals import AlreadyACase, FromABot, NothingToOpen
from models import OPEN_STATUSES, Case, CaseMessage, CaseSource


class IntakeService:
    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    def case_of(self, session: Session, channel_id: str, ts: str) -> int | None:
        """The case this message is (or joined), if any."""
        return session.scalar(
            select(CaseMessage.case_id).where(
                CaseMessage.channel_id == channel_id, CaseMessage.message_ts == ts
            )
        )

    def check_new(self, session: Session, message: IncomingMessage) -> None:
        """Refuse early a message that is a case already, or no one's request."""
        existing = self.case_of(session, message.channel_id, message.ts)
        if existing is not None:
            raise AlreadyACase(existing)
        if not message.by_a_person:
            raise FromABot(message.channel_id)

    def open_from(
        self,
        session: Session,
        message: IncomingMessage,
        *,
        actor: Actor,
        source: CaseSource,
        team: Team,
        draft: CaseDraft,
        priority: str | None = None,
        permalink: str | None = None,
    ) -> CaseChange:
        """Open a case for the message's author, answered in the message's thread."""
        _serialise(session, f"casedesk:intake:message:{message.channel_id}:{message.ts}")
        self.check_new(session, message)
        assert message.author_id is not None  # check_new: a person wrote it
        if not draft.title.strip():
            raise NothingToOpen(message.channel_id)
        origin = Origin(
            source,
            message.author_id,
            message_channel_id=message.channel_id,
            message_ts=message.ts,
            conversation_ts=message.conversation_ts,
            permalink=permalink,
            cut_from=draft.cut_from,
        )
        change = self.cases.open(
            session,
            actor=actor,
            title=draft.title,
            description=draft.description,
            priority=priority,
            team_key=team.key,
            channel_id=message.channel_id,
            origin=origin,
        )
        self._keep(session, message, change.case.id, message.written_at or change.case.opened_at)
        return change

    def join(
        self, session: Session, message: IncomingMessage, case_id: int, now: datetime
    ) -> CaseChange:
        """The requester wrote again in the help channel: a customer reply on their case."""
        assert message.author_id is not None
        self._keep(session, message, case_id, message.written_at or now)
        case = self.cases.lock(session, case_id)
        return self.cases.record_message(session, case, message.author_id, message.ts)

    def recent_case(
        self, session: Session, message: IncomingMessage, within: timedelta, now: datetime
    ) -> int | None:
        """The author's open case from this channel that their message should join: one
        they wrote for at most `within` before this message."""
        assert message.author_id is not None
        _serialise(session, f"casedesk:intake:author:{message.channel_id}:{message.author_id}")
        at = message.written_at or now
        return session.scalar(
            select(CaseMessage.case_id)
            .join(Case, Case.id == CaseMessage.case_id)
            .where(
                CaseMessage.channel_id == message.channel_id,
                CaseMessage.author_id == message.author_id,
                CaseMessage.at >= at - within,
                CaseMessage.at <= at,
                Case.status.in_(OPEN_STATUSES),
            )
            .order_by(CaseMessage.at.desc())
            .limit(1)
        )

    def _keep(self, session: Session, message: IncomingMessage, case_id: int, at: datetime) -> None:
        """This message is now the case's; AlreadyACase if another change made it a case
        first (then this whole change is undone)."""
        assert message.author_id is not None
        try:
            with session.begin_nested():
                session.add(
                    CaseMessage(
                        channel_id=message.channel_id,
                        message_ts=message.ts,
                        case_id=case_id,
                        author_id=message.author_id,
                        at=at,
                    )
                )
        except IntegrityError:
            existing = self.case_of(session, message.channel_id, message.ts)
            raise AlreadyACase(existing or case_id) from None


def _serialise(session: Session, key: str) -> None:
    """Changes under the same key wait for each other until their transactions end: a
    PostgreSQL advisory lock (SQLite has one writer at a time already)."""
    if session.get_bind().dialect.name == "postgresql":
        lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(lock)))
