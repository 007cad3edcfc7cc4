"""The team summary post and `/case stats`: KPIs with their change and trailing average."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cases.views.buttons import CLAIM
from bot.cases.views.card import assignee_text
from bot.desk import DeskConfig, Team
from bot.metrics import STATS_WINDOWS, AgentRow, Ratio, Spread, TeamKpis
from bot.metrics.periods import DAILY, Period
from bot.metrics.posts import Posting, PostOutcome
from bot.slack.blocks import (
    Block,
    SlackMessage,
    context,
    divider,
    fields_section,
    header,
    message,
    section,
    user_text,
)
from bot.slack.outbox_claims import DeliveryReport
from bot.text import mention
from bot.timefmt import ago, business_duration, duration
from models import Case

NO_DATA = "_no data_"
FOOTNOTE = (
    "Days are the team's time zone's; times are business time of its SLA calendar (pending "
    "time excluded from resolution). Resolved: cases closed at least once in the period (closed, "
    "reopened and closed again is one; reopens are their own figure). SLA attainment: of the "
    "targets that count in the period, those met; a target counts when it was met or came due, "
    "whichever was first, so one met late or still not met is a miss when it came due, and "
    "never again. SLA breaches: the targets missed in the period, alerted or not. Escalated: "
    "cases escalated in the period; escalation rate: of the cases opened in it, those escalated "
    "since. Reopen rate: of the cases resolved, those reopened since. First-contact resolution: "
    "of the cases resolved, those closed by their first assignee (or, never assigned, by "
    "whoever closed them), never escalated, reassigned or reopened. CSAT response rate: of the "
    "surveys sent, those answered since. Per agent, assigned: cases given to the agent in the "
    "period by a manager, a hand-over or automatically by the team's routing (a claim is "
    "handled, not assigned); reassigned away: cases that left them, handed on or put back in "
    "the queue. ▲/▼: change against the previous period, followed as long as this one; 7-day: "
    "the 7 days before the period (a daily average for counts)."
)


@dataclass(frozen=True)
class Covering:
    """What a report's figures cover, worded by `covering_label`: a summary's day or week, or
    a `/case stats` window (STATS_WINDOWS), with its day when it is one (yesterday)."""

    kind: str  # daily | weekly | stats
    period: Period | None = None
    window: str | None = None


@dataclass(frozen=True)
class SummaryReport:
    team: Team
    covering: Covering
    current: TeamKpis
    previous: TeamKpis | None
    trailing_week: TeamKpis | None
    backlog: dict[tuple[str, str], int]
    backlog_before: int | None  # at the end of the previous period
    oldest_open: list[Case]
    at_risk: list[Case]
    agents: list[AgentRow]
    now: datetime


def period_label(period: Period) -> str:
    """A summary's day ("Mon 23 Nov 2026") or ISO week ("week 48 of 2026" and its days)."""
    if period.kind == DAILY:
        return period.first_day.strftime("%a %d %b %Y")
    year, week, _ = period.first_day.isocalendar()
    last = period.first_day + timedelta(days=6)
    return f"week {week} of {year} ({period.first_day:%d %b} – {last:%d %b})"


def covering_label(covering: Covering) -> str:
    """What a report covers, in words: its period, or a `/case stats` window ("today so far",
    "yesterday (Mon 23 Nov 2026)", "last 7 days")."""
    if covering.window is None:
        assert covering.period is not None, "a summary covers a period"
        return period_label(covering.period)
    if covering.window == "today":
        return "today so far"
    if covering.window == "yesterday" and covering.period is not None:
        return f"yesterday ({period_label(covering.period)})"
    return f"last {STATS_WINDOWS[covering.window]} days"


def summary_message(report: SummaryReport, desk: DeskConfig) -> SlackMessage:
    kpis = report.current
    kind = report.covering.kind
    title = f"{report.team.name}: {kind} summary for {covering_label(report.covering)}"
    if kpis.opened == kpis.resolved == kpis.reopened == kpis.escalated == 0:
        quiet = f"No cases {'yesterday' if kind == DAILY else 'in this period'}."
    else:
        quiet = ""
    blocks: list[Block] = [header(title)]
    if quiet:
        blocks.append(section(f":zzz: {quiet}"))
    blocks += _body(report, desk)
    text = (
        f"{title}: {kpis.opened} new, {kpis.resolved} resolved, "
        f"{sum(report.backlog.values())} in backlog" + (f". {quiet}" if quiet else "")
    )
    return message(text, blocks)


def chart_title(team: Team, days: int) -> str:
    """The title of the chart uploaded in a summary's thread."""
    return f"{team.name}: last {days} days"


def stats_message(report: SummaryReport, desk: DeskConfig) -> SlackMessage:
    """`/case stats`: the summary's figures for the window asked for."""
    title = f"{report.team.name}: {covering_label(report.covering)}"
    kpis = report.current
    text = (
        f"{title}: {kpis.opened} new, {kpis.resolved} resolved, "
        f"{sum(report.backlog.values())} in backlog"
    )
    return message(text, [header(title), *_body(report, desk)])


