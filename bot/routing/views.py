"""What routing says: being away and back, who is on, and its refusals in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.cases.views.refusals import describe
from bot.desk import Team
from bot.routing import refusals as r
from bot.slack.blocks import SlackMessage, context, message, section, slack_date, user_text
from bot.text import escape, mention

AWAY_USAGE = "/case away [until 14:00 | for 2h]"
_MODES = {
    "manual": "new cases wait for a claim",
    "round_robin": "new cases go round robin",
    "least_loaded": "new cases go to the least loaded",
}


@dataclass(frozen=True)
class OnDuty:
    """One agent as `/case who` shows them."""

    agent_id: str
    away_until: datetime | None
    away: bool
    load: int


def away_confirmation(until: datetime | None) -> str:
    back = f" until {slack_date(until)}" if until else ""
    return (
        f"You are away{back}: no new cases come to you by themselves. You can still claim "
        "by hand; `/case back` when you are back."
    )


def back_confirmation(was_away: bool) -> str:
    if was_away:
        return "Welcome back: new cases come to you again."
    return "You were not away: new cases come to you as they do."


def who_message(teams: list[tuple[Team, list[OnDuty]]]) -> SlackMessage:
    blocks = []
    for team, agents in teams:
        blocks.append(section(f"*{user_text(team.name, 200)}* · {assignment_mode(team)}"))
        lines = [on_duty_line(agent, team.assignment.max_open) for agent in agents]
        blocks.append(section("\n".join(lines) if lines else "_No agents._"))
    text = "Who is on: " + ", ".join(team.name for team, _ in teams)
    return message(text, blocks or [context(["No team to show."])])


def assignment_mode(team: Team) -> str:
    """How the team's new cases find their agent ("new cases go round robin, at most 5 open
    each"), as `/case who` and App Home say it."""
    mode = _MODES.get(team.assignment.mode, team.assignment.mode.replace("_", " "))
    cap = team.assignment.max_open
    return mode + (f", at most {cap} open each" if cap else "")


def on_duty_line(agent: OnDuty, cap: int | None) -> str:
    """One agent: available or away (until when), with their open load (against the cap)."""
    load = f"{agent.load}/{cap} open" if cap else f"{agent.load} open"
    if not agent.away:
        return f"• {mention(agent.agent_id)}: available · {load}"
    until = f" until {slack_date(agent.away_until)}" if agent.away_until else ""
    return f"• {mention(agent.agent_id)}: away{until} · {load}"


@describe.register
def _(refusal: r.UnknownAwayTime) -> str:
    return (
        f"`{escape(refusal.typed)}` is not a time of day or a length of time. "
        f"Usage: `{AWAY_USAGE}` (times in your own time zone)."
    )


@describe.register
def _(refusal: r.NotAnAgent) -> str:
    return "Only agents take cases, so only they can be away: you are not an agent of any team."
