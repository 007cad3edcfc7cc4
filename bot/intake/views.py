"""What intake says in Slack: the form prefilled from a message (and its codec), the answers
in the requester's own thread, and intake's refusals in words."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.cases.changes import CaseChange
from bot.cases.views.confirmations import confirmation
from bot.cases.views.modals import TEXT_MAX, modal_view, open_case_inputs
from bot.cases.views.refusals import describe
from bot.desk import DeskConfig, Team
from bot.ids import BlockId, CallbackId
from bot.intake import refusals as r
from bot.intake.messages import CaseDraft, IncomingMessage
from bot.sla.calendars import ALWAYS
from bot.sla.policies import SlaPolicy
from bot.slack.blocks import Block, SlackMessage, context, message, section, user_text
from bot.text import mention
from bot.timefmt import business_duration, duration
from models import Case, CaseAction, CaseEvent

_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
_TEXT_LIMIT = 2500

# The resolution of a case closed with the team's resolve reaction (details: `/case note`).
REACTION_RESOLUTION = "Resolved from a reaction"


@dataclass(frozen=True)
class MessageForm:
    """What the "Open a case" form remembers of the message it was opened on."""

    channel_id: str
    ts: str

    def encode(self) -> str:
        return json.dumps({"channel": self.channel_id, "ts": self.ts})

    @classmethod
    def decode(cls, raw: str | None) -> MessageForm | None:
        """The message the form is about; None if the metadata is not what we wrote."""
        try:
            data = json.loads(raw or "{}")
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        channel, ts = data.get("channel"), data.get("ts")
        if not (isinstance(channel, str) and isinstance(ts, str)):
            return None
        if not (_ID.fullmatch(channel) and _ID.fullmatch(ts)):
            return None
        return cls(channel, ts)


def open_from_message_modal(
    desk: DeskConfig, team: Team, incoming: IncomingMessage, draft: CaseDraft
) -> dict[str, Any]:
    """The open form, filled in from the message: its author will be the requester."""
    blocks: list[Block] = [
        context([f"From a message by {_author(incoming)} in <#{incoming.channel_id}>"]),
        *open_case_inputs(desk, team, title=draft.title, description=draft.description),
    ]
    if len(draft.description) > TEXT_MAX:
        blocks.append(
            context(
                [
                    f"The form shows the start of the message; the case keeps all of it "
                    f"({len(draft.description):,} characters) unless you change the "
                    "description."
                ]
            )
        )
    return modal_view(
        CallbackId.OPEN_CASE_FROM_MESSAGE_FORM,
        "Open a case",
        "Open",
        blocks,
        MessageForm(incoming.channel_id, incoming.ts).encode(),
    )


def missing_title(values: dict[str, str]) -> dict[str, str]:
    """The form's one required input, told beside it."""
    if values.get(BlockId.TITLE, "").strip():
        return {}
    return {BlockId.TITLE.value: "Please give the case a title."}


def opened_from_message(change: CaseChange, desk: DeskConfig) -> str:
    """What the person who made a message a case is told."""
    case = change.case
    return (
        f"{confirmation(change, desk)} {mention(case.requester_id)} is answered in "
        "the message's thread."
    )


# The requester's thread


def conversation_update(
    case: Case, events: list[CaseEvent], desk: DeskConfig, policy: SlaPolicy | None
) -> SlackMessage | None:
    """What the requester is told, in their own thread, of a change: that the case is open,
    who is on it, that we wait on them, that it is resolved or reopened. None when the
    change is the team's own business (notes, escalations, SLA alerts)."""
    lines = [line for event in events if (line := _told(case, event, desk, policy))]
    if not lines:
        return None
    return message("\n".join(lines), [section(line) for line in lines])


def _told(case: Case, event: CaseEvent, desk: DeskConfig, policy: SlaPolicy | None) -> str | None:
    details = event.details or {}
    match event.action:
        case CaseAction.OPENED:
            return _opened(case, desk, policy)
        case CaseAction.CLAIMED | CaseAction.ASSIGNED:
            return f":raising_hand: {mention(case.assignee_id or event.actor_id)} is on it."
        case CaseAction.PENDING:
            reason = user_text(str(details.get("reason", "")), _TEXT_LIMIT)
            return f":hourglass_flowing_sand: Waiting on you: {reason}\nReply here when you can."
        case CaseAction.CLOSED:
            resolution = user_text(str(details.get("resolution", "")), _TEXT_LIMIT)
            return (
                f":white_check_mark: Resolved: {resolution}\n"
                f"Not solved after all? `/case reopen {case.id} <what is still wrong>`"
            )
        case CaseAction.REOPENED:
            reason = user_text(str(details.get("reason", "")), _TEXT_LIMIT)
            return f":leftwards_arrow_with_hook: Case #{case.id} is reopened: {reason}"
        case CaseAction.TEAM_CHANGED:
            team = desk.teams.get(event.to_value or "")
            name = user_text(team.name, 200) if team else "another team"
            return f":arrow_right: Your case moved to {name}; they will answer here."
    return None


def _opened(case: Case, desk: DeskConfig, policy: SlaPolicy | None) -> str:
    team = user_text(desk.team(case.team_key).name, 200)
    line = f":inbox_tray: Case #{case.id} is open: {team} will answer here."
    promise = case.priority.upper()
    if policy is not None and policy.first_response is not None:
        promise += f" · first response within {_within(policy.first_response, policy)}"
    return f"{line}\n{promise}"


def _within(budget: timedelta, policy: SlaPolicy) -> str:
    if policy.calendar.name == ALWAYS:
        return duration(budget)
    return f"{business_duration(budget)} of business time"


def _author(incoming: IncomingMessage) -> str:
    return mention(incoming.author_id) if incoming.author_id else "an app"


# Refusals


@describe.register
def _(refusal: r.AlreadyACase) -> str:
    link = f" <{refusal.permalink}|Open it>" if refusal.permalink else ""
    return f"This message is already case #{refusal.case_id}.{link}"


@describe.register
def _(refusal: r.FromABot) -> str:
    return (
        "That message was written by a bot or an app, so it is nobody's request: no case "
        "was opened. `/case open <title>` opens one yourself."
    )


@describe.register
def _(refusal: r.NotInChannel) -> str:
    channel = f"<#{refusal.channel_id}>"
    return (
        f"Casedesk is not in {channel}, so it cannot read that message or answer there. "
        f"Invite it first (`/invite @Casedesk` in {channel}), then try again."
    )


@describe.register
def _(refusal: r.MessageGone) -> str:
    return "That message is gone (deleted, or no longer there): no case was opened."


@describe.register
def _(refusal: r.CouldNotRead) -> str:
    return (
        f"Slack did not give Casedesk that message just now ({refusal.error}), so no case "
        "was opened. Please try again in a moment."
    )


@describe.register
def _(refusal: r.NothingToOpen) -> str:
    return "That message has no text or file to open a case from."


@describe.register
def _(refusal: r.OnlyAssigneeResolves) -> str:
    n, emoji = refusal.case_id, f":{refusal.emoji}:"
    close = f"`/case close {n} <resolution>`"
    if refusal.assignee_id is None:
        return (
            f"Nobody has case #{n} yet, so {emoji} does not close it: claim it first, or "
            f"close it with a resolution: {close}."
        )
    return (
        f"Only {mention(refusal.assignee_id)}, who has case #{n}, or a manager of "
        f"{refusal.team_name} can close it with {emoji}. To close it yourself, with a "
        f"resolution: {close}."
    )
