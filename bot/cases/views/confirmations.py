"""What the person who changed a case is told it did (Slack mrkdwn)."""

from __future__ import annotations

from collections.abc import Callable

from bot.cases.changes import CaseChange
from bot.cases.repeats import JustOpened
from bot.desk import DeskConfig
from bot.text import mention
from models import Case, CaseAction, CaseEvent

Confirm = Callable[[Case, CaseEvent, DeskConfig], str]

# By the change's first event; any change a person makes from Slack has one here.
_CONFIRMATIONS: dict[CaseAction, Confirm] = {
    CaseAction.OPENED: lambda case, _, desk: (
        f"Opened case #{case.id} {_filed_with(desk, case.team_key)}."
    ),
    CaseAction.CLAIMED: lambda case, _, __: f"You claimed case #{case.id}.",
    CaseAction.ASSIGNED: lambda case, event, _: (
        f"Case #{case.id} is now assigned to {mention(event.to_value or '')}."
    ),
    CaseAction.UNASSIGNED: lambda case, _, __: f"Case #{case.id} is unassigned now.",
    CaseAction.ESCALATED: lambda case, _, desk: (
        f"Case #{case.id} is escalated to level {case.escalation_level}"
        f" with {desk.team(case.team_key).name}."
    ),
    CaseAction.PENDING: lambda case, _, __: (
        f"Case #{case.id} is pending until the requester answers."
    ),
    CaseAction.RESUMED: lambda case, _, __: f"Case #{case.id} is back in progress.",
    CaseAction.CLOSED: lambda case, _, __: f"You closed case #{case.id}.",
    CaseAction.REOPENED: lambda case, _, __: f"Case #{case.id} is reopened.",
    CaseAction.NOTE: lambda case, _, __: f"Note added to case #{case.id}.",
    CaseAction.PRIORITY_CHANGED: lambda case, _, __: (
        f"Case #{case.id} is {case.priority.upper()} now."
    ),
}


def confirmation(change: CaseChange, desk: DeskConfig) -> str:
    confirm = _CONFIRMATIONS.get(change.event.action)
    if confirm is None:  # a change with no words of its own yet
        return f"Done: case #{change.case.id}."
    return confirm(change.case, change.event, desk)


def just_opened(repeat: JustOpened, desk: DeskConfig) -> str:
    """The same open again moments later: no second case, the first one named."""
    return f"You just opened #{repeat.number} {_filed_with(desk, repeat.team_key)}."


def _filed_with(desk: DeskConfig, team_key: str) -> str:
    team = desk.team(team_key)
    return f"for {team.name} in <#{team.channel}>"
