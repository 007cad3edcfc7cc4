"""Parsing the text of `/case ...` into a `CaseCommand`. Pure: no database, no Slack."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.desk import PRIORITY_KEYS
from bot.errors import BadInput
from bot.metrics import STATS_WINDOWS
from bot.text import escape, from_slack, parse_user_reference

SUBCOMMANDS = (
    "open",
    "claim",
    "assign",
    "unassign",
    "escalate",
    "pending",
    "resume",
    "close",
    "reopen",
    "note",
    "priority",
    "sla",
    "show",
    "list",
    "stats",
    "help",
)

USAGE = {
    "open": "/case open [p1-p4] [team:<key>] <title>",
    "claim": "/case claim <case>",
    "assign": "/case assign <case> @user",
    "unassign": "/case unassign <case>",
    "escalate": "/case escalate <case> [to <team>] <reason>",
    "pending": "/case pending <case> <what we wait for>",
    "resume": "/case resume <case>",
    "close": "/case close <case> <resolution>",
    "reopen": "/case reopen <case> <reason>",
    "note": "/case note <case> <text>",
    "priority": "/case priority <case> <p1-p4>",
    "sla": "/case sla <case>",
    "show": "/case show <case>",
    "list": "/case list [mine|open|unassigned|escalated|pending|closed] [team:<key>]",
    "stats": "/case stats [team:<key>] [today|yesterday|7d|30d]",
    "help": "/case help",
}

_CASE_REFERENCE = re.compile(r"^#?(\d{1,9})$")
# Case numbers are INTEGER columns: a number past this one points at no case, on any database.
MAX_CASE_NUMBER = 2**31 - 1
_TEAM_OPTION = re.compile(r"^team:(\S+)$", re.IGNORECASE)


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


def parse_case_command(raw_text: str) -> CaseCommand:
    """Parse `/case` text. Unknown subcommands and empty text become `help`."""
    text = from_slack(raw_text).strip()
    if not text:
        return CaseCommand("help")
    name, rest = _first_word(text)
    name = name.lower()
    if name not in SUBCOMMANDS:
        close = difflib.get_close_matches(name, SUBCOMMANDS, n=1, cutoff=0.6)
        return CaseCommand("help", text=name, suggestion=close[0] if close else None)
    rest = rest.strip()
    if name == "open":
        return _parse_open(rest)
    if name == "list":
        return _parse_list(rest)
    if name == "stats":
        return _parse_stats(rest)
    if name == "help":
        return CaseCommand("help")
    number, rest = _take_case_reference(name, rest)
    if name == "assign":
        return _parse_assign(number, rest)
    if name == "escalate":
        return _parse_escalate(number, rest)
    return CaseCommand(name, number=number, text=rest)


def _parse_open(rest: str) -> CaseCommand:
    """Options come first, in any order: `p2 team:billing Printer on fire`."""
    priority = team = None
    words = rest.split()
    consumed = 0
    for word in words:
        team_match = _TEAM_OPTION.match(word)
        if word.lower() in PRIORITY_KEYS and priority is None:
            priority = word.lower()
        elif team_match and team is None:
            team = team_match.group(1).lower()
        else:
            break
        consumed += 1
    # Split off only the options, so the title keeps the user's own spacing.
    title = rest.split(None, consumed)[consumed] if consumed < len(words) else ""
    return CaseCommand("open", text=title.strip(), priority=priority, team=team)


def _parse_list(rest: str) -> CaseCommand:
    view, team = "open", None
    for word in rest.split():
        team_match = _TEAM_OPTION.match(word)
        if team_match:
            team = team_match.group(1).lower()
        else:
            view = word.lower()
    return CaseCommand("list", view=view, team=team)


def _parse_stats(rest: str) -> CaseCommand:
    window, team = "today", None
    for word in rest.split():
        team_match = _TEAM_OPTION.match(word)
        if team_match:
            team = team_match.group(1).lower()
        elif word.lower() in STATS_WINDOWS:
            window = word.lower()
        else:
            raise BadInput(f"`{escape(word)}` is not a period. Usage: `{USAGE['stats']}`.")
    return CaseCommand("stats", view=window, team=team)


def _parse_assign(number: int, rest: str) -> CaseCommand:
    target, _ = _first_word(rest)
    user_id = parse_user_reference(target) if target else None
    if user_id is None:
        raise BadInput(
            f"Whom should case #{number} go to? `{USAGE['assign']}`, picking the person from "
            "Slack's @-autocomplete"
            + (f" (I could not tell who `{escape(target)}` is)." if target else ".")
        )
    return CaseCommand("assign", number=number, user_id=user_id)


def _parse_escalate(number: int, rest: str) -> CaseCommand:
    """`escalate N [to <team> | team:<key>] <reason>`; the reason keeps its spacing."""
    first, remainder = _first_word(rest)
    if first.lower() == "to" and remainder:
        team, reason = _first_word(remainder)
        return CaseCommand(
            "escalate", number=number, team=team.lower().removeprefix("team:"), text=reason
        )
    team_match = _TEAM_OPTION.match(first)
    if team_match:
        return CaseCommand(
            "escalate", number=number, team=team_match.group(1).lower(), text=remainder
        )
    return CaseCommand("escalate", number=number, text=rest)


def _take_case_reference(name: str, rest: str) -> tuple[int, str]:
    reference, remainder = _first_word(rest)
    match = _CASE_REFERENCE.match(reference)
    if not match:
        what = f"`{escape(reference)}` is not a case number." if reference else "Which case?"
        raise BadInput(f"{what} Usage: `{USAGE[name]}` (a case is `42` or `#42`).")
    return int(match.group(1)), remainder


def _first_word(text: str) -> tuple[str, str]:
    """Split off the first word at any whitespace (people put text on the next line too),
    keeping the rest exactly as typed."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""
