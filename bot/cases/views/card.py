"""The case card posted in the team channel (kept in sync with `chat.update`), and the
messages the bot posts in the case's thread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.cases.views.audit import describe_event
from bot.cases.views.buttons import (
    CLAIM,
    CLOSE,
    ESCALATE,
    REOPEN,
    RESUME,
    assign_picker,
    card_block_id,
)
from bot.desk import DeskConfig
from bot.sla.policies import TARGET_LABELS
from bot.sla.timers import TimerStatus
from bot.slack.blocks import (
    HEADER_LIMIT,
    Block,
    SlackMessage,
    actions,
    context,
    fields_section,
    header,
    message,
    section,
    slack_date,
    user_text,
)
from bot.text import escape, mention
from bot.timefmt import duration
from models import Case, CaseAction, CaseEvent, CaseStatus

STATUS_EMOJI = {
    CaseStatus.OPEN: ":large_blue_circle:",
    CaseStatus.IN_PROGRESS: ":large_yellow_circle:",
    CaseStatus.PENDING: ":hourglass_flowing_sand:",
    CaseStatus.CLOSED: ":white_check_mark:",
}


def assignee_text(case: Case) -> str:
    return mention(case.assignee_id) if case.assignee_id else "_unassigned_"


def state_line(case: Case) -> str:
    """Priority, status and who has it: "P2 · in progress · @ana"."""
    return f"{case.priority.upper()} · {case.status.label} · {assignee_text(case)}"


def case_title_line(case: Case) -> str:
    return f"#{case.id} · {case.title}"


def case_card(
    case: Case,
    desk: DeskConfig,
    now: datetime,
    timers: Sequence[TimerStatus] = (),
    *,
    full_title_below: bool = False,
) -> SlackMessage:
    """The case card; `full_title_below` where the whole title follows (`/case show`)."""
    team = desk.team(case.team_key)
    title_line = case_title_line(case)
    blocks: list[Block] = [header(title_line)]
    if len(title_line) > HEADER_LIMIT and not full_title_below:
        blocks.append(context([f"_Title shortened; `/case show {case.id}` has all of it._"]))
    blocks.append(
        fields_section(
            [
                f"*Status*\n{STATUS_EMOJI[case.status]} {case.status.label.capitalize()}",
                f"*Priority*\n{case.priority.upper()} · {desk.priority_label(case.priority)}",
                f"*Requester*\n{mention(case.requester_id)}",
                f"*Assignee*\n{assignee_text(case)}",
                f"*Team*\n{user_text(team.name, 200)}",
                f"*Escalation*\n{_escalation(case.escalation_level)}",
            ]
        )
    )
    if case.status is CaseStatus.PENDING and case.pending_reason:
        blocks.append(
            section(f"*Waiting on the requester:* {user_text(case.pending_reason, 2500)}")
        )
    if case.is_closed and case.resolution:
        blocks.append(section(f"*Resolution:* {user_text(case.resolution, 2500)}"))
    if timers:
        blocks.append(context([sla_line(timer) for timer in timers]))
    blocks.append(context([_age_line(case, now)]))
    if case.from_message:
        blocks.append(context([from_message_line(case)]))
    blocks.append(actions(card_buttons(case), block_id=card_block_id(case.id)))
    # The fallback is mrkdwn in notifications too: user text is escaped there as well.
    text = f"Case #{case.id} ({case.priority.upper()}, {case.status.label}): {escape(case.title)}"
    return message(text, blocks)


def sla_line(timer: TimerStatus) -> str:
    """A running target, its due time stated absolutely (Slack shows it in each reader's
    zone), so the card stays true between its updates."""
    label = TARGET_LABELS[timer.target]
    if timer.breached:
        return f":rotating_light: *{label} SLA breached* (was due {slack_date(timer.due_at)})"
    if timer.warned:
        return f":warning: *{label} due soon:* {slack_date(timer.due_at)}"
    return f":stopwatch: {label} due {slack_date(timer.due_at)}"


def card_buttons(case: Case) -> list[Block]:
    """What can be done to the case now: a closed case can only be reopened; an open one
    can be claimed while nobody has it, resumed while it waits, handed to someone, escalated
    and closed."""
    if case.is_closed:
        return [REOPEN.render(case.id)]
    first = [CLAIM] if case.assignee_id is None else []
    first += [RESUME] if case.status is CaseStatus.PENDING else []
    return [
        *(case_button.render(case.id) for case_button in first),
        assign_picker(case),
        ESCALATE.render(case.id),
        CLOSE.render(case.id),
    ]


def moved_card(case: Case, to_team_name: str) -> SlackMessage:
    """What the old card says after the case moved to another team's channel."""
    text = f"Case #{case.id} moved to {to_team_name}."
    return message(
        text,
        [
            header(case_title_line(case)),
            section(f":arrow_right: This case moved to *{user_text(to_team_name, 200)}*."),
        ],
    )


# Changes the team's managers are mentioned for in the thread.
_TELL_MANAGERS = frozenset({CaseAction.ESCALATED, CaseAction.NOBODY_AVAILABLE})


def thread_update(case: Case, events: list[CaseEvent], desk: DeskConfig) -> SlackMessage:
    """The reply posted in the case thread for one change (the buttons stay on the card)."""
    lines = [describe_event(event, desk) for event in events]
    if any(event.action in _TELL_MANAGERS for event in events):
        managers = desk.team(case.team_key).managers
        if managers:
            lines.append("cc " + " ".join(mention(member) for member in managers))
    blocks: list[Block] = [section(line) for line in lines]
    fallback = f"Case #{case.id}: " + "; ".join(event.action.value for event in events)
    return message(fallback, blocks)


def description_message(case: Case) -> SlackMessage:
    """The requester's description, as the first reply in a new case thread."""
    quoted = "\n".join(f"> {line}" for line in user_text(case.description, 2800).splitlines())
    blocks: list[Block] = [section(f"*Description*\n{quoted}")]
    return message(f"Case #{case.id}: description", blocks)


def from_message_line(case: Case) -> str:
    """Where a case from a message came from, linked to that message."""
    message_ = f"<{case.message_permalink}|a message>" if case.message_permalink else "a message"
    where = f"<#{case.conversation_channel_id}>"
    return f":speech_balloon: From {message_} by {mention(case.requester_id)} in {where}"


def _escalation(level: int) -> str:
    return "none" if level == 0 else f":rotating_light: level {level}"


def _age_line(case: Case, now: datetime) -> str:
    parts = [f"Opened {slack_date(case.opened_at)}"]
    if case.first_response_at:
        parts.append(f"first response after {duration(case.first_response_at - case.opened_at)}")
    if case.closed_at and case.is_closed:
        parts.append(f"closed {slack_date(case.closed_at)}")
    if case.reopen_count:
        parts.append(f"reopened {case.reopen_count}×")
    return " · ".join(parts)
