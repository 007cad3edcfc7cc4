"""One line of mrkdwn per audit event, shared by thread updates and `/case show`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.desk import DeskConfig
from bot.sla.policies import TARGET_LABELS
from bot.slack.blocks import slack_date, user_text
from bot.text import mention
from models import CaseAction, CaseEvent

_TEXT_LIMIT = 2500


def describe_event(event: CaseEvent, desk: DeskConfig) -> str:
    who = mention(event.actor_id) if event.actor_id != "scheduler" else "Casedesk"
    details = event.details or {}
    reason = _breached(event) or user_text(str(details.get("reason", "")), _TEXT_LIMIT)
    match event.action:
        case CaseAction.OPENED:
            return _opened(who, details)
        case CaseAction.CLAIMED:
            return f":raising_hand: {who} claimed this case."
        case CaseAction.ASSIGNED | CaseAction.NOBODY_AVAILABLE:
            return _assigned(event, who, details)
        case CaseAction.UNASSIGNED:
            suffix = f" ({reason})" if reason else ""
            return (
                f":bust_in_silhouette: {who} unassigned {mention(event.from_value or '')}{suffix}."
            )
        case CaseAction.ESCALATED:
            return f":rotating_light: {who} escalated this case to level {event.to_value}: {reason}"
        case CaseAction.TEAM_CHANGED:
            return (
                f":arrow_right: Moved from {_team_name(desk, event.from_value)} "
                f"to {_team_name(desk, event.to_value)}."
            )
        case CaseAction.PENDING:
            return f":hourglass_flowing_sand: {who} is waiting on the requester: {reason}"
        case CaseAction.RESUMED:
            cause = details.get("cause")
            because = f" ({user_text(str(cause), 200)})" if cause else f" by {who}"
            return f":arrow_forward: Back in progress{because}."
        case CaseAction.CLOSED:
            resolution = user_text(str(details.get("resolution", "")), _TEXT_LIMIT)
            return f":white_check_mark: {who} closed this case: {resolution}"
        case CaseAction.REOPENED:
            return f":leftwards_arrow_with_hook: {who} reopened this case: {reason}"
        case CaseAction.NOTE:
            note = user_text(str(details.get("text", "")), _TEXT_LIMIT)
            return f":memo: Internal note from {who}: {note}"
        case CaseAction.RESPONDED:
            first = " (first response)" if details.get("first_response") else ""
            return f":speech_balloon: {who} replied in the thread{first}."
        case CaseAction.CUSTOMER_REPLIED:
            return f":speech_balloon: {who} (requester) replied in the thread."
        case CaseAction.COMMENTED:
            where = "the team's thread" if details.get("internal") else "the thread"
            return f":speech_balloon: {who} commented in {where}."
        case CaseAction.PRIORITY_CHANGED:
            return (
                f":arrows_counterclockwise: {who} changed the priority from "
                f"{(event.from_value or '').upper()} to {(event.to_value or '').upper()}."
            )
        case CaseAction.SLA_WARNING | CaseAction.SLA_BREACHED:
            return _sla_alert(event)
        case CaseAction.CSAT_REQUESTED:
            return ":bar_chart: Casedesk asked the requester how we did."
        case CaseAction.CSAT_RATED:
            return f":star: {who} rated this case {details.get('rating')}/5."
    return f"{who}: {event.action.value.replace('_', ' ')}"


_FROM = {
    "shortcut": "from a message",
    "emoji": "from a message, with a reaction,",
    "channel": "",
}


def _opened(who: str, details: dict[str, object]) -> str:
    """Who opened the case; for a case from a message, also from whose message."""
    source = str(details.get("source") or "")
    if source not in _FROM:
        return f":inbox_tray: {who} opened this case."
    author = details.get("requester")
    by = f" by {mention(str(author))}" if author else ""
    cut = details.get("cut_from")
    note = (
        f" (the message had {int(str(cut)):,} characters: the case keeps the start)" if cut else ""
    )
    if source == "channel":
        where = f"<#{details['channel']}>" if details.get("channel") else "a help channel"
        return f":inbox_tray: {who} asked in {where}, and Casedesk opened this case{note}."
    return f":inbox_tray: {who} opened this case {_FROM[source]}{by}{note}."


def _assigned(event: CaseEvent, who: str, details: dict[str, Any]) -> str:
    """Who got the case: by hand, or by automatic assignment with its reason (or nobody)."""
    target = mention(event.to_value or "")
    if event.action is CaseAction.NOBODY_AVAILABLE and details.get("unanswered"):
        holder = mention(str(details["unanswered"]))
        return (
            f":warning: {holder} has not answered, and the case has been moved on as often "
            "as it may: managers, please look."
        )
    if event.action is CaseAction.NOBODY_AVAILABLE:
        skipped = _skipped(details)
        because = f" ({skipped})" if skipped else ""
        return f":warning: Nobody could take this case{because}: it waits for a claim."
    if details.get("auto") and event.from_value:
        why = _routing_reason(details, str(details.get("reassigned") or ""))
        moved = f"from {mention(event.from_value)} to {target}"
        return f":robot_face: Casedesk moved this case {moved}{why}."
    if details.get("auto"):
        return f":robot_face: Casedesk assigned this case to {target}{_routing_reason(details)}."
    if event.to_value == event.actor_id:
        return f":raising_hand: {who} took this case."
    return f":bust_in_silhouette: {who} assigned this case to {target}."


_MODES = {"round_robin": "round robin", "least_loaded": "least loaded"}


def _routing_reason(details: dict[str, Any], because: str = "") -> str:
    """A choice's reason: "(round robin: next after @ana; skipped @ben (away))", led by
    why the case moved on, if it did ("no response; round robin: …")."""
    mode = _MODES.get(str(details.get("mode")), str(details.get("mode")))
    if details.get("after"):
        mode += f": next after {mention(str(details['after']))}"
    if details.get("load") is not None:
        mode += f": {details['load']} open"
    parts = [because, mode] if because else [mode]
    skipped = _skipped(details)
    if skipped:
        parts.append(f"skipped {skipped}")
    return " (" + "; ".join(parts) + ")"


def _skipped(details: dict[str, Any]) -> str:
    """Who automatic assignment passed over, and why."""
    away = [f"{mention(str(agent))} (away)" for agent in details.get("away") or []]
    limit = details.get("max_open")
    full = [
        f"{mention(str(agent))} ({load}/{limit} open)"
        for agent, load in (details.get("full") or {}).items()
    ]
    return ", ".join(away + full)


def _breached(event: CaseEvent) -> str:
    """Why the desk escalated a case by itself (`on_breach: escalate`): the target that
    breached (bot/sla/check.py), in words."""
    target = str((event.details or {}).get("breached"))
    if event.action is not CaseAction.ESCALATED or target not in TARGET_LABELS:
        return ""
    return f"{TARGET_LABELS[target].capitalize()} SLA breached"


def _sla_alert(event: CaseEvent) -> str:
    details = event.details or {}
    target = TARGET_LABELS.get(str(details.get("target")), "SLA")
    due = details.get("due_at")
    when = f" (due {_date(str(due))})" if due else ""
    if event.action is CaseAction.SLA_WARNING:
        return f":warning: Casedesk warned that the {target} target is due soon{when}."
    return f":rotating_light: The {target} target was breached{when}."


def _date(iso: str) -> str:
    try:
        return slack_date(datetime.fromisoformat(iso))
    except ValueError:
        return user_text(iso, 40)


def _team_name(desk: DeskConfig, key: str | None) -> str:
    if key and key in desk.teams:
        return f"*{user_text(desk.team(key).name, 200)}*"
    return f"`{key}`"