def _body(report: SummaryReport, desk: DeskConfig) -> list[Block]:
    return [
        *kpi_blocks(report),
        *_backlog_blocks(report, desk),
        *_risk_blocks(report),
        *_agent_blocks(report),
        context([FOOTNOTE]),
    ]


# How a case came in (CaseSource), as the "New" figure splits it.
_CAME_IN = {
    "channel": "from help channels",
    "emoji": "by emoji",
    "shortcut": "by shortcut",
    "command": "by /case",
    "form": "by form",
}


def _came_in(kpis: TeamKpis) -> str:
    """A second line under "New": how the cases came in, most first ("6 from help channels ·
    3 by emoji · 1 by /case"); none on a desk whose cases were all typed or filled in."""
    split = kpis.opened_by_source
    if not set(split) - {"command", "form"}:
        return ""
    return "\n" + " · ".join(f"{n} {_CAME_IN.get(source, source)}" for source, n in split.items())


def kpi_blocks(report: SummaryReport) -> list[Block]:
    now, before, week = report.current, report.previous, report.trailing_week

    def count(name: str, read: Callable[[TeamKpis], int]) -> str:
        value = read(now)
        change = _arrow(value, read(before) if before else None)
        average = f" · 7-day avg {read(week) / 7:.1f}" if week else ""
        return f"*{name}*\n{value}{change}{average}"

    def spread(name: str, read: Callable[[TeamKpis], Spread]) -> str:
        current = read(now)
        if current.median is None:
            return f"*{name}*\n{NO_DATA}"
        change = _arrow(current.median, read(before).median if before else None, seconds=True)
        p90 = f" · p90 {_seconds(current.p90)}" if current.p90 is not None else ""
        average = (
            f" · 7-day median {_seconds(read(week).median)}"
            if week and read(week).median is not None
            else ""
        )
        return f"*{name}*\nmedian {_seconds(current.median)}{change}{p90}{average}"

    def ratio(name: str, read: Callable[[TeamKpis], Ratio]) -> str:
        current = read(now)
        if current.value is None:
            return f"*{name}*\n{NO_DATA}"
        previous = read(before).value if before else None
        change = _arrow(current.value, previous, percent=True)
        average = (
            f" · 7-day {read(week).value:.0%}" if week and read(week).value is not None else ""
        )
        return f"*{name}*\n{current.value:.0%} ({current.part}/{current.whole}){change}{average}"

    csat = _csat(now, before, week)
    return [
        fields_section(
            [
                count("New", lambda k: k.opened) + _came_in(now),
                count("Resolved", lambda k: k.resolved),
                count("Reopened", lambda k: k.reopened),
                count("Escalated", lambda k: k.escalated),
                spread("First response", lambda k: k.first_response),
                spread("Resolution time", lambda k: k.resolution),
            ]
        ),
        fields_section(
            [
                ratio("SLA first response", lambda k: k.first_response_sla),
                ratio("SLA resolution", lambda k: k.resolution_sla),
                count("SLA breaches", lambda k: k.breaches),
                ratio("First-contact resolution", lambda k: k.first_contact_resolution),
                ratio("Escalation rate", lambda k: k.escalation_rate),
                ratio("Reopen rate", lambda k: k.reopen_rate),
                csat,
                ratio("CSAT response rate", lambda k: k.csat_response_rate),
            ]
        ),
    ]


def _csat(now: TeamKpis, before: TeamKpis | None, week: TeamKpis | None) -> str:
    if now.csat_average is None:
        return f"*CSAT*\n{NO_DATA}"
    change = _arrow(now.csat_average, before.csat_average if before else None, decimals=True)
    spread = " ".join(
        f"{rating}★{count}" for rating, count in now.csat_distribution.items() if count
    )
    average = f" · 7-day {week.csat_average:.2f}" if week and week.csat_average else ""
    return f"*CSAT*\n{now.csat_average:.2f}/5{change} · {spread}{average}"


def _backlog_blocks(report: SummaryReport, desk: DeskConfig) -> list[Block]:
    total = sum(report.backlog.values())
    blocks: list[Block] = [divider()]
    change = _arrow(total, report.backlog_before)
    if not total:
        blocks.append(section(f"*Backlog at end of period:* empty{change} :tada:"))
    else:
        by_status: dict[str, int] = {}
        by_priority: dict[str, int] = {}
        for (status, priority), count in report.backlog.items():
            by_status[status] = by_status.get(status, 0) + count
            by_priority[priority] = by_priority.get(priority, 0) + count
        statuses = " · ".join(
            f"{status.replace('_', ' ')} {n}" for status, n in sorted(by_status.items())
        )
        priorities = " · ".join(f"{p.upper()} {n}" for p, n in sorted(by_priority.items()))
        blocks.append(
            section(
                f"*Backlog at end of period:* {total}{change}\n"
                f"by status: {statuses}\nby priority: {priorities}"
            )
        )
    if report.oldest_open:
        lines = [
            f"• {_case_link(case)} {user_text(case.title, 80)} · {case.priority.upper()} · "
            f"opened {ago(case.opened_at, report.now)}"
            for case in report.oldest_open
        ]
        blocks.append(section("*Oldest open cases*\n" + "\n".join(lines)))
    return blocks


