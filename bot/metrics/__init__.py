"""Team KPIs, computed in SQL from the cases and the audit trail.

Pure query functions: a session, a team and a period [start, end) in, figures out, as far as
is known at `followed_until` (now, for the period reported). The summary posts, `/case stats`,
App Home, the export and the summary's chart all read them from here. A team's periods are
days of its time zone (`teams.<key>.timezone`; else its default priority's SLA calendar's
zone, else UTC; see bot/metrics/summaries.py).

Definitions (also shown in the summary's footnote):
- new: cases opened in the period; resolved: cases closed at least once in the period (a case
  closed, reopened and closed again is one; per agent, the cases they closed at least once);
  reopened: reopen events; escalated: cases escalated at least once in the period. Events
  count for the team the case was in when they happened (a case closed by one team and later
  handed on stays theirs).
- first response time: opening to the first agent reply in the case thread; resolution time:
  opening to close, time pending excluded; both in business time of the team's SLA calendar
  where it has one. Medians and 90th percentiles over the cases answered / closed (for the
  last time) in the period.
- SLA attainment: of the targets (first response, resolution) that count in the period, those
  met. A target counts once, in the period in which it was met or came due, whichever was
  first: met in time, it is met; met late, it is a miss, counted at its due time; past due and
  still running, it is a miss once its due time has passed by `followed_until` (a target due
  later today is no miss yet), and is not counted again when it is finally met. A clock
  paused within its budget (pending) counts when it is met or comes due; a reopened case's
  resolution runs on from its remaining budget, so it counts when met again or due. A case
  closed unanswered before its first response came due has no first response target to
  count. Targets count for the team the case is in. Each case stores the moment
  (`*_settled_at`) and the outcome (`*_breached`), kept by `SlaTracker.refresh`.
- SLA breaches: the targets missed in the period, first response and resolution, whether or
  not an alert was sent.
- first-contact resolution: of the cases resolved in the period, those closed by their first
  assignee (or, never assigned, by whoever closed them), never escalated, reassigned or reopened.
- escalation rate: of the cases opened in the period, those escalated since; reopen rate: of the
  cases resolved in the period, those reopened since. Rates follow their cases, so they never
  exceed 100% and a period's rate can still rise while its cases live on.
- CSAT: ratings given in the period (1-5); response rate: of the surveys sent in the period,
  those answered since.
"""

from __future__ import annotations

from bot.metrics.agents import AgentRow, agent_table
from bot.metrics.backlog import at_risk, backlog, daily_counts, oldest_open
from bot.metrics.kpis import STATS_WINDOWS, Ratio, Spread, TeamKpis, team_kpis
from bot.metrics.records import CASE_RECORD_FIELDS, case_records

__all__ = [
    "CASE_RECORD_FIELDS",
    "STATS_WINDOWS",
    "AgentRow",
    "Ratio",
    "Spread",
    "TeamKpis",
    "agent_table",
    "at_risk",
    "backlog",
    "case_records",
    "daily_counts",
    "oldest_open",
    "team_kpis",
]
