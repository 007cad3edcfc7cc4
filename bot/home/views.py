"""App Home: an agent's queue (with what is breached and what is breaching soon, each with
its due time), for managers their teams' figures and load; for a requester, their requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.cases.views.buttons import CLAIM
from bot.cases.views.card import STATUS_EMOJI, state_line
from bot.desk import Team
from bot.metrics import AgentRow
from bot.metrics.views import SummaryReport, kpi_blocks
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


@dataclass(frozen=True)
class ManagerPanel:
    team: Team
    today: SummaryReport
    breaching: list[Case]
    escalated: list[Case]
    load: list[AgentRow]


@dataclass(frozen=True)
class HomeData:
    user_id: str
    mine: list[Case]
    unassigned: list[Case]
    breaching_soon: list[Case]
    managed: list[ManagerPanel] = field(default_factory=list)
    # Set for someone on no team: the cases they asked for (open first, then recently closed).
    requested: list[Case] | None = None


def home_view(data: HomeData, now: datetime) -> dict[str, Any]:
    blocks: list[Block] = [header("Casedesk")]
    if data.requested is not None:
        blocks += _case_list("Your requests", data.requested, now, claim=False)
        return _home(blocks, "Open a case with `/case open <title>`; `/case help` lists the rest.")
    breached = [case for case in data.breaching_soon if (_due(case) or now) <= now]
    soon = [case for case in data.breaching_soon if case not in breached]
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


def _manager_panel(panel: ManagerPanel, now: datetime) -> list[Block]:
    blocks: list[Block] = [divider(), header(f"{panel.team.name}: today")]
    blocks += kpi_blocks(panel.today)
    blocks += _case_list("Breaching or due soon", panel.breaching, now, claim=True)
    blocks += _case_list("Escalated", panel.escalated, now, claim=False)
    if panel.load:
        lines = [f"• {mention(row.agent_id)}: {row.open_now} open" for row in panel.load]
        blocks.append(section("*Load per agent*\n" + "\n".join(lines)))
    return blocks
