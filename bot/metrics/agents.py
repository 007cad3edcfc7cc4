"""The per-agent table: load, handled and resolved cases, times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
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


def agent_table(
    session: Session, *, team_key: str, agents: list[str], start: datetime, end: datetime
) -> list[AgentRow]:
    """Per agent: cases handled (acted on) and resolved (closed at least once by them) in the
    period, their median first response time, and the cases assigned to them now."""
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
    open_now = dict(
        session.execute(
            select(Case.assignee_id, func.count())
            .where(for_team(team_key), Case.assignee_id.in_(agents), Case.status.in_(OPEN_STATUSES))
            .group_by(Case.assignee_id)
        ).all()
    )
    rows = [
        AgentRow(
            agent_id=agent,
            handled=int(handled.get(agent, 0)),
            resolved=int(resolved.get(agent, 0)),
            first_response_median=first_response.get(agent),
            open_now=int(open_now.get(agent, 0)),
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
