"""Routing flows: an agent away and back, and who is on."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cases.views.refusals import describe
from bot.cases.views.replies import notice
from bot.core import Core, Flow
from bot.home.flow import InsightFlows
from bot.refusals import Refusal
from bot.requester import Requester
from bot.routing.away import read_away
from bot.routing.refusals import NotAnAgent
from bot.routing.views import OnDuty, away_confirmation, back_confirmation, who_message
from bot.slack.blocks import SlackMessage


class RoutingFlows(Flow):
    def __init__(self, core: Core, insights: InsightFlows) -> None:
        super().__init__(core)
        self.insights = insights  # App Home shows who is away

    def away(self, who: Requester, said: str) -> SlackMessage:
        """`/case away [until <time>|for <duration>]`, in the agent's own time zone."""
        self.roster.warm()
        try:
            away_for = read_away(said)
            if not self.roster.teams_of(who.user_id):
                raise NotAnAgent(who.user_id)
            until = away_for.ends(self.clock.now(), self._zone(who.user_id))
            with self.db.unit_of_work() as session:
                self.finish_request(session, who)
                self.routing.set_away(session, who.user_id, until)
        except Refusal as refusal:
            return notice(describe(refusal))
        self.insights.refresh_availability(who.user_id)
        return notice(away_confirmation(until))

    def back(self, who: Requester) -> SlackMessage:
        try:
            with self.db.unit_of_work() as session:
                self.finish_request(session, who)
                was_away = self.routing.set_back(session, who.user_id)
        except Refusal as refusal:
            return notice(describe(refusal))
        self.insights.refresh_availability(who.user_id)
        return notice(back_confirmation(was_away))

    def who(self, who: Requester, team_key: str | None) -> SlackMessage:
        """`/case who [team:<key>]`: each agent of the team(s), away or not, and their load."""
        self.roster.warm()
        try:
            teams = [self.cases.team(team_key)] if team_key else self.roster.teams_of(who.user_id)
        except Refusal as refusal:
            return notice(describe(refusal))
        teams = teams or [self.desk.team_for_channel(who.channel_id)]
        now, shown = self.clock.now(), []
        with self.db.read_only() as session:
            for team in teams:
                agents = self.roster.agents_in_turn(team)
                away = self.routing.away_of(session, agents, now)
                loads = self.routing.loads(session, agents)
                on_duty = [
                    OnDuty(agent, away.get(agent), agent in away, loads.get(agent, 0))
                    for agent in agents
                ]
                shown.append((team, on_duty))
        return who_message(shown)

    def _zone(self, user_id: str) -> ZoneInfo:
        try:
            return ZoneInfo(self.slack.time_zone(user_id) or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(str(UTC))
