"""The audit trail: a case's life recorded event by event with the clock's times and where each
change came from, nothing recorded for a refused change, and the events append-only in the
database itself. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from case_rules_helpers import (
    Desk,
    Row,
    desk_fixture,  # noqa: F401  (the desk fixture)
    refused,
)
from conftest import AGENT, AGENT_2, OUTSIDER, REQUESTER, START, actor
from helpers import HOUR, MINUTE
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.cases.rules import CaseService
from bot.db import Database
from bot.refusals import BadInput, InvalidMove, NotAllowed
from models import EventSource

# The audit trail


def test_a_case_life_is_recorded_event_by_event_with_the_clock_times(desk: Desk) -> None:
    t0 = START
    desk.open()
    desk.attach_card()
    t1 = desk.clock.advance(5 * MINUTE)
    desk.claim(by=AGENT)
    t2 = desk.clock.advance(10 * MINUTE)
    desk.pending(by=AGENT)
    t3 = desk.clock.advance(2 * HOUR)
    desk.message(REQUESTER)
    t4 = desk.clock.advance(30 * MINUTE)
    desk.close(by=AGENT)
    t5 = desk.clock.advance(24 * HOUR)
    desk.reopen(by=REQUESTER)

    assert desk.trail() == [
        Row(t0, REQUESTER, "opened", to_value="open"),
        Row(t1, AGENT, "claimed", to_value=AGENT, status_before="open", status_after="in_progress"),
        Row(t2, AGENT, "pending", status_before="in_progress", status_after="pending"),
        Row(t3, REQUESTER, "customer_replied", "thread"),
        Row(t3, REQUESTER, "resumed", "thread", status_before="pending",
            status_after="in_progress"),
        Row(t4, AGENT, "closed", status_before="in_progress", status_after="closed"),
        Row(t5, REQUESTER, "reopened", status_before="closed", status_after="in_progress"),
    ]  # fmt: skip
    assert desk.case().last_activity_at == t5


@pytest.mark.parametrize("source", [EventSource.BUTTON, EventSource.MODAL])
def test_each_event_records_where_the_change_came_from(
    desk: Desk, database: Database, cases: CaseService, source: EventSource
) -> None:
    desk.open()
    with database.unit_of_work() as session:
        cases.claim(session, number=1, actor=actor(AGENT, source))

    assert desk.events()[-1].source == source


def test_a_note_is_recorded_without_changing_the_status(desk: Desk) -> None:
    desk.open()
    at = desk.clock.advance(MINUTE)
    change = desk.note(note="Called the customer", by=AGENT)

    assert change.card_changed is False
    assert desk.trail()[-1] == Row(at, AGENT, "note")
    assert desk.events()[-1].details == {"text": "Called the customer"}
    assert desk.case().status == "open"


def test_a_refused_change_records_nothing(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)
    before = desk.trail()
    desk.clock.advance(MINUTE)

    refused(InvalidMove, lambda: desk.claim(by=AGENT_2))
    refused(NotAllowed, lambda: desk.close(by=OUTSIDER))
    refused(BadInput, lambda: desk.escalate(reason=" "))

    assert desk.trail() == before
    assert desk.case().last_activity_at == START


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_events SET actor_id = 'U0FORGER'",
        "UPDATE case_events SET details = '{}' WHERE action = 'opened'",
        "DELETE FROM case_events",
        "DELETE FROM case_events WHERE action = 'claimed'",
    ],
)
def test_the_audit_trail_is_append_only_in_the_database(desk: Desk, statement: str) -> None:
    desk.open()
    desk.clock.advance(MINUTE)
    desk.claim()
    before = desk.trail()

    with pytest.raises(DBAPIError, match="append-only"), desk.db.unit_of_work() as session:
        session.execute(text(statement))

    assert desk.trail() == before


def test_an_upsert_cannot_rewrite_an_event_either(desk: Desk) -> None:
    desk.open()
    before = desk.trail()
    columns = "id, case_id, team_key, at, actor_id, action, source, details"
    rewrite = (
        "SELECT id, case_id, team_key, at, 'U0FORGER', action, source, details FROM case_events"
    )
    statement = (
        f"INSERT OR REPLACE INTO case_events ({columns}) {rewrite}"
        if desk.db.is_sqlite
        else f"INSERT INTO case_events ({columns}) {rewrite} "
        "ON CONFLICT (id) DO UPDATE SET actor_id = excluded.actor_id"
    )

    with pytest.raises(DBAPIError, match="append-only"), desk.db.unit_of_work() as session:
        session.execute(text(statement))

    assert desk.trail() == before


def test_history_can_still_grow_after_a_refused_rewrite(desk: Desk) -> None:
    desk.open()
    with pytest.raises(DBAPIError), desk.db.unit_of_work() as session:
        session.execute(text("DELETE FROM case_events"))
    desk.claim()

    assert desk.actions() == ["opened", "claimed"]
