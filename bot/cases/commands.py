"""The `/case` subcommands, each declared once: name, usage line, who it is for, how its
text is parsed and which flow carries it out. Help and "did you mean" come from here.

Parsing is pure (no database, no Slack): `parse_case_command` turns the text into a
`CaseCommand` or refuses with data (`bot.cases.refusals`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.cases.guards import Audience
from bot.cases.refusals import BadCaseReference, UnknownChoice, UnknownPeriod, UnknownPerson
from bot.desk import PRIORITY_KEYS
from bot.metrics import STATS_WINDOWS
from bot.routing.away import read_away
from bot.text import from_slack, parse_user_reference
from models import CaseAction

if TYPE_CHECKING:
    from bot.cases.flow import CaseFlows
    from bot.requester import Requester
    from bot.slack.blocks import SlackMessage

_CASE_REFERENCE = re.compile(r"^#?(\d{1,9})$")
_TEAM_OPTION = re.compile(r"^team:(\S+)$", re.IGNORECASE)
_PRIORITY_LIKE = re.compile(r"^p\d+$", re.IGNORECASE)  # p0, P7: meant as a priority


@dataclass(frozen=True)
class CaseCommand:
    name: str
    number: int | None = None
    text: str = ""
    priority: str | None = None
    team: str | None = None
    user_id: str | None = None
    view: str = "open"
    suggestion: str | None = None  # for help: what an unknown subcommand probably meant


@dataclass(frozen=True)
class Invocation:
    """A parsed command, who typed it, and the trigger a modal can be opened with."""

    command: CaseCommand
    who: Requester
    trigger_id: str | None

    @property
    def number(self) -> int:
        return self.command.number or 0

    @property
    def text(self) -> str:
        return self.command.text


Run = Callable[["CaseFlows", Invocation], "SlackMessage | None"]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    audience: Audience  # whom it is for, as help shows it; the rules enforce who may
    run: Run
    parse: Callable[[str, str], CaseCommand]  # (name, the text after it) -> the command
    # False for a reading: it changes nothing, so its request is not kept in the inbox (a
    # reading lost with its process is typed again; bot/inbox.py).
    changes: bool = True


# Parsers


def _first_word(text: str) -> tuple[str, str]:
    """Split off the first word at any whitespace (people put text on the next line too),
    keeping the rest exactly as typed."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def _take_case_reference(name: str, rest: str) -> tuple[int, str]:
    reference, remainder = _first_word(rest)
    match = _CASE_REFERENCE.match(reference)
    if not match:
        raise BadCaseReference(name, reference)
    return int(match.group(1)), remainder


def _numbered(name: str, rest: str) -> CaseCommand:
    """`<name> <case> [text]`: most subcommands."""
    number, text = _take_case_reference(name, rest)
    return CaseCommand(name, number=number, text=text)


def _parse_open(name: str, rest: str) -> CaseCommand:
    """Options come first, in any order: `p2 team:billing Printer on fire`."""
    priority = team = None
    words = rest.split()
    consumed = 0
    for word in words:
        team_match = _TEAM_OPTION.match(word)
        if word.lower() in PRIORITY_KEYS and priority is None:
            priority = word.lower()
        elif _PRIORITY_LIKE.match(word) and priority is None:
            raise UnknownChoice("priority", word, PRIORITY_KEYS)
        elif team_match and team is None:
            team = team_match.group(1).lower()
        else:
            break
        consumed += 1
    # Split off only the options, so the title keeps the user's own spacing.
    title = rest.split(None, consumed)[consumed] if consumed < len(words) else ""
    return CaseCommand(name, text=title.strip(), priority=priority, team=team)


def _parse_list(name: str, rest: str) -> CaseCommand:
    view, team = "open", None
    for word in rest.split():
        team_match = _TEAM_OPTION.match(word)
        if team_match:
            team = team_match.group(1).lower()
        else:
            view = word.lower()
    return CaseCommand(name, view=view, team=team)


def _parse_stats(name: str, rest: str) -> CaseCommand:
    window, team = "today", None
    for word in rest.split():
        team_match = _TEAM_OPTION.match(word)
        if team_match:
            team = team_match.group(1).lower()
        elif word.lower() in STATS_WINDOWS:
            window = word.lower()
        else:
            raise UnknownPeriod(word)
    return CaseCommand(name, view=window, team=team)


def _parse_assign(name: str, rest: str) -> CaseCommand:
    number, rest = _take_case_reference(name, rest)
    target, _ = _first_word(rest)
    user_id = parse_user_reference(target) if target else None
    if user_id is None:
        raise UnknownPerson(number, target)
    return CaseCommand(name, number=number, user_id=user_id)


def _parse_escalate(name: str, rest: str) -> CaseCommand:
    """`escalate N [to <team> | team:<key>] <reason>`; the reason keeps its spacing."""
    number, rest = _take_case_reference(name, rest)
    first, remainder = _first_word(rest)
    if first.lower() == "to" and remainder:
        team, reason = _first_word(remainder)
        return CaseCommand(
            name, number=number, team=team.lower().removeprefix("team:"), text=reason
        )
    team_match = _TEAM_OPTION.match(first)
    if team_match:
        return CaseCommand(name, number=number, team=team_match.group(1).lower(), text=remainder)
    return CaseCommand(name, number=number, text=rest)


def _parse_away(name: str, rest: str) -> CaseCommand:
    """`away`, `away until 14:00`, `away for 2h` (UnknownAwayTime for `until 25:00`)."""
    read_away(rest)
    return CaseCommand(name, text=rest)


def _parse_who(name: str, rest: str) -> CaseCommand:
    team_match = _TEAM_OPTION.match(rest.strip())
    return CaseCommand(name, team=team_match.group(1).lower() if team_match else None)


