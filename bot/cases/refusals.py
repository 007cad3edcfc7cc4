"""The refusals of case work, as data: `bot.cases.views.refusals` words them.

Each names the case it is about and what stood in the way; the action (`CaseAction`) says
which change was refused, so the view can say what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.refusals import BadInput, InvalidMove, NotAllowed
from models import CaseAction, CaseStatus

# Inputs


@dataclass(eq=False)
class MissingText(BadInput):
    """The change needs words (a title, a reason, a resolution, the note) and got none."""

    action: CaseAction
    case_id: int | None = None


@dataclass(eq=False)
class UnknownChoice(BadInput):
    """A team, priority or list that is not one of the desk's (`known`)."""

    kind: Literal["team", "priority", "list"]
    value: str
    known: tuple[str, ...]


@dataclass(eq=False)
class Outdated(BadInput):
    """A button, list page or form whose value points at nothing there is (any more)."""

    what: Literal["button", "list", "form", "survey", "survey form"]


@dataclass(eq=False)
class BadCaseReference(BadInput):
    """`/case <subcommand>` needs a case (`42`, `#42`); `typed` is what came instead."""

    subcommand: str
    typed: str


@dataclass(eq=False)
class UnknownPerson(BadInput):
    """`/case assign N` without a person picked from Slack's autocomplete."""

    case_id: int
    typed: str


@dataclass(eq=False)
class UnknownPeriod(BadInput):
    typed: str


# Who may do it


@dataclass(eq=False)
class OnlyAgents(NotAllowed):
    """Only the team's agents and managers may make this change."""

    team_name: str
    action: CaseAction


@dataclass(eq=False)
class OnlyManagerOrAssignee(NotAllowed):
    """Handing a case over (assign or unassign) is for a manager or the assignee."""

    team_name: str
    case_id: int
    action: CaseAction


@dataclass(eq=False)
class OnlyRequesterOrAgent(NotAllowed):
    """Reopening is for the requester or the team."""

    team_name: str
    case_id: int


@dataclass(eq=False)
class NotOnTeam(NotAllowed):
    """The person a case was to go to is not an agent of its team."""

    user_id: str
    team_name: str
    case_id: int


# The state of the case


@dataclass(eq=False)
class CaseClosed(InvalidMove):
    case_id: int
    action: CaseAction
    closed_by: str | None
    closed_at: datetime | None
    at: datetime  # when it was refused: "closed 10 min ago"


@dataclass(eq=False)
class WrongStatus(InvalidMove):
    """The change is for a case that is `expected` (reopen: closed, resume: pending)."""

    case_id: int
    status: CaseStatus
    expected: CaseStatus


@dataclass(eq=False)
class AlreadyClaimed(InvalidMove):
    case_id: int
    holder_id: str
    since: datetime | None
    at: datetime


@dataclass(eq=False)
class AlreadyYours(InvalidMove):
    case_id: int


@dataclass(eq=False)
class AlreadyAssigned(InvalidMove):
    case_id: int
    assignee_id: str


@dataclass(eq=False)
class NoAssignee(InvalidMove):
    case_id: int


@dataclass(eq=False)
class AlreadyPending(InvalidMove):
    case_id: int
    reason: str


@dataclass(eq=False)
class NotClaimedYet(InvalidMove):
    """Only a case someone works on can wait on its requester."""

    case_id: int


@dataclass(eq=False)
class SamePriority(InvalidMove):
    case_id: int
    priority: str
