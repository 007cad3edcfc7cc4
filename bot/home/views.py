"""App Home: an agent's availability (away or not, their open load against `max_open`) and
queue (with what is breached and what is breaching soon, each with its due time), for managers
their teams' figures, who is on and how new cases are assigned; for a requester, their
requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.cases.views.buttons import CLAIM
from bot.cases.views.card import STATUS_EMOJI, state_line
from bot.desk import Team
from bot.metrics.views import SummaryReport, kpi_blocks
from bot.routing.views import AWAY_USAGE, OnDuty, assignment_mode, on_duty_line
from bot.slack.blocks import (
    MAX_MODAL_BLOCKS,
    Block,
    context,
    divider,
    header,
    section,
    slack_date,
    user_text,
)
from bot.text import mention
from bot.timefmt import ago
from models import Case

LIST_LIMIT = 8
# Lines of one "who is on" section: 25 of the longest (away until a date, a load against a
# cap) stay within a section's 3000 characters.
LINES_PER_SECTION = 25


@dataclass(frozen=True)
class Availability:
    """The viewer as automatic assignment sees them: away or not (until when; None: until
    they are back), their open cases, and `max_open` of each team whose turn they are in."""

    away: bool
    away_until: datetime | None
    open_cases: int
    caps: dict[str, int | None]  # team name: its max_open


@dataclass(frozen=True)
class ManagerPanel:
    team: Team
    today: SummaryReport
    breaching: list[Case]
    escalated: list[Case]
    on_duty: list[OnDuty]  # the agents in turn, in app.yaml's order
    managers_open: dict[str, int] = field(default_factory=dict)  # managers holding cases


@dataclass(frozen=True)
class HomeData:
    user_id: str
    mine: list[Case]
    unassigned: list[Case]
    breaching_soon: list[Case]
    managed: list[ManagerPanel] = field(default_factory=list)
    # Set for someone on no team: the cases they asked for (open first, then recently closed).
    requested: list[Case] | None = None
    # Set for an agent in some team's turn: whether new cases come to them.
    me: Availability | None = None


def home_view(data: HomeData, now: datetime) -> dict[str, Any]:
    blocks: list[Block] = [header("Casedesk")]
    if data.requested is not None:
        blocks += _case_list("Your requests", data.requested, now, claim=False)
        return _home(blocks, "Open a case with `/case open <title>`; `/case help` lists the rest.")
    breached = [case for case in data.breaching_soon if (_due(case) or now) <= now]
    soon = [case for case in data.breaching_soon if case not in breached]
    if data.me is not None:
        blocks += _availability(data.me)
    blocks += _case_list("Your open cases", data.mine, now, claim=False)
    blocks += _case_list("Unassigned in your teams", data.unassigned, now, claim=True)
    blocks += _case_list("SLA breached", breached, now, claim=True, due=True)
    blocks += _case_list("Breaching soon", soon, now, claim=True, due=True)
    for panel in data.managed:
        blocks += _manager_panel(panel, now)
    return _home(blocks, "`/case help` lists commands.")


def _due(case: Case) -> datetime | None:
    """The sooner of the case's running SLA due times."""
    dues = [due for due in (case.first_response_due_at, case.resolution_due_at) if due]
    return min(dues, default=None)


def _home(blocks: list[Block], hint: str) -> dict[str, Any]:
    blocks.append(context([f"Updated when you open this tab and as cases change. {hint}"]))
    if len(blocks) > MAX_MODAL_BLOCKS:
        blocks = [*blocks[: MAX_MODAL_BLOCKS - 1], context(["_More not shown._"])]
    return {"type": "home", "blocks": blocks}


def _case_list(
    title: str, cases: list[Case], now: datetime, *, claim: bool, due: bool = False
) -> list[Block]:
    blocks: list[Block] = [divider(), section(f"*{title}* ({len(cases)})")]
    if not cases:
        blocks.append(context(["_Nothing here._"]))
        return blocks
    for case in cases[:LIST_LIMIT]:
        line = (
            f"{STATUS_EMOJI[case.status]} *#{case.id}* {user_text(case.title, 100)}\n"
            f"{state_line(case)} · active {ago(case.last_activity_at, now)}"
        )
        if due and (due_at := _due(case)) is not None:
            line += f" · {'was due' if due_at <= now else 'due'} {slack_date(due_at)}"
        accessory = None
        if claim and case.assignee_id is None and not case.is_closed:
            accessory = CLAIM.render(case.id)
        blocks.append(section(line, accessory=accessory))
    if len(cases) > LIST_LIMIT:
        blocks.append(context([f"…and {len(cases) - LIST_LIMIT} more: `/case list`"]))
    return blocks


def _availability(me: Availability) -> list[Block]:
    load = _load(me.open_cases, me.caps)
    if not me.away:
        return [
            section(f"*You are available* · {load}"),
            context([f"Stepping out? `{AWAY_USAGE}`: new cases skip you until you are back."]),
        ]
    until = f" until {slack_date(me.away_until)}" if me.away_until else ""
    return [
        section(f"*You are away*{until} · {load}"),
        context(
            ["New cases skip you (you can still claim by hand): `/case back` when you are back."]
        ),
    ]


def _load(open_cases: int, caps: dict[str, int | None]) -> str:
    """The open load against the one cap of the agent's teams ("3/5 open"), without a cap
    ("3 open"), or with each team's cap when they differ."""
    limits = {team: cap for team, cap in caps.items() if cap is not None}
    if not limits:
        return f"{open_cases} open"
    if len(set(limits.values())) == 1:
        return f"{open_cases}/{next(iter(limits.values()))} open"
    each = ", ".join(f"{cap} in {user_text(team, 100)}" for team, cap in limits.items())
    return f"{open_cases} open (at most {each})"


def _manager_panel(panel: ManagerPanel, now: datetime) -> list[Block]:
    blocks: list[Block] = [divider(), header(f"{panel.team.name}: today")]
    blocks += kpi_blocks(panel.today)
    blocks += _case_list("Breaching or due soon", panel.breaching, now, claim=True)
    blocks += _case_list("Escalated", panel.escalated, now, claim=False)
    return blocks + _who_is_on(panel)


def _who_is_on(panel: ManagerPanel) -> list[Block]:
    """Each agent in turn, available or away (until when), with their open load; then the
    managers holding cases; under how the team assigns new cases."""
    cap = panel.team.assignment.max_open
    lines = [on_duty_line(agent, cap) for agent in panel.on_duty]
    lines += [f"• {mention(user)}: manager · {n} open" for user, n in panel.managers_open.items()]
    head = f"*Who is on* · {assignment_mode(panel.team)}"
    if not lines:
        return [divider(), section(f"{head}\n_No agents take new cases._")]
    chunks = [lines[i : i + LINES_PER_SECTION] for i in range(0, len(lines), LINES_PER_SECTION)]
    blocks: list[Block] = [divider(), section(head + "\n" + "\n".join(chunks[0]))]
    return blocks + [section("\n".join(chunk)) for chunk in chunks[1:]]
