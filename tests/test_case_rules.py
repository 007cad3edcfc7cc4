"""The case rules (`CaseService`): status moves, refusals, roles, escalation, thread messages,
list views and the append-only audit trail. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pytest
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_AGENT,
    BILLING_CHANNEL,
    DESK_YAML,
    HELP_CHANNEL,
    MANAGER,
    OUTSIDER,
    REQUESTER,
    START,
    SUPPORT_CHANNEL,
    StaticDirectory,
    actor,
)
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.cases.queries import CasePage, list_cases
from bot.cases.rules import CaseChange, CaseService
from bot.clock import ManualClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.errors import BadInput, CasedeskError, CaseNotFound, InvalidMove, NotAllowed
from bot.roster import Roster
from models import Case, CaseEvent, EventSource

CARD_TS = "1700000000.000100"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
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


@pytest.fixture
def desk(database: Database, cases: CaseService, clock: ManualClock) -> Desk:
    return Desk(database, cases, clock)


def refused(error: type[CasedeskError], change: Callable[[], object]) -> str:
    """The message of the refusal `change` meets."""
    with pytest.raises(error) as raised:
        change()
    return raised.value.message


def closed_message(verb: str, by: str = AGENT, when: str = "10 min ago") -> str:
    return (
        f"Case #1 is already closed by <@{by}> {when}, so you cannot {verb} it. "
        "Use `/case reopen 1 <reason>` first."
    )


# Opening


def test_a_new_case_is_open_unassigned_and_recorded_with_its_team_and_priority(
    desk: Desk,
) -> None:
    number = desk.open("Printer on fire")

    case = desk.case(number)
    assert (number, case.status, case.assignee_id, case.team_key) == (1, "open", None, "support")
    assert (case.priority, case.opened_at, case.last_activity_at) == ("p3", START, START)
    assert desk.trail() == [Row(START, REQUESTER, "opened", to_value="open")]
    assert desk.events()[0].details == {"team": "support", "priority": "p3"}


@pytest.mark.parametrize(
    ("channel", "team", "priority"),
    [
        (SUPPORT_CHANNEL, "support", "p3"),
        (HELP_CHANNEL, "support", "p3"),
        (BILLING_CHANNEL, "billing", "p2"),
        ("C0INVOICES", "billing", "p2"),
        ("C0ELSEWHERE", "support", "p3"),
    ],
)
def test_a_case_lands_in_the_team_its_channel_routes_to_with_that_teams_default_priority(
    desk: Desk, channel: str, team: str, priority: str
) -> None:
    case = desk.case(desk.open(channel_id=channel))

    assert (case.team_key, case.priority, case.origin_channel_id) == (team, priority, channel)


def test_an_explicit_team_and_priority_win_over_the_channel(desk: Desk) -> None:
    case = desk.case(desk.open(team_key="billing", priority="p1", channel_id=HELP_CHANNEL))

    assert (case.team_key, case.priority) == ("billing", "p1")


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_a_case_without_a_title_is_refused(desk: Desk, title: str) -> None:
    message = refused(BadInput, lambda: desk.open(title))

    assert message == "A case needs a title: `/case open [p1-p4] [team:<key>] <title>`."


def test_opening_for_an_unknown_team_is_refused_and_lists_the_teams(desk: Desk) -> None:
    assert refused(BadInput, lambda: desk.open(team_key="sales")) == NO_TEAM_MESSAGE


def test_opening_with_an_unknown_priority_is_refused(desk: Desk) -> None:
    message = refused(BadInput, lambda: desk.open(priority="p9"))

    assert message == "`p9` is not a priority; use p1, p2, p3 or p4."


# Claiming


def test_an_agent_claims_an_open_case_and_it_moves_to_in_progress(desk: Desk) -> None:
    desk.open()
    claimed_at = desk.clock.advance(5 * MINUTE)
    desk.claim(by=AGENT)

    case = desk.case()
    assert (case.status, case.assignee_id, case.first_assignee_id) == ("in_progress", AGENT, AGENT)
    assert (case.claimed_at, case.last_activity_at) == (claimed_at, claimed_at)
    assert desk.trail()[1:] == [
        Row(claimed_at, AGENT, "claimed", to_value=AGENT, status_before="open",
            status_after="in_progress"),
    ]  # fmt: skip


@pytest.mark.parametrize("member", [AGENT_2, MANAGER], ids=["usergroup-member", "manager"])
def test_usergroup_members_and_managers_count_as_agents(desk: Desk, member: str) -> None:
    desk.open()
    desk.claim(by=member)

    assert desk.case().assignee_id == member


@pytest.mark.parametrize("user", [OUTSIDER, REQUESTER, BILLING_AGENT, "U0BILLMGR"])
def test_a_claim_by_someone_who_is_not_an_agent_of_the_team_is_refused_and_names_the_rule(
    desk: Desk, user: str
) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.claim(by=user))

    assert message == "Only agents and managers of Customer Support can claim cases."
    assert desk.case().status == "open"


def test_second_claim_is_refused_and_names_who_has_it(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)
    desk.clock.advance(5 * MINUTE)

    message = refused(InvalidMove, lambda: desk.claim(by=AGENT_2))

    assert message == (
        "Case #1 is already claimed by <@U0AGENT1> (5 min ago). "
        "Ask them or a manager to hand it over with `/case assign 1 @you`."
    )
    assert desk.case().assignee_id == AGENT


def test_claiming_a_case_you_already_have_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)

    assert refused(InvalidMove, lambda: desk.claim(by=AGENT)) == "You already have case #1."


# Assigning and unassigning


def test_a_manager_assigns_an_open_case_to_an_agent(desk: Desk) -> None:
    desk.open()
    at = desk.clock.advance(MINUTE)
    desk.assign(to=AGENT_2, by=MANAGER)

    case = desk.case()
    assert (case.status, case.assignee_id, case.claimed_at) == ("in_progress", AGENT_2, at)
    assert desk.trail()[-1] == Row(
        at, MANAGER, "assigned", to_value=AGENT_2, status_before="open", status_after="in_progress"
    )


def test_the_assignee_hands_the_case_over_and_the_first_assignee_is_kept(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)
    at = desk.clock.advance(MINUTE)
    desk.assign(to=AGENT_2, by=AGENT)

    case = desk.case()
    assert (case.assignee_id, case.first_assignee_id, case.status) == (
        AGENT_2,
        AGENT,
        "in_progress",
    )
    assert desk.trail()[-1] == Row(at, AGENT, "assigned", from_value=AGENT, to_value=AGENT_2)


def test_an_agent_may_assign_an_unassigned_case_to_themselves(desk: Desk) -> None:
    desk.open()
    desk.assign(to=AGENT_2, by=AGENT_2)

    assert desk.case().assignee_id == AGENT_2


def test_assigning_by_someone_who_is_neither_manager_nor_assignee_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)

    message = refused(NotAllowed, lambda: desk.assign(to=AGENT_2, by=AGENT_2))

    assert message == (
        "Only a manager of Customer Support or the case's assignee can assign case #1 "
        "to someone else."
    )
    assert desk.case().assignee_id == AGENT


@pytest.mark.parametrize("assignee", [BILLING_AGENT, OUTSIDER, "U0BILLMGR"])
def test_assigning_to_someone_who_is_not_an_agent_of_the_team_is_refused(
    desk: Desk, assignee: str
) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.assign(to=assignee, by=MANAGER))

    assert message == (
        f"<@{assignee}> is not an agent of Customer Support, so they cannot take case #1."
    )


def test_assigning_to_the_current_assignee_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim(by=AGENT)

    message = refused(InvalidMove, lambda: desk.assign(to=AGENT, by=MANAGER))

    assert message == "Case #1 is already assigned to <@U0AGENT1>."


@pytest.mark.parametrize("by", [AGENT, MANAGER], ids=["assignee", "manager"])
def test_unassigning_puts_the_case_back_in_the_queue_as_open(desk: Desk, by: str) -> None:
    desk.open()
    desk.claim(by=AGENT)
    at = desk.clock.advance(MINUTE)
    desk.unassign(by=by)

    case = desk.case()
    assert (case.status, case.assignee_id) == ("open", None)
    assert desk.trail()[-1] == Row(
        at, by, "unassigned", from_value=AGENT, status_before="in_progress", status_after="open"
    )


@pytest.mark.parametrize("by", [AGENT_2, REQUESTER, OUTSIDER])
def test_unassigning_someone_elses_case_is_refused(desk: Desk, by: str) -> None:
    desk.open()
    desk.claim(by=AGENT)

    message = refused(NotAllowed, lambda: desk.unassign(by=by))

    assert message == "Only a manager of Customer Support or the assignee can unassign case #1."
    assert desk.case().assignee_id == AGENT


def test_unassigning_a_case_nobody_has_is_refused(desk: Desk) -> None:
    desk.open()

    assert refused(InvalidMove, lambda: desk.unassign(by=MANAGER)) == "Case #1 has no assignee."


# Waiting on the requester


def test_pending_parks_an_in_progress_case_and_resume_puts_it_back(desk: Desk) -> None:
    desk.open()
    desk.claim()
    parked = desk.clock.advance(MINUTE)
    desk.pending(reason="Waiting for the invoice number")
    case = desk.case()
    assert (case.status, case.pending_reason, case.pending_since) == (
        "pending",
        "Waiting for the invoice number",
        parked,
    )

    resumed = desk.clock.advance(HOUR)
    desk.resume(by=AGENT)

    case = desk.case()
    assert (case.status, case.pending_reason, case.pending_since) == ("in_progress", None, None)
    assert desk.trail()[2:] == [
        Row(parked, AGENT, "pending", status_before="in_progress", status_after="pending"),
        Row(resumed, AGENT, "resumed", status_before="pending", status_after="in_progress"),
    ]
    assert desk.events()[2].details == {"reason": "Waiting for the invoice number"}


def test_the_requester_may_resume_their_pending_case(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending()
    desk.resume(by=REQUESTER)

    assert desk.case().status == "in_progress"
    assert desk.events()[-1].actor_id == REQUESTER


def test_a_pending_case_that_lost_its_assignee_resumes_as_open(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending()
    desk.unassign()
    desk.resume(by=MANAGER)

    assert (desk.case().status, desk.trail()[-1].status_after) == ("open", "open")


def test_resume_by_someone_who_is_neither_agent_nor_requester_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending()

    message = refused(NotAllowed, lambda: desk.resume(by=OUTSIDER))

    assert message == "Only agents and managers of Customer Support can resume cases."
    assert desk.case().status == "pending"


def test_pending_on_an_open_unclaimed_case_asks_to_claim_it_first(desk: Desk) -> None:
    desk.open()

    message = refused(InvalidMove, lambda: desk.pending())

    assert message == "Nobody is working on case #1 yet. Claim it first with `/case claim 1`."


def test_pending_twice_says_it_is_already_pending_and_how_to_resume(desk: Desk) -> None:
    desk.open()
    desk.claim()
    desk.pending(reason="Waiting for logs")

    message = refused(InvalidMove, lambda: desk.pending(reason="Waiting for more logs"))

    assert message == (
        "Case #1 is already pending (Waiting for logs). `/case resume 1` puts it back in progress."
    )


@pytest.mark.parametrize(("claimed", "label"), [(False, "open"), (True, "in progress")])
def test_resuming_a_case_that_is_not_pending_is_refused(
    desk: Desk, claimed: bool, label: str
) -> None:
    desk.open()
    if claimed:
        desk.claim()

    message = refused(InvalidMove, lambda: desk.resume(by=AGENT))

    assert message == f"Case #1 is not pending; it is {label}."


def test_pending_by_someone_who_is_not_an_agent_is_refused(desk: Desk) -> None:
    desk.open()
    desk.claim()

    message = refused(NotAllowed, lambda: desk.pending(by=REQUESTER))

    assert message == "Only agents and managers of Customer Support can mark cases as pending."


# Closing and reopening


@pytest.mark.parametrize("status", ["open", "in_progress", "pending"])
def test_an_agent_closes_a_case_from_any_open_status(desk: Desk, status: str) -> None:
    desk.open()
    if status != "open":
        desk.claim()
    if status == "pending":
        desk.pending()
    closed_at = desk.clock.advance(HOUR)
    desk.close(resolution="Reset the password", by=AGENT_2)

    case = desk.case()
    assert (case.status, case.resolution) == ("closed", "Reset the password")
    assert (case.closed_at, case.closed_by, case.pending_reason, case.pending_since) == (
        closed_at,
        AGENT_2,
        None,
        None,
    )
    assert desk.trail()[-1] == Row(
        closed_at, AGENT_2, "closed", status_before=status, status_after="closed"
    )
    assert desk.events()[-1].details == {"resolution": "Reset the password"}


def test_closing_by_someone_who_is_not_an_agent_is_refused(desk: Desk) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.close(by=REQUESTER))

    assert message == "Only agents and managers of Customer Support can close cases."


@pytest.mark.parametrize(
    ("verb", "change"),
    [
        ("claim", lambda desk: desk.claim(by=AGENT_2)),
        ("mark as pending", lambda desk: desk.pending()),
        ("close", lambda desk: desk.close()),
        ("assign", lambda desk: desk.assign(to=AGENT_2)),
        ("unassign", lambda desk: desk.unassign()),
        ("escalate", lambda desk: desk.escalate()),
        ("resume", lambda desk: desk.resume()),
    ],
)
def test_changing_a_closed_case_says_who_closed_it_and_how_to_reopen(
    desk: Desk, verb: str, change: Callable[[Desk], object]
) -> None:
    desk.open()
    desk.claim()
    desk.close(by=AGENT)
    desk.clock.advance(10 * MINUTE)

    message = refused(InvalidMove, lambda: change(desk))

    assert message == closed_message(verb)
    assert desk.actions() == ["opened", "claimed", "closed"]


def test_reopening_an_assigned_case_puts_it_back_in_progress_and_counts_the_reopen(
    desk: Desk,
) -> None:
    desk.open()
    desk.claim()
    desk.close()
    reopened_at = desk.clock.advance(HOUR)
    desk.reopen(reason="Still cannot log in", by=REQUESTER)

    case = desk.case()
    assert (case.status, case.assignee_id, case.reopen_count) == ("in_progress", AGENT, 1)
    assert (case.reopened_at, case.resolution) == (reopened_at, None)
    assert desk.trail()[-1] == Row(
        reopened_at, REQUESTER, "reopened", status_before="closed", status_after="in_progress"
    )
    assert desk.events()[-1].details == {"reason": "Still cannot log in"}


def test_reopening_an_unassigned_case_puts_it_back_open(desk: Desk) -> None:
    desk.open()
    desk.close()
    desk.reopen(by=AGENT)

    assert (desk.case().status, desk.trail()[-1].status_after) == ("open", "open")


def test_each_reopen_is_counted(desk: Desk) -> None:
    desk.open()
    for _ in range(2):
        desk.close()
        desk.reopen()

    assert desk.case().reopen_count == 2


@pytest.mark.parametrize("by", [OUTSIDER, BILLING_AGENT])
def test_reopening_by_an_outsider_is_refused(desk: Desk, by: str) -> None:
    desk.open()
    desk.close()

    message = refused(NotAllowed, lambda: desk.reopen(by=by))

    assert message == (
        "Only the requester or an agent or manager of Customer Support can reopen case #1."
    )
    assert desk.case().status == "closed"


@pytest.mark.parametrize(("claimed", "label"), [(False, "open"), (True, "in progress")])
def test_reopening_a_case_that_is_not_closed_is_refused(
    desk: Desk, claimed: bool, label: str
) -> None:
    desk.open()
    if claimed:
        desk.claim()

    assert refused(InvalidMove, lambda: desk.reopen()) == f"Case #1 is not closed; it is {label}."


# Required text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda desk: desk.close(resolution="  "),
            "Please give a resolution: `/case close 1 <resolution>`.",
        ),
        (
            lambda desk: desk.pending(reason=""),
            "Please give what you are waiting for: `/case pending 1 <what we wait for>`.",
        ),
        (
            lambda desk: desk.escalate(reason="\n"),
            "Please give a reason: `/case escalate 1 <reason>`.",
        ),
        (lambda desk: desk.note(note=" "), "Please give the note's text: `/case note 1 <text>`."),
    ],
    ids=["close", "pending", "escalate", "note"],
)
def test_blank_reasons_and_resolutions_are_refused_with_the_usage(
    desk: Desk, change: Callable[[Desk], object], message: str
) -> None:
    desk.open()
    desk.claim()

    assert refused(BadInput, lambda: change(desk)) == message
    assert desk.actions() == ["opened", "claimed"]


def test_reopening_without_a_reason_is_refused_with_the_usage(desk: Desk) -> None:
    desk.open()
    desk.close()

    message = refused(BadInput, lambda: desk.reopen(reason="   "))

    assert message == "Please give a reason: `/case reopen 1 <reason>`."
    assert desk.case().status == "closed"


@pytest.mark.parametrize(
    "change",
    [
        lambda desk: desk.claim(99),
        lambda desk: desk.assign(99),
        lambda desk: desk.unassign(99),
        lambda desk: desk.escalate(99),
        lambda desk: desk.pending(99),
        lambda desk: desk.resume(99),
        lambda desk: desk.close(99),
        lambda desk: desk.reopen(99),
        lambda desk: desk.note(99),
        lambda desk: desk.case(99),
    ],
    ids=["claim", "assign", "unassign", "escalate", "pending", "resume", "close", "reopen",
         "note", "get"],
)  # fmt: skip
def test_an_unknown_case_number_is_refused(desk: Desk, change: Callable[[Desk], object]) -> None:
    desk.open()

    message = refused(CaseNotFound, lambda: change(desk))

    assert message == "There is no case #99. `/case list` shows the open ones."


# Escalation


def test_escalating_raises_the_level_one_step_at_a_time(desk: Desk) -> None:
    desk.open()
    first = desk.clock.advance(MINUTE)
    desk.escalate(reason="Key account", by=AGENT)
    second = desk.clock.advance(MINUTE)
    desk.escalate(reason="Still down", by=MANAGER)

    case = desk.case()
    assert (case.escalation_level, case.last_escalated_at, case.team_key) == (2, second, "support")
    assert desk.trail()[1:] == [
        Row(first, AGENT, "escalated", from_value="0", to_value="1"),
        Row(second, MANAGER, "escalated", from_value="1", to_value="2"),
    ]
    assert desk.events()[1].details == {"reason": "Key account", "from_team": "support"}


def test_escalating_to_the_same_team_does_not_move_the_case(desk: Desk) -> None:
    desk.open()
    desk.attach_card()
    change = desk.escalate(to="support")

    assert (change.moved_from, desk.case().channel_id) == (None, SUPPORT_CHANNEL)
    assert desk.actions() == ["opened", "escalated"]


def test_escalating_to_another_team_moves_the_case_and_releases_an_assignee_not_on_it(
    desk: Desk,
) -> None:
    desk.open()
    desk.attach_card()
    desk.claim(by=AGENT)
    at = desk.clock.advance(MINUTE)
    change = desk.escalate(reason="Refund needed", to="billing", by=AGENT)

    case = desk.case()
    assert (case.team_key, case.escalation_level, case.status) == ("billing", 1, "open")
    assert (case.assignee_id, case.channel_id, case.card_ts) == (None, None, None)
    assert change.moved_from == (SUPPORT_CHANNEL, CARD_TS)
    assert desk.trail()[2:] == [
        Row(at, AGENT, "escalated", from_value="0", to_value="1"),
        Row(at, AGENT, "team_changed", from_value="support", to_value="billing"),
        Row(at, AGENT, "unassigned", from_value=AGENT, status_before="in_progress",
            status_after="open"),
    ]  # fmt: skip
    details = [event.details for event in desk.events()[2:]]
    assert details == [
        {"reason": "Refund needed", "from_team": "support", "to_team": "billing"},
        {},
        {"reason": "not an agent of Billing"},
    ]


def test_escalating_to_another_team_keeps_an_assignee_who_is_also_on_that_team(
    database: Database, clock: ManualClock
) -> None:
    shared = DESK_YAML.replace(f"agents: [{BILLING_AGENT}]", f"agents: [{BILLING_AGENT}, {AGENT}]")
    config = parse_desk_config(shared, source="shared agent")
    roster = Roster(config, StaticDirectory({"S0SUPPORT": [AGENT_2]}), clock)
    desk = Desk(database, CaseService(config, roster, clock), clock)
    desk.open()
    desk.claim(by=AGENT)
    desk.escalate(to="billing")

    case = desk.case()
    assert (case.team_key, case.assignee_id, case.status) == ("billing", AGENT, "in_progress")
    assert desk.actions() == ["opened", "claimed", "escalated", "team_changed"]


def test_after_moving_team_the_new_teams_agents_work_the_case_and_the_old_ones_cannot(
    desk: Desk,
) -> None:
    desk.open()
    desk.escalate(to="billing")

    message = refused(NotAllowed, lambda: desk.claim(by=AGENT))
    desk.claim(by=BILLING_AGENT)

    assert message == "Only agents and managers of Billing can claim cases."
    assert desk.case().assignee_id == BILLING_AGENT


def test_escalating_to_an_unknown_team_is_refused_and_lists_the_teams(desk: Desk) -> None:
    desk.open()

    assert refused(BadInput, lambda: desk.escalate(to="sales")) == NO_TEAM_MESSAGE
    assert desk.case().escalation_level == 0


def test_escalating_by_someone_who_is_not_an_agent_is_refused(desk: Desk) -> None:
    desk.open()

    message = refused(NotAllowed, lambda: desk.escalate(by=REQUESTER))

    assert message == "Only agents and managers of Customer Support can escalate cases."


# Messages in the case thread


def test_a_requester_reply_is_recorded_as_a_customer_reply(desk: Desk) -> None:
    desk.open()
    desk.attach_card()
    at = desk.clock.advance(MINUTE)
    change = desk.message(REQUESTER)

    assert change is not None
    assert change.card_changed is False
    assert desk.trail()[-1] == Row(at, REQUESTER, "customer_replied", "thread")
    assert desk.events()[-1].details == {"message_ts": f"{at.timestamp():.6f}"}


def test_a_requester_reply_resumes_a_pending_case(desk: Desk) -> None:
    desk.open()
    desk.attach_card()
    desk.claim()
    desk.pending()
    at = desk.clock.advance(HOUR)
    change = desk.message(REQUESTER)

    assert change is not None
    assert change.card_changed is True
    assert desk.case().status == "in_progress"
    assert desk.trail()[-2:] == [
        Row(at, REQUESTER, "customer_replied", "thread"),
        Row(at, REQUESTER, "resumed", "thread", status_before="pending",
            status_after="in_progress"),
    ]  # fmt: skip
    assert desk.events()[-1].details["cause"] == "requester replied"


@pytest.mark.parametrize("agent", [AGENT, AGENT_2, MANAGER])
def test_the_first_agent_reply_sets_first_response_only_once(desk: Desk, agent: str) -> None:
    desk.open()
    desk.attach_card()
    first = desk.clock.advance(20 * MINUTE)
    first_change = desk.message(agent)
    later = desk.clock.advance(HOUR)
    later_change = desk.message(AGENT)

    assert desk.case().first_response_at == first
    assert desk.trail()[1:] == [
        Row(first, agent, "responded", "thread"),
        Row(later, AGENT, "responded", "thread"),
    ]
    assert [event.details.get("first_response") for event in desk.events()[1:]] == [True, None]
    assert first_change is not None
    assert first_change.card_changed is True
    assert later_change is not None
    assert later_change.card_changed is False


@pytest.mark.parametrize("user", [OUTSIDER, BILLING_AGENT])
def test_a_message_by_anyone_else_is_recorded_as_a_comment(desk: Desk, user: str) -> None:
    desk.open()
    desk.attach_card()
    desk.message(user)

    assert desk.actions() == ["opened", "commented"]
    assert desk.case().first_response_at is None


def test_a_slack_retry_of_the_same_event_is_recorded_once(desk: Desk) -> None:
    desk.open()
    desk.attach_card()

    first = desk.message(AGENT, event_id="Ev001")
    retry = desk.message(AGENT, event_id="Ev001")
    other = desk.message(AGENT, event_id="Ev002")

    assert (first is not None, retry, other is not None) == (True, None, True)
    assert desk.actions() == ["opened", "responded", "responded"]


def test_a_message_in_a_thread_that_is_no_case_is_ignored(desk: Desk) -> None:
    desk.open()
    desk.attach_card()

    assert desk.message(AGENT, thread_ts="1700000999.000100") is None
    assert desk.message(AGENT, channel=BILLING_CHANNEL) is None
    assert desk.actions() == ["opened"]


def test_replies_in_the_old_thread_still_reach_a_case_that_moved_team(desk: Desk) -> None:
    desk.open()
    desk.attach_card(channel=SUPPORT_CHANNEL)
    desk.escalate(to="billing")
    desk.message(BILLING_AGENT, channel=SUPPORT_CHANNEL)

    assert desk.actions()[-1] == "responded"


# List views


@pytest.fixture
def six_cases(desk: Desk) -> Desk:
    """#1 open, #2 AGENT's, #3 AGENT's pending, #4 AGENT_2's escalated, #5 closed, #6 billing
    open; each touched a minute after the one before, so #6 has the newest activity."""
    steps: list[Callable[[int], object]] = [
        lambda n: None,
        lambda n: desk.claim(n, by=AGENT),
        lambda n: (desk.claim(n, by=AGENT), desk.pending(n)),
        lambda n: (desk.claim(n, by=AGENT_2), desk.escalate(n, by=AGENT_2)),
        lambda n: desk.close(n),
        lambda n: None,
    ]
    for index, step in enumerate(steps):
        desk.clock.advance(MINUTE)
        step(desk.open(f"Case {index + 1}", team_key="billing" if index == 5 else None))
    return desk


