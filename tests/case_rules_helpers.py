"""What the modules about the case rules (`CaseService`) share: `Desk`, which makes each call
one unit of work around one service call as a request does (and the `desk` fixture that gives
one), the audit `Row` the tests compare, and `refused`, the words a refusal is told in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import pytest
from conftest import AGENT, MANAGER, REQUESTER, SUPPORT_CHANNEL, actor
from sqlalchemy import select

from bot.cases.changes import CaseChange
from bot.cases.queries import CasePage, list_cases
from bot.cases.rules import CaseService
from bot.cases.views.refusals import describe
from bot.clock import ManualClock
from bot.db import Database
from bot.refusals import Refusal
from models import Case, CaseEvent

CARD_TS = "1700000000.000100"
NO_TEAM_MESSAGE = "There is no team `sales`. Teams: `support`, `billing`."


class Row(NamedTuple):
    """One audit event as the tests compare it."""

    at: datetime
    actor: str
    action: str
    source: str = "command"
    from_value: str | None = None
    to_value: str | None = None
    status_before: str | None = None
    status_after: str | None = None


class Desk:
    """Each call is one unit of work around one `CaseService` call, as a request is."""

    def __init__(self, db: Database, cases: CaseService, clock: ManualClock) -> None:
        self.db, self.cases, self.clock = db, cases, clock

    def open(self, title: str = "Printer on fire", *, by: str = REQUESTER, **options: Any) -> int:
        with self.db.unit_of_work() as session:
            return self.cases.open(session, actor=actor(by), title=title, **options).case.id

    def claim(self, number: int = 1, *, by: str = AGENT) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.claim(session, number=number, actor=actor(by))

    def assign(self, number: int = 1, *, to: str = AGENT, by: str = MANAGER) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.assign(session, number=number, actor=actor(by), assignee_id=to)

    def unassign(self, number: int = 1, *, by: str = AGENT) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.unassign(session, number=number, actor=actor(by))

    def escalate(
        self,
        number: int = 1,
        reason: str = "Key account",
        *,
        by: str = AGENT,
        to: str | None = None,
    ) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.escalate(
                session, number=number, actor=actor(by), reason=reason, to_team_key=to
            )

    def pending(
        self, number: int = 1, reason: str = "Waiting for the invoice", *, by: str = AGENT
    ) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.pending(session, number=number, actor=actor(by), reason=reason)

    def resume(self, number: int = 1, *, by: str = AGENT) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.resume(session, number=number, actor=actor(by))

    def close(
        self, number: int = 1, resolution: str = "Reset the password", *, by: str = AGENT
    ) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.close(session, number=number, actor=actor(by), resolution=resolution)

    def reopen(
        self, number: int = 1, reason: str = "Still broken", *, by: str = REQUESTER
    ) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.reopen(session, number=number, actor=actor(by), reason=reason)

    def note(self, number: int = 1, note: str = "Called them", *, by: str = AGENT) -> CaseChange:
        with self.db.unit_of_work() as session:
            return self.cases.note(session, number=number, actor=actor(by), text=note)

    def attach_card(self, number: int = 1, channel: str = SUPPORT_CHANNEL) -> None:
        with self.db.unit_of_work() as session:
            self.cases.attach_card(session, number=number, channel_id=channel, card_ts=CARD_TS)

    def message(
        self,
        user: str,
        *,
        event_id: str | None = None,
        channel: str = SUPPORT_CHANNEL,
        thread_ts: str = CARD_TS,
    ) -> CaseChange | None:
        """A person writes in a thread; the message's own ts is the clock's time."""
        with self.db.unit_of_work() as session:
            return self.cases.record_thread_message(
                session,
                event_id=event_id,
                channel_id=channel,
                thread_ts=thread_ts,
                message_ts=f"{self.clock.now().timestamp():.6f}",
                user_id=user,
            )

    def case(self, number: int = 1) -> Case:
        with self.db.read_only() as session:
            return self.cases.get(session, number)

    def events(self, number: int = 1) -> list[CaseEvent]:
        with self.db.read_only() as session:
            query = select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
            return list(session.scalars(query))

    def trail(self, number: int = 1) -> list[Row]:
        return [
            Row(
                e.at,
                e.actor_id,
                e.action.value,
                e.source.value,
                e.from_value,
                e.to_value,
                e.status_before,
                e.status_after,
            )
            for e in self.events(number)
        ]

    def actions(self, number: int = 1) -> list[str]:
        return [event.action.value for event in self.events(number)]

    def page(self, view: str = "open", *, user: str = AGENT, **options: Any) -> CasePage:
        with self.db.read_only() as session:
            if options.get("team_key"):
                self.cases.team(options["team_key"])
            return list_cases(session, view=view, user_id=user, **options)

    def listed(self, view: str = "open", *, user: str = AGENT, **options: Any) -> list[int]:
        return [case.id for case in self.page(view, user=user, **options).cases]


@pytest.fixture(name="desk")
def desk_fixture(database: Database, cases: CaseService, clock: ManualClock) -> Desk:
    return Desk(database, cases, clock)


def refused(error: type[Refusal], change: Callable[[], object]) -> str:
    """What the person is told of the refusal `change` meets."""
    with pytest.raises(error) as raised:
        change()
    return describe(raised.value)