def _risk_blocks(report: SummaryReport) -> list[Block]:
    if not report.at_risk:
        return [section("*At risk (next 4 business hours):* none")]
    blocks: list[Block] = [section("*At risk (next 4 business hours)*")]
    for case in report.at_risk:
        due = min(d for d in (case.first_response_due_at, case.resolution_due_at) if d is not None)
        state = "overdue" if due <= report.now else f"due in {duration(due - report.now)}"
        # One section per case, its Claim button beside it: one button per block.
        claim = None
        if case.assignee_id is None:
            claim = CLAIM.render(case.id, label=f"Claim #{case.id}", styled=False)
        blocks.append(
            section(
                f"{_case_link(case)} {user_text(case.title, 80)} · {assignee_text(case)} · {state}",
                accessory=claim,
            )
        )
    return blocks


def _agent_blocks(report: SummaryReport) -> list[Block]:
    if not report.agents:
        return []
    lines = [
        f"• {mention(row.agent_id)}: handled {row.handled} · resolved {row.resolved} · "
        f"median first response {_seconds(row.first_response_median)} · open now {row.open_now}"
        for row in report.agents[:20]
    ]
    return [divider(), section("*Per agent*\n" + "\n".join(lines)), *_assignment_blocks(report)]


def _assignment_blocks(report: SummaryReport) -> list[Block]:
    """Who was given cases and who had them taken away, in the per-agent table's order; none
    in a period in which no case was assigned or taken from anyone."""
    rows = report.agents[:20]
    if not any(row.assigned or row.reassigned_away for row in rows):
        return []
    lines = [
        f"• {mention(row.agent_id)}: assigned {row.assigned} "
        f"({row.auto_assigned} automatically) · reassigned away {row.reassigned_away}"
        for row in rows
    ]
    return [section("*Assignments per agent*\n" + "\n".join(lines))]


def _case_link(case: Case) -> str:
    if case.channel_id and case.card_ts:
        message_id = case.card_ts.replace(".", "")
        return f"<https://slack.com/archives/{case.channel_id}/p{message_id}|#{case.id}>"
    return f"#{case.id}"


def _arrow(
    value: float,
    previous: float | None,
    *,
    seconds: bool = False,
    percent: bool = False,
    decimals: bool = False,
) -> str:
    """ " ▲3" / " ▼5 min" against the previous period; nothing where it would mean nothing:
    no previous figure, or a change too small to show at the figure's precision."""
    if previous is None:
        return ""
    difference = abs(value - previous)
    if seconds:
        shown, amount = round(difference), _seconds(difference)
    elif percent:
        shown = round(difference * 100)
        amount = f"{shown} pt"
    elif decimals:
        shown = round(difference * 100)
        amount = f"{difference:.2f}"
    else:
        shown, amount = round(difference), f"{difference:g}"
    if not shown:
        return ""
    return f" {'▲' if value > previous else '▼'}{amount}"


def _seconds(value: float | None) -> str:
    """A KPI time, in business time: hours past a day ("40 h"), never "1 d 16 h"."""
    if value is None:
        return "no data"
    return business_duration(timedelta(seconds=round(value)))


# What `run-job daily-summary` (and the scheduler's log) says became of each summary


def not_over_refusal(period: Period) -> str:
    """Why `run-job` refuses to post a period that is not over yet."""
    ends = period.end.astimezone(period.zone)
    return (
        f"the {period.kind} summary for {period_label(period)} can only be posted once that "
        f"period is over ({ends:%Y-%m-%d %H:%M %Z})"
    )


def posting_outcome(outcome: PostOutcome) -> str:
    period = outcome.period
    summary = f"{period.kind} summary of {outcome.team.name} for {period_label(period)}"
    why = f" ({outcome.error})" if outcome.error else ""
    return {
        Posting.QUEUED: f"Queued the {summary}.",
        Posting.POSTED: f"Posted the {summary}.",
        Posting.ALREADY_POSTED: (
            f"The {summary} was already posted; use --force to post it again."
        ),
        Posting.NOT_DELIVERED: f"The {summary} is queued, not delivered yet{why}.",
        Posting.FAILED: f"The {summary} could not be delivered{why}.",
        Posting.NOT_OVER: f"{period_label(period)} is not over yet: nothing posted.",
        Posting.TAKEN: f"The {summary} is being posted by another process.",
        Posting.BROKEN: f"The {summary} failed{why}.",
    }[outcome.posting]


def posting_report(outcomes: list[PostOutcome], delivery: DeliveryReport) -> str:
    """Each summary's outcome once delivery was tried, then the delivery: what is still
    queued for Slack, or what the delivery did."""
    retrying = sum(outcome.posting is Posting.NOT_DELIVERED for outcome in outcomes)
    tail = f"queued, not delivered yet: {retrying} to retry" if retrying else str(delivery)
    return " ".join(posting_outcome(outcome) for outcome in outcomes) + f" ({tail})"