def _parse_help(name: str, rest: str) -> CaseCommand:
    return CaseCommand(name)


# What each subcommand runs


def _open(flows: CaseFlows, run: Invocation) -> SlackMessage | None:
    command = run.command
    if not command.text:
        return flows.open_modal(run.who, run.trigger_id)
    return flows.open_case(
        run.who, title=command.text, priority=command.priority, team_key=command.team
    )


def _escalate(flows: CaseFlows, run: Invocation) -> SlackMessage | None:
    team = run.command.team
    if not run.text:
        return flows.open_case_modal(
            run.who, run.number, CaseAction.ESCALATED, run.trigger_id, to_team_key=team
        )
    return flows.escalate(run.who, run.number, reason=run.text, to_team_key=team)


def _close(flows: CaseFlows, run: Invocation) -> SlackMessage | None:
    if not run.text:
        return flows.open_case_modal(run.who, run.number, CaseAction.CLOSED, run.trigger_id)
    return flows.close(run.who, run.number, run.text)


def _help(flows: CaseFlows, run: Invocation) -> SlackMessage:
    return flows.help(SUBCOMMANDS, unknown=run.text, suggestion=run.command.suggestion)


ANYONE, REQUESTER_OR_TEAM, TEAM = Audience.ANYONE, Audience.REQUESTER_OR_TEAM, Audience.TEAM

SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("open", "/case open [p1-p4] [team:<key>] <title>", ANYONE, _open, _parse_open),
    Subcommand(
        "claim", "/case claim <case>", TEAM, lambda f, r: f.claim(r.who, r.number), _numbered
    ),
    Subcommand(
        "assign",
        "/case assign <case> @user",
        TEAM,
        lambda f, r: f.assign(r.who, r.number, r.command.user_id or ""),
        _parse_assign,
    ),
    Subcommand(
        "unassign",
        "/case unassign <case>",
        TEAM,
        lambda f, r: f.unassign(r.who, r.number),
        _numbered,
    ),
    Subcommand(
        "escalate", "/case escalate <case> [to <team>] <reason>", TEAM, _escalate, _parse_escalate
    ),
    Subcommand(
        "pending",
        "/case pending <case> <what we wait for>",
        TEAM,
        lambda f, r: f.pending(r.who, r.number, r.text),
        _numbered,
    ),
    Subcommand(
        "resume",
        "/case resume <case>",
        REQUESTER_OR_TEAM,
        lambda f, r: f.resume(r.who, r.number),
        _numbered,
    ),
    Subcommand("close", "/case close <case> <resolution>", TEAM, _close, _numbered),
    Subcommand(
        "reopen",
        "/case reopen <case> <reason>",
        REQUESTER_OR_TEAM,
        lambda f, r: f.reopen(r.who, r.number, r.text),
        _numbered,
    ),
    Subcommand(
        "note",
        "/case note <case> <text>",
        TEAM,
        lambda f, r: f.note(r.who, r.number, r.text),
        _numbered,
    ),
    Subcommand(
        "priority",
        "/case priority <case> <p1-p4>",
        TEAM,
        lambda f, r: f.set_priority(r.who, r.number, r.text),
        _numbered,
    ),
    Subcommand(
        "sla",
        "/case sla <case>",
        ANYONE,
        lambda f, r: f.explain_sla(r.number),
        _numbered,
        changes=False,
    ),
    Subcommand(
        "show", "/case show <case>", ANYONE, lambda f, r: f.show(r.number), _numbered, changes=False
    ),
    Subcommand(
        "list",
        "/case list [mine|open|unassigned|escalated|pending|closed] [team:<key>]",
        ANYONE,
        lambda f, r: f.list_cases(r.who, view=r.command.view, team_key=r.command.team),
        _parse_list,
        changes=False,
    ),
    Subcommand(
        "stats",
        "/case stats [team:<key>] [today|yesterday|7d|30d]",
        ANYONE,
        lambda f, r: f.stats(r.who, window=r.command.view, team_key=r.command.team),
        _parse_stats,
        changes=False,
    ),
    Subcommand(
        "away",
        "/case away [until <time> | for <duration>]",
        TEAM,
        lambda f, r: f.away(r.who, r.text),
        _parse_away,
    ),
    Subcommand("back", "/case back", TEAM, lambda f, r: f.back(r.who), _parse_help),
    Subcommand(
        "who",
        "/case who [team:<key>]",
        ANYONE,
        lambda f, r: f.who(r.who, r.command.team),
        _parse_who,
        changes=False,
    ),
    Subcommand("help", "/case help", ANYONE, _help, _parse_help, changes=False),
)
BY_NAME = {subcommand.name: subcommand for subcommand in SUBCOMMANDS}
USAGE = {subcommand.name: subcommand.usage for subcommand in SUBCOMMANDS}


def changes_anything(raw_text: str) -> bool:
    """Whether `/case` text names a subcommand that changes something (help for unknown
    words, and readings, do not): cheap, for the inbox to decide before the ack."""
    name, _ = _first_word(raw_text)
    subcommand = BY_NAME.get(name.lower())
    return subcommand is not None and subcommand.changes


def parse_case_command(raw_text: str) -> CaseCommand:
    """Parse `/case` text. Unknown subcommands and empty text become `help`."""
    text = from_slack(raw_text).strip()
    if not text:
        return CaseCommand("help")
    name, rest = _first_word(text)
    name = name.lower()
    subcommand = BY_NAME.get(name)
    if subcommand is None:
        close = difflib.get_close_matches(name, BY_NAME, n=1, cutoff=0.6)
        return CaseCommand("help", text=name, suggestion=close[0] if close else None)
    return subcommand.parse(name, rest.strip())
