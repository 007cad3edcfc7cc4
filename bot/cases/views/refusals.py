"""How a refusal reads (Slack mrkdwn): the only place case refusals become words.

`describe` is one function over every kind of refusal; a feature with refusals of its own
registers its wording beside its views (`@describe.register`).
"""

from __future__ import annotations

from functools import singledispatch

from bot.cases import refusals as r
from bot.cases.commands import USAGE
from bot.refusals import AlreadyDone, CaseNotFound, Refusal
from bot.text import escape, mention
from bot.timefmt import ago
from models import CaseAction

# What a change is called in "you cannot ... it" and "Only agents ... can ...".
_VERB = {
    CaseAction.CLAIMED: "claim",
    CaseAction.ASSIGNED: "assign",
    CaseAction.UNASSIGNED: "unassign",
    CaseAction.ESCALATED: "escalate",
    CaseAction.PENDING: "mark as pending",
    CaseAction.RESUMED: "resume",
    CaseAction.CLOSED: "close",
    CaseAction.PRIORITY_CHANGED: "change the priority of",
}
_AGENTS_MAY = {
    CaseAction.CLAIMED: "claim cases",
    CaseAction.ESCALATED: "escalate cases",
    CaseAction.PENDING: "mark cases as pending",
    CaseAction.RESUMED: "resume cases",
    CaseAction.CLOSED: "close cases",
    CaseAction.PRIORITY_CHANGED: "change priorities",
    CaseAction.NOTE: "add internal notes",
}
# What a change needs words for, and the command that gives them.
_NEEDS = {
    CaseAction.ESCALATED: ("a reason", "/case escalate {n} <reason>"),
    CaseAction.PENDING: ("what you are waiting for", "/case pending {n} <what we wait for>"),
    CaseAction.CLOSED: ("a resolution", "/case close {n} <resolution>"),
    CaseAction.REOPENED: ("a reason", "/case reopen {n} <reason>"),
    CaseAction.NOTE: ("the note's text", "/case note {n} <text>"),
}


def _verb(action: CaseAction) -> str:
    return _VERB.get(action, f"change ({action.value.replace('_', ' ')})")


@singledispatch
def describe(refusal: Refusal) -> str:
    """What to tell the person who was refused."""
    raise TypeError(f"no wording for {type(refusal).__name__}")


@describe.register
def _(refusal: CaseNotFound) -> str:
    return f"There is no case #{refusal.number}. `/case list` shows the open ones."


@describe.register
def _(refusal: AlreadyDone) -> str:
    return "That was done already."


# Inputs


@describe.register
def _(refusal: r.MissingText) -> str:
    if refusal.action is CaseAction.OPENED:
        return f"A case needs a title: `{USAGE['open']}`."
    what, usage = _NEEDS.get(refusal.action, ("some text", "/case help"))
    return f"Please give {what}: `{usage.format(n=refusal.case_id)}`."


@describe.register
def _(refusal: r.UnknownChoice) -> str:
    typed = escape(refusal.value)
    if refusal.kind == "team":
        known = ", ".join(f"`{team}`" for team in refusal.known)
        return f"There is no team `{typed}`. Teams: {known}."
    if refusal.kind == "priority":
        *first, last = refusal.known
        return f"`{typed}` is not a priority; use {', '.join(first)} or {last}."
    return f"`{typed}` is not a list; use one of: {', '.join(refusal.known)}."


_OUTDATED = {
    "button": "That button does not point at a case any more.",
    "list": "That list is out of date; run `/case list` again.",
    "form": "That form no longer points at a case; please start again.",
    "survey": "That survey is out of date.",
    "survey form": "That survey no longer points at a case.",
}


@describe.register
def _(refusal: r.Outdated) -> str:
    return _OUTDATED[refusal.what]


@describe.register
def _(refusal: r.BadCaseReference) -> str:
    typed = refusal.typed
    what = f"`{escape(typed)}` is not a case number." if typed else "Which case?"
    return f"{what} Usage: `{USAGE[refusal.subcommand]}` (a case is `42` or `#42`)."


@describe.register
def _(refusal: r.UnknownPerson) -> str:
    typed = refusal.typed
    return (
        f"Whom should case #{refusal.case_id} go to? `{USAGE['assign']}`, picking the person "
        "from Slack's @-autocomplete"
        + (f" (I could not tell who `{escape(typed)}` is)." if typed else ".")
    )


@describe.register
def _(refusal: r.UnknownPeriod) -> str:
    return f"`{escape(refusal.typed)}` is not a period. Usage: `{USAGE['stats']}`."


# Who may do it


@describe.register
def _(refusal: r.OnlyAgents) -> str:
    may = _AGENTS_MAY.get(refusal.action, "make this change")
    return f"Only agents and managers of {refusal.team_name} can {may}."


@describe.register
def _(refusal: r.OnlyManagerOrAssignee) -> str:
    team, n = refusal.team_name, refusal.case_id
    if refusal.action is CaseAction.UNASSIGNED:
        return f"Only a manager of {team} or the assignee can unassign case #{n}."
    return f"Only a manager of {team} or the case's assignee can assign case #{n} to someone else."


@describe.register
def _(refusal: r.OnlyRequesterOrAgent) -> str:
    return (
        f"Only the requester or an agent or manager of {refusal.team_name} can reopen "
        f"case #{refusal.case_id}."
    )


@describe.register
def _(refusal: r.NotOnTeam) -> str:
    return (
        f"{mention(refusal.user_id)} is not an agent of {refusal.team_name}, so they cannot "
        f"take case #{refusal.case_id}."
    )


# The state of the case


@describe.register
def _(refusal: r.CaseClosed) -> str:
    n = refusal.case_id
    when = ago(refusal.closed_at, refusal.at) if refusal.closed_at else "earlier"
    by = f" by {mention(refusal.closed_by)}" if refusal.closed_by else ""
    return (
        f"Case #{n} is already closed{by} {when}, so you cannot {_verb(refusal.action)} it. "
        f"Use `/case reopen {n} <reason>` first."
    )


@describe.register
def _(refusal: r.WrongStatus) -> str:
    return f"Case #{refusal.case_id} is not {refusal.expected.label}; it is {refusal.status.label}."


@describe.register
def _(refusal: r.AlreadyYours) -> str:
    return f"You already have case #{refusal.case_id}."


@describe.register
def _(refusal: r.AlreadyClaimed) -> str:
    n = refusal.case_id
    since = ago(refusal.since, refusal.at) if refusal.since else "earlier"
    return (
        f"Case #{n} is already claimed by {mention(refusal.holder_id)} ({since}). "
        f"Ask them or a manager to hand it over with `/case assign {n} @you`."
    )


@describe.register
def _(refusal: r.AlreadyAssigned) -> str:
    return f"Case #{refusal.case_id} is already assigned to {mention(refusal.assignee_id)}."


@describe.register
def _(refusal: r.NoAssignee) -> str:
    return f"Case #{refusal.case_id} has no assignee."


@describe.register
def _(refusal: r.AlreadyPending) -> str:
    n = refusal.case_id
    return (
        f"Case #{n} is already pending ({escape(refusal.reason)}). "
        f"`/case resume {n}` puts it back in progress."
    )


@describe.register
def _(refusal: r.NotClaimedYet) -> str:
    n = refusal.case_id
    return f"Nobody is working on case #{n} yet. Claim it first with `/case claim {n}`."


@describe.register
def _(refusal: r.SamePriority) -> str:
    return f"Case #{refusal.case_id} is already {refusal.priority.upper()}."
