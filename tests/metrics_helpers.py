"""What the modules about the team KPIs (`bot.metrics`) share: their desk (support counts round
the clock, billing office hours in Berlin), the periods, and `History` (with the `history`
fixture that gives one): a small history whose answer is known, written one request at a time
through the real case services with the clock moved between steps. Every test of a history
runs on SQLite and on PostgreSQL, and must give the same figures on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import AGENT, MANAGER, REQUESTER, actor, sla_desk
from helpers import DAY

from bot import metrics
from bot.cases.rules import CaseService
from bot.clock import ManualClock
from bot.csat.flow import Surveys
from bot.db import Database
from bot.desk import DeskConfig

# START is Monday 23 Nov 2026, 09:00 UTC; the periods below are that Monday, in UTC.
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
TUESDAY = MONDAY + DAY

# Support counts round the clock (so business time is wall time); billing counts office hours
# in Berlin (UTC+1 in November).
SLA_YAML = """
sla:
  teams:
    support:
      default: {first_response: 15m, resolution: 1h, calendar: 24x7}
    billing:
      default: {first_response: 1h, resolution: 8h, calendar: office}
"""


@pytest.fixture(name="desk_config")
def desk_config_fixture() -> DeskConfig:
    return sla_desk(SLA_YAML, source="metrics test desk")


# Helpers: a history written one request at a time


def card_ts(number: int) -> str:
    return f"1700000000.{number:06d}"


class History:
    """Each call is one unit of work around one service call, at the clock's time."""

    def __init__(self, db: Database, cases: CaseService, clock: ManualClock) -> None:
        self.db = db
        self.cases = cases
        self.clock = clock

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)

    def wait(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    def open(
        self,
        title: str = "Printer on fire",
        *,
        team: str = "support",
        priority: str | None = None,
        by: str = REQUESTER,
    ) -> int:
        """Open a case and give it a card, so replies in its thread can be recorded."""
        with self.db.unit_of_work() as session:
            change = self.cases.open(
                session, actor=actor(by), title=title, team_key=team, priority=priority
            )
            number = change.case.id
            channel = self.cases.desk.team(team).channel
            self.cases.attach_card(
                session, number=number, channel_id=channel, card_ts=card_ts(number)
            )
        return number

    def reply(self, number: int, by: str = AGENT) -> None:
        """Someone writes in the case's thread (an agent's first reply is the first response)."""
        with self.db.unit_of_work() as session:
            case = self.cases.get(session, number)
            assert case.channel_id is not None
            self.cases.record_thread_message(
                session,
                event_id=None,
                channel_id=case.channel_id,
                thread_ts=card_ts(number),
                message_ts=f"{self.clock.now().timestamp():.6f}",
                user_id=by,
            )

    def claim(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.claim(session, number=number, actor=actor(by))

    def assign(self, number: int, to: str, *, by: str = MANAGER) -> None:
        with self.db.unit_of_work() as session:
            self.cases.assign(session, number=number, actor=actor(by), assignee_id=to)

    def escalate(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.escalate(session, number=number, actor=actor(by), reason="Needs engineering")

    def escalate_to(self, number: int, team: str, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.escalate(
                session, number=number, actor=actor(by), reason="Billing question", to_team_key=team
            )

    def pending(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.pending(session, number=number, actor=actor(by), reason="Waiting for logs")

    def resume(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.resume(session, number=number, actor=actor(by))

    def close(self, number: int, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.close(session, number=number, actor=actor(by), resolution="Fixed")

    def reopen(self, number: int, by: str = REQUESTER) -> None:
        with self.db.unit_of_work() as session:
            self.cases.reopen(session, number=number, actor=actor(by), reason="Still broken")

    def set_priority(self, number: int, priority: str, by: str = AGENT) -> None:
        with self.db.unit_of_work() as session:
            self.cases.set_priority(session, number=number, actor=actor(by), priority=priority)

    def survey(self, number: int) -> bool:
        """The survey the close flow sends; returns whether it was queued."""
        with self.db.unit_of_work() as session:
            case = self.cases.get(session, number)
            return (
                Surveys(self.cases.desk, self.clock, self.cases).ask_after_close(session, case)
                is not None
            )

    def rate(self, number: int, rating: int, by: str = REQUESTER) -> None:
        with self.db.unit_of_work() as session:
            Surveys(self.cases.desk, self.clock, self.cases).rate(
                session, number=number, actor=actor(by), rating=rating
            )

    def kpis(
        self,
        start: datetime = MONDAY,
        end: datetime = TUESDAY,
        *,
        team: str = "support",
        followed_until: datetime | None = None,
    ) -> metrics.TeamKpis:
        """The team's KPIs over [start, end), followed until `followed_until` (by default the
        clock's now, as the summaries follow the period they report)."""
        with self.db.read_only() as session:
            return metrics.team_kpis(
                session,
                team_key=team,
                start=start,
                end=end,
                followed_until=followed_until or self.clock.now(),
            )

    def backlog(self, at: datetime, team: str = "support") -> dict[tuple[str, str], int]:
        with self.db.read_only() as session:
            return metrics.backlog(session, team_key=team, at=at)


@pytest.fixture(name="history")
def history_fixture(database: Database, cases: CaseService, clock: ManualClock) -> History:
    return History(database, cases, clock)
