"""Read-only views of the desk: `/case stats` and App Home."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot import metrics
from bot.cases.changes import CaseChange
from bot.cases.queries import list_cases, requested_by
from bot.cases.views.refusals import describe
from bot.cases.views.replies import notice
from bot.core import Core, Flow
from bot.desk import Team
from bot.home.views import Availability, HomeData, ManagerPanel, home_view
from bot.metrics.summaries import SummaryService
from bot.metrics.views import stats_message
from bot.refusals import Refusal
from bot.requester import Requester
from bot.routing.views import OnDuty
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackDeliveryError
from models import Case, CaseAction

log = logging.getLogger(__name__)


class InsightFlows(Flow):
    def __init__(
        self,
        core: Core,
        summaries: SummaryService,
        *,
        run_later: Callable[[Callable[[], None]], object],
    ) -> None:
        super().__init__(core)
        self.summaries = summaries
        # Users who opened App Home in this process: their home is refreshed after changes.
        self._home_viewers: set[str] = set()
        # Homes to republish, drained by one background task (`run_later`) at a time: a
        # burst of changes publishes each home once, and the person who acted gets their
        # reply without waiting for anyone's home.
        self._run_later = run_later
        self._stale_homes: set[str] = set()
        self._draining = False
        self._lock = threading.Lock()

    def stats(self, who: Requester, *, window: str, team_key: str | None) -> SlackMessage:
        """`/case stats`: the named team, else the channel's team, else the asker's own."""
        try:
            team = self.cases.team(team_key) if team_key else self._home_team(who)
        except Refusal as refusal:
            return notice(describe(refusal))
        return stats_message(self.summaries.stats_report(team, window, breakdown=True), self.desk)

    def _home_team(self, who: Requester) -> Team:
        routed = self.desk.team_for_channel(who.channel_id)
        if routed.key != self.desk.default_team or not self.roster.teams_of(who.user_id):
            return routed
        return self.roster.teams_of(who.user_id)[0]

    def publish_home(self, user_id: str) -> None:
        """Build and publish the user's App Home; remembered so changes can refresh it."""
        with self._lock:  # listener threads add viewers while others read them
            self._home_viewers.add(user_id)
        try:
            self.slack.publish_home(user_id, home_view(self._home_data(user_id), self.clock.now()))
        except SlackDeliveryError as error:
            log.warning("App Home of %s not published: %s", user_id, error)

    def _home_data(self, user_id: str) -> HomeData:
        roster, now = self.roster, self.clock.now()
        teams = roster.teams_of(user_id)
        if not teams:  # a requester: their own requests, no queue that is not theirs
            with self.db.read_only() as session:
                requested = requested_by(session, user_id, limit=20)
            return HomeData(user_id, [], [], [], requested=requested)
        # Outside the transaction: resolving a user group may ask Slack.
        turns = {team.key: roster.agents_in_turn(team) for team in teams}
        with self.db.read_only() as session:
            mine = list_cases(session, view="mine", user_id=user_id, limit=20).cases
            me = self._availability(session, user_id, teams, turns, now)
            unassigned: list[Case] = []
            breaching: list[Case] = []
            panels = []
            for team in teams:
                unassigned += list_cases(
                    session, view="unassigned", user_id=user_id, team_key=team.key, limit=20
                ).cases
                team_breaching = metrics.at_risk(
                    session, team_key=team.key, horizon=self.summaries.risk_horizons(team, now)
                )
                breaching += team_breaching
                if roster.is_manager(team, user_id):
                    escalated = list_cases(
                        session, view="escalated", user_id=user_id, team_key=team.key, limit=20
                    ).cases
                    on_duty, holding = self._on_duty(session, team, turns[team.key], now)
                    panels.append((team, team_breaching, escalated, on_duty, holding))
        managed = [
            ManagerPanel(
                team,
                self.summaries.stats_report(team, "today"),
                risk,
                escalated,
                on_duty=on_duty,
                managers_open=holding,
            )
            for team, risk, escalated, on_duty, holding in panels
        ]
        return HomeData(user_id, mine, unassigned, breaching, managed, me=me)

    def _availability(
        self,
        session: Session,
        user_id: str,
        teams: list[Team],
        turns: dict[str, list[str]],
        now: datetime,
    ) -> Availability | None:
        """Whether new cases come to the user (None: no team's turn includes them)."""
        in_turn = [team for team in teams if user_id in turns[team.key]]
        if not in_turn:
            return None
        away = self.routing.away_of(session, [user_id], now)
        load = self.routing.loads(session, [user_id]).get(user_id, 0)
        caps = {team.name: team.assignment.max_open for team in in_turn}
        return Availability(user_id in away, away.get(user_id), load, caps)

    def _on_duty(
        self, session: Session, team: Team, agents: list[str], now: datetime
    ) -> tuple[list[OnDuty], dict[str, int]]:
        """The team's agents in turn, away or not and their open load (what automatic
        assignment sees), and its managers who hold open cases."""
        managers = sorted(self.roster.managers(team) - set(agents))
        away = self.routing.away_of(session, agents, now)
        loads = self.routing.loads(session, agents + managers)
        on_duty = [
            OnDuty(agent, away.get(agent), agent in away, loads.get(agent, 0)) for agent in agents
        ]
        return on_duty, {manager: loads[manager] for manager in managers if loads.get(manager)}

    def refresh_homes_after(self, change: CaseChange) -> None:
        """Refresh the App Homes a change shows in: the actor's, the assignees' (before and
        after), and those of the case's team (their unassigned, breaching and manager lists).
        Only homes opened in this process; any other is rebuilt when it is next opened."""
        if not change.card_changed:  # a note or a later reply: no list on any home changes
            return
        case, roster = change.case, self.roster
        affected = [change.event.actor_id, case.assignee_id]
        affected += [
            event.from_value
            for event in change.events
            if event.action in (CaseAction.ASSIGNED, CaseAction.UNASSIGNED)
        ]
        with self._lock:
            viewers = set(self._home_viewers)
        keys = {case.team_key, *(event.team_key for event in change.events)}
        teams = [self.desk.teams[key] for key in keys if key in self.desk.teams]
        affected += [
            viewer for viewer in viewers if any(roster.is_agent(team, viewer) for team in teams)
        ]
        self._mark_stale(affected)

    def refresh_availability(self, user_id: str) -> None:
        """An agent went away or came back: their own home (their availability) and their
        teams' managers' (who is on), where opened in this process."""
        teams = self.roster.teams_of(user_id)
        with self._lock:
            viewers = set(self._home_viewers)
        managers = [
            viewer for viewer in viewers if any(self.roster.is_manager(t, viewer) for t in teams)
        ]
        self._mark_stale([user_id, *managers])

    def _mark_stale(self, users: list[str | None]) -> None:
        """Republish these homes (those opened in this process) in the background."""
        with self._lock:
            self._stale_homes.update(user for user in users if user in self._home_viewers)
            start = bool(self._stale_homes) and not self._draining
            self._draining = self._draining or start
        if start:
            self._start_publishing()

    def _start_publishing(self) -> None:
        try:
            self._run_later(self._publish_stale_homes)
        except RuntimeError:  # shutting down: the homes are rebuilt when next opened
            with self._lock:
                self._draining = False
                self._stale_homes.clear()

    def _publish_stale_homes(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._stale_homes:
                        return
                    user_id = self._stale_homes.pop()
                self.publish_home(user_id)
        finally:
            with self._lock:  # homes added while this one was finishing, or after a failure
                self._draining = restart = bool(self._stale_homes)
            if restart:
                self._start_publishing()
