"""`python -m bot sandbox --seed`: live through a realistic week before the page opens.

The clock starts a week back; people open cases, agents claim and answer them, ask the
requester for details, escalate and close, requesters rate, all through the same signed
requests the page sends, while the scheduler's jobs run as time passes (so SLA alerts and the
daily summaries appear where they would have).
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.ids import ActionId
from bot.sandbox.actions import Sandbox
from bot.sandbox.workspace import REQUESTER_ID
from models import Case, CaseStatus

TITLES = (
    "Cannot log in after the update",
    "Invoice shows the wrong VAT",
    "Export to CSV times out",
    "Password reset email never arrives",
    "Mobile app crashes on start",
    "Refund not received",
    "Cannot invite a new team member",
    "Webhook deliveries fail with 500",
    "Two-factor code rejected",
    "Dashboard charts are empty",
    "Card declined although valid",
    "Search returns old results",
)
STEP_MINUTES = 30


def seed_week(sandbox: Sandbox, *, until: datetime, stop: threading.Event) -> None:
    """Live through the time from the clock's now `until` then (unless `stop` is set first)."""
    rng = random.Random(7)
    while sandbox.clock.now() < until - timedelta(minutes=STEP_MINUTES):
        if stop.is_set():
            return
        now = sandbox.clock.now()
        working_hours = now.weekday() < 5 and 8 <= now.hour < 17
        if working_hours and rng.random() < 0.45:
            _open_case(sandbox, rng)
        if working_hours:
            for case in _open_cases(sandbox):
                _work_on(sandbox, rng, case)
        sandbox.advance(STEP_MINUTES)
    sandbox.advance(max(1, int((until - sandbox.clock.now()).total_seconds() // 60)))


def _open_case(sandbox: Sandbox, rng: random.Random) -> None:
    team = rng.choice(list(sandbox.desk.teams.values()))
    where = team.routes_from[0] if team.routes_from else team.channel
    priority = rng.choices(("p1", "p2", "p3", "p4"), weights=(1, 3, 8, 3))[0]
    _do(sandbox, REQUESTER_ID, where, f"/case open {priority} team:{team.key} {rng.choice(TITLES)}")


def _work_on(sandbox: Sandbox, rng: random.Random, case: Case) -> None:
    agents = _agents_of(sandbox, case.team_key)
    if not agents:
        return
    channel = case.channel_id or sandbox.desk.team(case.team_key).channel
    if case.assignee_id is None:
        if rng.random() < 0.5:
            _click(
                sandbox,
                rng.choice(agents),
                {
                    "action_id": ActionId.CLAIM.value,
                    "value": str(case.id),
                    "channel": channel,
                    "message_ts": case.card_ts,
                },
            )
        return
    agent = case.assignee_id
    if case.first_response_at is None and case.card_ts:
        if rng.random() < 0.5:  # a case routed to them just now waits a little, too
            return
        _do(
            sandbox, agent, channel, "Thanks for reporting this, looking into it now.", case.card_ts
        )
        return
    roll = rng.random()
    if case.status is CaseStatus.PENDING:
        if roll < 0.4 and case.card_ts:
            _do(sandbox, REQUESTER_ID, channel, "Here are the details you asked for.", case.card_ts)
    elif roll < 0.08:
        _do(sandbox, agent, channel, f"/case pending {case.id} Waiting for a screenshot")
    elif roll < 0.12 and case.escalation_level == 0:
        _do(sandbox, agent, channel, f"/case escalate {case.id} Needs an engineer")
    elif roll < 0.35:
        _do(sandbox, agent, channel, f"/case close {case.id} Fixed and confirmed with the customer")
        _rate(sandbox, rng, case.id)


def _rate(sandbox: Sandbox, rng: random.Random, number: int) -> None:
    if rng.random() < 0.6:
        rating = rng.choices((2, 3, 4, 5), weights=(1, 2, 5, 7))[0]
        payload = {
            "action_id": ActionId.CSAT_RATE.value,
            "value": f"{number}:{rating}",
            "channel": REQUESTER_ID,
            "message_ts": "",
        }
        _click(sandbox, REQUESTER_ID, payload)


def _do(sandbox: Sandbox, user: str, channel: str, text: str, thread_ts: str | None = None) -> None:
    sandbox.type_text(user, channel, text, thread_ts)
    sandbox.casedesk.executor.wait_idle(timeout=30)


def _click(sandbox: Sandbox, user: str, payload: dict[str, Any]) -> None:
    sandbox.click(user, payload)
    sandbox.casedesk.executor.wait_idle(timeout=30)


def _open_cases(sandbox: Sandbox) -> list[Case]:
    with sandbox.casedesk.db.read_only() as session:
        newest = session.scalar(select(func.max(Case.id))) or 0
        return list(
            session.scalars(
                select(Case)
                .where(Case.status != CaseStatus.CLOSED, Case.id > newest - 40)
                .order_by(Case.id)
            )
        )


def _agents_of(sandbox: Sandbox, team_key: str) -> list[str]:
    return [p.user_id for p in sandbox.people if team_key in p.teams]
