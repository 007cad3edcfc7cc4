"""The per-agent table: load, handled and resolved cases, times, and the cases given to each
agent (by hand or by the team's routing) and those that left them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    case,
    distinct,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.metrics.sql import for_team, within
from bot.sqlfuncs import percentile
from models import OPEN_STATUSES, Case, CaseAction, CaseEvent


@dataclass(frozen=True)
class AgentRow:
    agent_id: str
    handled: int
    resolved: int
    first_response_median: float | None
    open_now: int
    # Cases given to the agent in the period (`assigned` events: by a manager, a hand-over or
    # the team's routing; a claim is no assignment), of which by the routing; and the cases
    # that left them (handed on, reassigned or unassigned).
    assigned: int = 0
    auto_assigned: int = 0
    reassigned_away: int = 0


def agent_table(
    session: Session, *, team_key: str, agents: list[str], start: datetime, end: datetime
) -> list[AgentRow]:
    """Per agent: cases handled (acted on) and resolved (closed at least once by them) in the
    period, their median first response time, the cases assigned to them now, and the cases
    assigned to them (automatically or not) and taken from them in the period."""
    if not agents:
        return []
    worked = (
        CaseAction.CLAIMED,
        CaseAction.ASSIGNED,
        CaseAction.RESPONDED,
        CaseAction.CLOSED,
        CaseAction.PENDING,
    )
    handled = _per_actor(
        session, func.count(distinct(CaseEvent.case_id)), team_key, agents, worked, start, end
    )
    # Cases, not closings: a case closed, reopened and closed again by one agent is one.
    resolved = _per_actor(
        session,
        func.count(distinct(CaseEvent.case_id)),
        team_key,
        agents,
        (CaseAction.CLOSED,),
        start,
        end,
    )
    first_response = dict(
        session.execute(
            select(Case.first_responder_id, percentile(0.5, Case.first_response_seconds))
            .where(
                for_team(team_key),
                Case.first_responder_id.in_(agents),
                within(Case.first_response_at, start, end),
            )
            .group_by(Case.first_responder_id)
        ).all()
    )
    open_now = _open_now(session, team_key, agents)
    given = _assigned(session, team_key, agents, start, end)
    taken = _reassigned_away(session, team_key, agents, start, end)
    rows = [
        AgentRow(
            agent_id=agent,
            handled=int(handled.get(agent, 0)),
            resolved=int(resolved.get(agent, 0)),
            first_response_median=first_response.get(agent),
            open_now=open_now.get(agent, 0),
            assigned=given.get(agent, (0, 0))[0],
            auto_assigned=given.get(agent, (0, 0))[1],
            reassigned_away=taken.get(agent, 0),
        )
        for agent in agents
    ]
    return sorted(rows, key=lambda row: (-row.handled, -row.open_now, row.agent_id))


def _per_actor(
    session: Session,
    counted: ColumnElement[int],
    team_key: str,
    agents: list[str],
    actions: tuple[CaseAction, ...],
    start: datetime,
    end: datetime,
) -> dict[str, int]:
    """`counted` over the team's events of `actions` in the period, per acting agent."""
    rows = session.execute(
        select(CaseEvent.actor_id, counted)
        .where(
            CaseEvent.team_key == team_key,
            CaseEvent.actor_id.in_(agents),
            CaseEvent.action.in_(actions),
            within(CaseEvent.at, start, end),
        )
        .group_by(CaseEvent.actor_id)
    ).all()
    return {str(actor): int(count) for actor, count in rows}


def _open_now(session: Session, team_key: str, agents: list[str]) -> dict[str, int]:
    """Per agent: the team's open cases assigned to them now."""
    rows = session.execute(
        select(Case.assignee_id, func.count())
        .where(for_team(team_key), Case.assignee_id.in_(agents), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.assignee_id)
    ).all()
    return {str(agent): int(count) for agent, count in rows}


def _assigned(
    session: Session, team_key: str, agents: list[str], start: datetime, end: datetime
) -> dict[str, tuple[int, int]]:
    """Per agent: the cases an `assigned` event gave them in the period, and of those the
    cases the team's routing gave them (`details.auto`)."""
    auto = CaseEvent.details["auto"].as_boolean()
    rows = session.execute(
        select(
            CaseEvent.to_value,
            func.count(distinct(CaseEvent.case_id)),
            func.count(distinct(case((auto, CaseEvent.case_id)))),
        )
        .where(
            CaseEvent.team_key == team_key,
            CaseEvent.action == CaseAction.ASSIGNED,
            CaseEvent.to_value.in_(agents),
            within(CaseEvent.at, start, end),
        )
        .group_by(CaseEvent.to_value)
    ).all()
    return {str(agent): (int(count), int(auto_count)) for agent, count, auto_count in rows}


def _reassigned_away(
    session: Session, team_key: str, agents: list[str], start: datetime, end: datetime
) -> dict[str, int]:
    """Per agent: the cases that left them in the period (an `assigned` or `unassigned` event
    whose previous assignee was the agent)."""
    rows = session.execute(
        select(CaseEvent.from_value, func.count(distinct(CaseEvent.case_id)))
        .where(
            CaseEvent.team_key == team_key,
            CaseEvent.action.in_((CaseAction.ASSIGNED, CaseAction.UNASSIGNED)),
            CaseEvent.from_value.in_(agents),
            within(CaseEvent.at, start, end),
        )
        .group_by(CaseEvent.from_value)
    ).all()
    return {str(agent): int(count) for agent, count in rows}
