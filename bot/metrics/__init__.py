"""Team KPIs, computed in SQL from the cases and the audit trail.

Pure query functions: a session, a team and a period [start, end) in, figures out. The summary
posts, `/case stats`, App Home and the export all read them from here.

Definitions (also shown in the summary's footnote):
- new: cases opened in the period; resolved: close events in the period; reopened: reopen events;
  escalated: cases escalated at least once in the period. Events count for the team the case
  was in when they happened (a case closed by one team and later handed on stays theirs).
- first response time: opening to the first agent reply in the case thread; resolution time:
  opening to close, time pending excluded; both in business time of the team's SLA calendar
  where it has one. Medians and 90th percentiles over the cases answered / closed in the period.
- SLA attainment: of the targets completed in the period, how many were met; breaches: SLA
  breach alerts in the period.
- first-contact resolution: of the cases closed in the period, those closed by their first
  assignee (or, never assigned, by whoever closed them), never escalated, reassigned or reopened.
- escalation rate: of the cases opened in the period, those escalated since; reopen rate: of the
  cases closed in the period, those reopened since. Rates follow their cases, so they never
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
