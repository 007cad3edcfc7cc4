"""Routing's rules: who gets a new case, and who is away.

A team's `assignment.mode` says how a new case finds its agent: `manual` (it waits for a
claim), `round_robin` (the next agent after the last one who got a case, in app.yaml's order)
or `least_loaded` (the agent with the fewest open cases, in turn among equals). Agents away or
at `max_open` are skipped, managers never take part. The choice is made in the case's own
transaction with the team's turn row locked, so several processes never pick two agents for
one case nor give two cases the same turn; it is recorded with its reason as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, cast, func, literal, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.cases.changes import CaseChange
from bot.cases.rules import CaseService
from bot.clock import Clock
from bot.desk import DeskConfig, Team
from bot.roster import Roster
from models import OPEN_STATUSES, AgentAway, Case, CaseAction, TeamTurn

MANUAL = "manual"
ROUND_ROBIN = "round_robin"
LEAST_LOADED = "least_loaded"


@dataclass(frozen=True)
class Pick:
    """Who gets the case (None: nobody can), and why: whose turn came before, who was
    skipped (away, or at `max_open`) and the open load of each agent looked at."""

    agent_id: str | None
    mode: str
    after: str | None
    away: tuple[str, ...]
    full: tuple[str, ...]
    loads: dict[str, int]
    max_open: int | None

    def why(self) -> dict[str, Any]:
        """The reason, as the audit event keeps it."""
        reason: dict[str, Any] = {"mode": self.mode}
        if self.after:
            reason["after"] = self.after
        if self.away:
            reason["away"] = list(self.away)
        if self.full:
            reason["full"] = {agent: self.loads.get(agent, 0) for agent in self.full}
            reason["max_open"] = self.max_open
        if self.agent_id and self.mode == LEAST_LOADED:
            reason["load"] = self.loads.get(self.agent_id, 0)
        return reason


class Routing:
    def __init__(self, desk: DeskConfig, roster: Roster, cases: CaseService, clock: Clock) -> None:
        self.desk = desk
        self.roster = roster
        self.cases = cases
        self.clock = clock

    def route_new(self, session: Session, change: CaseChange) -> CaseChange:
        """A case just opened goes to its team's next available agent, if the team assigns
        automatically; with nobody available it waits, and that is recorded (once)."""
        case = change.case
        team = self.desk.team(case.team_key)
        opened = change.events and change.event.action is CaseAction.OPENED
        if not opened or team.assignment.mode == MANUAL or case.assignee_id:
            return change
        pick = self.pick(session, team)
        if pick.agent_id is None:
            told = self.cases.record_system_event(
                session,
                case=case,
                action=CaseAction.NOBODY_AVAILABLE,
                refresh_sla=False,  # waiting moves no clock
                **pick.why(),
            )
            return CaseChange(case, [*change.events, *told.events])
        routed = self.cases.route(session, case, pick.agent_id, **pick.why())
        return CaseChange(case, [*change.events, *routed.events])

    def pick(self, session: Session, team: Team, *, exclude: frozenset[str] = frozenset()) -> Pick:
        """The team's next available agent (not one of `exclude`), its turn row locked until
        the transaction ends (and moved on to the agent picked)."""
        now = self.clock.now()
        agents = self.roster.agents_in_turn(team)
        turn = self._turn(session, team.key)
        away, loads = self.standing(session, agents, now)
        limit = team.assignment.max_open
        full = {agent for agent in agents if limit is not None and loads.get(agent, 0) >= limit}
        order = [agent for agent in _after(agents, turn.last_agent_id) if agent not in exclude]
        free = [agent for agent in order if agent not in away and agent not in full]
        if team.assignment.mode == LEAST_LOADED and free:
            fewest = min(loads.get(agent, 0) for agent in free)
            free = [agent for agent in free if loads.get(agent, 0) == fewest]
        chosen = free[0] if free else None
        skipped_before = order[: order.index(chosen)] if chosen else order
        pick = Pick(
            agent_id=chosen,
            mode=team.assignment.mode,
            after=turn.last_agent_id if team.assignment.mode == ROUND_ROBIN else None,
            away=tuple(a for a in skipped_before if a in away),
            full=tuple(a for a in skipped_before if a in full),
            loads=loads,
            max_open=limit,
        )
        if chosen:
            turn.last_agent_id, turn.turned_at = chosen, now
        return pick

    # Who is away, and how loaded

    def set_away(self, session: Session, user_id: str, until: datetime | None) -> AgentAway:
        """The agent takes no new cases automatically (until `until`, or until back)."""
        away = session.get(AgentAway, user_id) or AgentAway(user_id=user_id)
        away.since, away.until = self.clock.now(), until
        session.add(away)
        return away

    def set_back(self, session: Session, user_id: str) -> bool:
        """The agent takes new cases again; False if they were not away."""
        away = session.get(AgentAway, user_id)
        if away is None:
            return False
        session.delete(away)
        return away.until is None or away.until > self.clock.now()

    def standing(
        self, session: Session, agents: list[str], now: datetime
    ) -> tuple[dict[str, datetime | None], dict[str, int]]:
        """`away_of` and `loads` in one round trip (what every automatic pick reads)."""
        if not agents:
            return {}, {}
        away = select(
            AgentAway.user_id, AgentAway.until, literal(None, Integer).label("open")
        ).where(
            AgentAway.user_id.in_(agents),
            or_(AgentAway.until.is_(None), AgentAway.until > now),
        )
        loads = (
            select(Case.assignee_id, cast(null(), AgentAway.until.type), func.count())
            .where(Case.assignee_id.in_(agents), Case.status.in_(OPEN_STATUSES))
            .group_by(Case.assignee_id)
        )
        who_is_away: dict[str, datetime | None] = {}
        open_cases: dict[str, int] = {}
        for agent, until, count in session.execute(union_all(away, loads)):
            if count is None:
                who_is_away[str(agent)] = until
            else:
                open_cases[str(agent)] = int(count)
        return who_is_away, open_cases

    def away_of(
        self, session: Session, agents: list[str], now: datetime
    ) -> dict[str, datetime | None]:
        """Of `agents`, those away now, with when they are back (None: when they say so)."""
        if not agents:
            return {}
        rows = session.execute(
            select(AgentAway.user_id, AgentAway.until).where(
                AgentAway.user_id.in_(agents),
                or_(AgentAway.until.is_(None), AgentAway.until > now),
            )
        )
        return {str(agent): until for agent, until in rows}

    def loads(self, session: Session, agents: list[str]) -> dict[str, int]:
        """Open cases assigned to each agent (over the (assignee, status) index)."""
        if not agents:
            return {}
        rows = session.execute(
            select(Case.assignee_id, func.count())
            .where(Case.assignee_id.in_(agents), Case.status.in_(OPEN_STATUSES))
            .group_by(Case.assignee_id)
        )
        return {str(agent): int(count) for agent, count in rows}

    def _turn(self, session: Session, team_key: str) -> TeamTurn:
        """The team's turn row, locked (made the first time)."""
        turn = session.get(TeamTurn, team_key, with_for_update=True)
        if turn is not None:
            return turn
        try:
            with session.begin_nested():
                session.add(TeamTurn(team_key=team_key))
        except IntegrityError:  # another process made it first
            pass
        turn = session.get(TeamTurn, team_key, with_for_update=True, populate_existing=True)
        assert turn is not None
        return turn


def _after(agents: list[str], last: str | None) -> list[str]:
    """The agents in turn, starting after `last` (from the first when `last` is not one)."""
    if last not in agents:
        return list(agents)
    start = agents.index(last) + 1
    return agents[start:] + agents[:start]
