"""Daily and weekly team summaries: which period is due, its figures, and posting it once.

A summary covers the previous local day (weekly: the previous ISO week) in the team's time zone
(`teams.<key>.timezone`; unset, its default priority's SLA calendar's, else UTC) and is posted
at `summary.daily_at` local time. A row in `summary_posts` with a unique (team, kind, period)
key is written in the same transaction that queues the post in the outbox, so each period is
posted exactly once, and a process that was down at posting time catches up on start (the job
posts the latest period that is due). A period counts as posted once its post is in Slack
(bot/metrics/posts.py).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import metrics
from bot.clock import Clock
from bot.db import Database
from bot.desk import DeskConfig, Team
from bot.metrics.chart import daily_chart
from bot.metrics.periods import DAILY, WEEKLY, Period, days_before, local_midnight
from bot.metrics.posts import Posting, PostOutcome, all_delivered, claim_period, delivery
from bot.metrics.views import (
    Covering,
    SummaryReport,
    chart_title,
    not_over_refusal,
    posting_outcome,
    posting_report,
    summary_message,
)
from bot.roster import Roster
from bot.sla.policies import SlaPolicies
from bot.slack.blocks import SlackMessage
from bot.slack.outbox_claims import DeliveryReport, requeue
from bot.slack.queue import enqueue
from models import SummaryPost

__all__ = ["DAILY", "WEEKLY", "Period", "PostOutcome", "Posting", "SummaryService"]

log = logging.getLogger(__name__)

CHART_DAYS = 14
AT_RISK_HORIZON = timedelta(hours=4)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SummaryService:
    def __init__(
        self,
        *,
        db: Database,
        desk: DeskConfig,
        roster: Roster,
        policies: SlaPolicies,
        clock: Clock,
    ) -> None:
        self.db = db
        self.desk = desk
        self.roster = roster
        self.policies = policies
        self.clock = clock

    # Which period

    def zone(self, team: Team) -> ZoneInfo:
        """Where the team's days begin and end: its own `timezone`, else its default
        priority's SLA calendar's, else UTC."""
        if team.timezone:
            return ZoneInfo(team.timezone)
        policy = self.policies.policy(team.key, team.default_priority)
        return (
            policy.calendar.zone if policy and not policy.calendar.always_open else ZoneInfo("UTC")
        )

    def due_period(self, team: Team, kind: str) -> Period:
        """The latest period whose posting time has passed."""
        zone = self.zone(team)
        local_now = self.clock.now().astimezone(zone)
        post_at = self.desk.summary.daily_time
        today = local_now.date()
        posting_day = today if local_now.time() >= post_at else today - timedelta(days=1)
        if kind == DAILY:
            return Period(DAILY, posting_day - timedelta(days=1), 1, zone)
        weekday = _WEEKDAYS.index(self.desk.summary.weekly_on)
        posting_day -= timedelta(days=(posting_day.weekday() - weekday) % 7)
        monday = posting_day - timedelta(days=posting_day.weekday())
        return Period(WEEKLY, monday - timedelta(days=7), 7, zone)

    def period_of(self, team: Team, kind: str, day: date) -> Period:
        """The period that contains `day` (for `run-job ... --date`)."""
        zone = self.zone(team)
        if kind == DAILY:
            return Period(DAILY, day, 1, zone)
        return Period(WEEKLY, day - timedelta(days=day.weekday()), 7, zone)

    def risk_horizons(self, team: Team, now: datetime) -> dict[str, datetime]:
        """Per priority, the end of the next 4 business hours on that priority's calendar."""
        horizons = {}
        for priority in self.desk.priorities:
            policy = self.policies.policy(team.key, priority)
            horizons[priority] = (
                policy.calendar.add(now, AT_RISK_HORIZON) if policy else now + AT_RISK_HORIZON
            )
        return horizons

    def is_over(self, period: Period) -> bool:
        return period.end <= self.clock.now()

    def not_over(self, periods: list[tuple[Team, Period]]) -> str | None:
        """Why `run-job` posts none of these: the first period not over yet, in words (a
        summary of half a day would be posted as the day's); None when all are over."""
        for _, period in periods:
            if not self.is_over(period):
                return not_over_refusal(period)
        return None

    # Posting

    def post_due(self, kind: str) -> list[str]:
        """The scheduler's job: post each team's latest due period if not posted yet."""
        if not self.desk.summary.enabled:
            return []
        periods = [(team, self.due_period(team, kind)) for team in self.desk.teams.values()]
        outcomes = self.post_each(periods, on_demand=False)
        return [posting_outcome(o) for o in outcomes if o.posting is Posting.QUEUED]

    def post_each(
        self, periods: list[tuple[Team, Period]], *, force: bool = False, on_demand: bool = True
    ) -> list[PostOutcome]:
        """`post` for each (team, period); what became of each, in order."""
        outcomes = []
        for team, period in periods:
            try:
                outcomes.append(self.post(team.key, period, force=force, on_demand=on_demand))
            except Exception as error:  # one team's failure must not cost the others theirs
                log.exception("%s summary failed for team %s", period.kind, team.key)
                outcomes.append(PostOutcome(team, period, Posting.BROKEN, str(error)))
        return outcomes

    def post(
        self, team_key: str, period: Period, *, force: bool = False, on_demand: bool = True
    ) -> PostOutcome:
        """Queue the summary of `period` for `team_key`, once: again only when `force`d, or
        on demand (not from the scheduler) when Slack refused the earlier post for good."""
        team = self.desk.team(team_key)
        if not self.is_over(period):  # a summary of half a day would be posted as the day's
            return PostOutcome(team, period, Posting.NOT_OVER)
        with self.db.read_only() as session:
            earlier = delivery(session, team.key, period)
        decided = earlier.posting
        if decided is not None and not force and not (decided is Posting.FAILED and on_demand):
            return PostOutcome(team, period, decided, earlier.error, earlier.outbox_id)
        # The figures and the chart are made before the write transaction, which stays short.
        report = self.report(team, period)
        content = summary_message(report, self.desk)
        chart = self._chart_file(report, period) if self.desk.summary.chart else None
        now = self.clock.now()
        try:
            with self.db.unit_of_work() as session:
                record = claim_period(session, team.key, period, now, again=decided is not None)
                if record is None:
                    return PostOutcome(team, period, Posting.TAKEN)
                message_id = _queue_post(session, record, team, content, chart, now)
        except IntegrityError:  # another process claimed the same period at the same moment
            return PostOutcome(team, period, Posting.TAKEN)
        return PostOutcome(team, period, Posting.QUEUED, outbox_id=message_id)

    def post_on_demand(
        self,
        periods: list[tuple[Team, Period]],
        *,
        force: bool,
        deliver: Callable[[], DeliveryReport],
    ) -> tuple[str, bool]:
        """`run-job daily-summary`: post each (team, period), `deliver` what is due, and say
        what became of each; with whether every one is in Slack now (queued is not enough)."""
        queued = self.post_each(periods, force=force)
        report = deliver()
        outcomes = self.delivered(queued)
        return posting_report(outcomes, report), all_delivered(outcomes)

    def delivered(self, outcomes: list[PostOutcome]) -> list[PostOutcome]:
        """The outcomes once delivery was tried: whether each post queued is in Slack now."""
        checked = []
        for outcome in outcomes:
            if outcome.posting in (Posting.QUEUED, Posting.NOT_DELIVERED):
                with self.db.read_only() as session:
                    current = delivery(session, outcome.team.key, outcome.period)
                posting = Posting.POSTED if current.state == "sent" else current.posting
                outcome = replace(outcome, posting=posting or outcome.posting, error=current.error)
            checked.append(outcome)
        return checked

    # Figures

    def stats_report(self, team: Team, window: str, *, breakdown: bool = False) -> SummaryReport:
        """`/case stats`: today, yesterday, or the last 7 or 30 days up to now; with the
        backlog, the cases at risk and the agents too when `breakdown` is asked for."""
        now = self.clock.now()
        zone = self.zone(team)
        today = now.astimezone(zone).date()
        day = None  # the window as a day, when it is one
        if window == "today":
            start, end = local_midnight(today, zone), now
            # Compared with the same hours of yesterday, not with yesterday's evening.
            previous = (local_midnight(today - timedelta(days=1), zone), days_before(now, 1, zone))
        elif window == "yesterday":
            day = Period(DAILY, today - timedelta(days=1), 1, zone)
            start, end = day.start, day.end
            previous = (day.shifted(-1).start, start)
        else:
            days = metrics.STATS_WINDOWS[window]
            start, end = days_before(now, days, zone), now
            previous = (days_before(now, 2 * days, zone), start)
        return self._report(
            team,
            Covering("stats", day, window),
            (start, end),
            previous,
            trailing=None,
            breakdown=breakdown,
        )

    def report(self, team: Team, period: Period) -> SummaryReport:
        """The figures of a summary post."""
        before = period.shifted(-1)
        trailing = None
        if period.kind == DAILY:
            week_before = Period(DAILY, period.first_day - timedelta(days=7), 7, period.zone)
            trailing = (week_before.start, week_before.end)
        return self._report(
            team,
            Covering(period.kind, period),
            (period.start, period.end),
            (before.start, before.end),
            trailing=trailing,
            breakdown=True,
        )

    def _report(
        self,
        team: Team,
        covering: Covering,
        window: tuple[datetime, datetime],
        previous: tuple[datetime, datetime],
        *,
        trailing: tuple[datetime, datetime] | None,
        breakdown: bool,
    ) -> SummaryReport:
        now = self.clock.now()
        start, end = window
        with self.db.read_only() as session:
            # The periods compared are followed for as long past their end as this one has
            # been, so that a day just over is not set against days that had longer to see
            # their cases reopened or their surveys answered.
            age = max(now - end, timedelta(0))

            def kpis(span: tuple[datetime, datetime], *, compared: bool) -> metrics.TeamKpis:
                return metrics.team_kpis(
                    session,
                    team_key=team.key,
                    start=span[0],
                    end=span[1],
                    followed_until=span[1] + age if compared else now,
                )

            report = SummaryReport(
                team=team,
                covering=covering,
                current=kpis(window, compared=False),
                previous=kpis(previous, compared=True),
                trailing_week=kpis(trailing, compared=True) if trailing else None,
                backlog={},
                backlog_before=None,
                oldest_open=[],
                at_risk=[],
                agents=[],
                now=now,
            )
            if not breakdown:
                return report
            agents = sorted(self.roster.agents(team) | self.roster.managers(team))
            return replace(
                report,
                backlog=metrics.backlog(session, team_key=team.key, at=end),
                backlog_before=sum(
                    metrics.backlog(session, team_key=team.key, at=previous[1]).values()
                ),
                oldest_open=metrics.oldest_open(session, team_key=team.key),
                at_risk=metrics.at_risk(
                    session, team_key=team.key, horizon=self.risk_horizons(team, now)
                ),
                agents=metrics.agent_table(
                    session, team_key=team.key, agents=agents, start=start, end=end
                ),
            )

    def _chart_file(self, report: SummaryReport, period: Period) -> dict[str, str]:
        last_day = period.first_day + timedelta(days=period.days - 1)
        days = [last_day - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]
        windows = [
            (local_midnight(day, period.zone), local_midnight(day + timedelta(days=1), period.zone))
            for day in days
        ]
        with self.db.read_only() as session:
            series = metrics.daily_counts(
                session, team_key=report.team.key, days=windows, until=self.clock.now()
            )
        png = daily_chart(
            days,
            [opened for opened, _, _ in series],
            [resolved for _, resolved, _ in series],
            [ratio.value for _, _, ratio in series],
        )
        return {
            "filename": f"{report.team.key}-{period.kind}-{period.first_day.isoformat()}.png",
            "title": chart_title(report.team, CHART_DAYS),
            "content_b64": base64.b64encode(png).decode(),
        }


def _queue_post(
    session: Session,
    record: SummaryPost,
    team: Team,
    content: SlackMessage,
    chart: dict[str, str] | None,
    now: datetime,
) -> int:
    """Queue the period's post under its record; returns the outbox row's id. An earlier post
    of the period still on its way (forced again before it reached Slack) carries this one
    instead, so only one reaches Slack."""
    earlier = requeue(session, record.outbox_id, content, now) if record.outbox_id else None
    message = earlier or enqueue(
        session, kind=f"summary_{record.kind}", channel_id=team.channel, content=content, now=now
    )
    if chart is not None:
        message.payload = {**message.payload, "file": chart}
    session.flush()
    record.outbox_id = message.id
    return message.id