@pytest.mark.parametrize(
    ("view", "user", "numbers"),
    [
        ("open", AGENT, [6, 4, 3, 2, 1]),
        ("mine", AGENT, [3, 2]),
        ("mine", AGENT_2, [4]),
        ("mine", OUTSIDER, []),
        ("unassigned", AGENT, [6, 1]),
        ("escalated", AGENT, [4]),
        ("pending", AGENT, [3]),
        ("closed", AGENT, [5]),
    ],
)
def test_each_list_view_shows_its_cases_newest_activity_first(
    six_cases: Desk, view: str, user: str, numbers: list[int]
) -> None:
    assert six_cases.listed(view, user=user) == numbers


@pytest.mark.parametrize(
    ("view", "team", "numbers"),
    [("open", "support", [4, 3, 2, 1]), ("open", "billing", [6]), ("unassigned", "billing", [6])],
)
def test_a_team_filter_narrows_a_list_to_that_team(
    six_cases: Desk, view: str, team: str, numbers: list[int]
) -> None:
    assert six_cases.listed(view, team_key=team) == numbers


def test_activity_on_an_old_case_brings_it_to_the_top(desk: Desk) -> None:
    for n in range(3):
        desk.clock.advance(MINUTE)
        desk.open(f"Case {n + 1}")
    desk.clock.advance(MINUTE)
    desk.claim(1)

    assert desk.listed("open") == [1, 3, 2]


@pytest.mark.parametrize(
    ("count", "first_page", "second_page"),
    [(10, (10, False), None), (11, (10, True), (1, False)), (21, (10, True), (10, True))],
)
def test_lists_come_ten_a_page_and_say_when_there_are_more(
    desk: Desk,
    count: int,
    first_page: tuple[int, bool],
    second_page: tuple[int, bool] | None,
) -> None:
    for n in range(count):
        desk.clock.advance(MINUTE)
        desk.open(f"Case {n + 1}")

    page = desk.page("open")
    assert (len(page.cases), page.has_more) == first_page
    assert page.cases[0].id == count
    if second_page:
        following = desk.page("open", offset=10)
        assert (len(following.cases), following.has_more, following.offset) == (*second_page, 10)
        assert following.cases[0].id == count - 10


def test_an_unknown_list_view_or_team_is_refused(desk: Desk) -> None:
    view_message = refused(BadInput, lambda: desk.listed("everything"))
    team_message = refused(BadInput, lambda: desk.listed("open", team_key="sales"))

    assert view_message == (
        "`everything` is not a list; use one of: open, mine, unassigned, escalated, pending, "
        "closed."
    )
    assert team_message == NO_TEAM_MESSAGE


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
