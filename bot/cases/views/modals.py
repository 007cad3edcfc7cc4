"""Modals: open a case, escalate, close and reopen, each declared once (`CASE_MODALS`): its
callback id, the input it cannot do without, how it is drawn and what submitting it does.
`private_metadata` (`ModalContext`, its codec) carries the case and the channel the modal was
opened from, so the bot can answer there after submission."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.desk import DeskConfig, Team
from bot.ids import BlockId, CallbackId
from bot.slack.blocks import Block, plain, section, user_text
from bot.text import fit
from models import MAX_CASE_NUMBER, Case, CaseAction

if TYPE_CHECKING:
    from bot.cases.flow import CaseFlows
    from bot.requester import Requester
    from bot.slack.blocks import SlackMessage

TITLE_MAX = 150
TEXT_MAX = 3000
_CHANNEL = re.compile(r"[A-Z0-9]{1,32}")  # a Slack channel id, as we encoded it


@dataclass(frozen=True)
class ModalContext:
    """What a modal remembers between opening and submission."""

    channel_id: str | None
    case_number: int | None = None

    def encode(self) -> str:
        return json.dumps({"channel": self.channel_id, "case": self.case_number})

    @classmethod
    def decode(cls, raw: str | None) -> ModalContext:
        try:
            data = json.loads(raw or "{}")
        except json.JSONDecodeError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        case = data.get("case")
        channel = data.get("channel")
        # Slack hands back what we encoded; anything else points at no channel and no case.
        return cls(
            channel_id=channel
            if isinstance(channel, str) and _CHANNEL.fullmatch(channel)
            else None,
            case_number=case if type(case) is int and 0 < case <= MAX_CASE_NUMBER else None,
        )


def open_case_modal(desk: DeskConfig, team: Team, channel_id: str | None) -> dict[str, Any]:
    return _modal(
        CallbackId.OPEN_CASE,
        "Open a case",
        "Open",
        open_case_inputs(desk, team),
        ModalContext(channel_id),
    )


def open_case_inputs(
    desk: DeskConfig, team: Team, *, title: str = "", description: str = ""
) -> list[Block]:
    """The open form's inputs: title, description, priority (the team's default) and team."""
    priorities = [
        _option(key, f"{key.upper()} · {label}") for key, label in desk.priorities.items()
    ]
    teams = [_option(key, team_.name) for key, team_ in desk.teams.items()]
    return [
        _text_input(BlockId.TITLE, "Title", max_length=TITLE_MAX, initial=fit(title, TITLE_MAX)),
        _text_input(
            BlockId.DESCRIPTION,
            "Description",
            multiline=True,
            optional=True,
            initial=fit(description, TEXT_MAX),
        ),
        _select(BlockId.PRIORITY, "Priority", priorities, initial=team.default_priority),
        _select(BlockId.TEAM, "Team", teams, initial=team.key),
    ]


def escalate_modal(
    case: Case, desk: DeskConfig, channel_id: str | None, to_team_key: str | None = None
) -> dict[str, Any]:
    teams = [_option(key, team.name) for key, team in desk.teams.items()]
    chosen = to_team_key if to_team_key in desk.teams else case.team_key
    blocks = [
        _case_summary(case),
        _text_input(BlockId.REASON, "Why does it need escalating?", multiline=True),
        _select(BlockId.TEAM, "Move to team (optional)", teams, initial=chosen),
    ]
    return _modal(
        CallbackId.ESCALATE_CASE,
        f"Escalate #{case.id}",
        "Escalate",
        blocks,
        ModalContext(channel_id, case.id),
    )


def close_modal(
    case: Case, desk: DeskConfig, channel_id: str | None, to_team_key: str | None = None
) -> dict[str, Any]:
    blocks = [_case_summary(case), _text_input(BlockId.RESOLUTION, "Resolution", multiline=True)]
    return _modal(
        CallbackId.CLOSE_CASE,
        f"Close #{case.id}",
        "Close",
        blocks,
        ModalContext(channel_id, case.id),
    )


def reopen_modal(
    case: Case, desk: DeskConfig, channel_id: str | None, to_team_key: str | None = None
) -> dict[str, Any]:
    blocks = [_case_summary(case), _text_input(BlockId.REASON, "Why reopen it?", multiline=True)]
    return _modal(
        CallbackId.REOPEN_CASE,
        f"Reopen #{case.id}",
        "Reopen",
        blocks,
        ModalContext(channel_id, case.id),
    )


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """The inputs of a submitted modal as {block id: value}, whatever the element type."""
    values: dict[str, str] = {}
    state = view.get("state", {}).get("values", {})
    for block_id, elements in state.items() if isinstance(state, dict) else []:
        for element in elements.values() if isinstance(elements, dict) else []:
            if not isinstance(element, dict):
                continue
            selected = element.get("selected_option")
            if isinstance(selected, dict):
                values[block_id] = str(selected.get("value", ""))
            elif element.get("value") is not None:
                values[block_id] = str(element["value"])
    return values


@dataclass(frozen=True)
class Submission:
    """A submitted case modal: who sent it, what it remembered, what was typed."""

    who: Requester
    context: ModalContext
    values: dict[str, str]

    def value(self, block: BlockId) -> str:
        return self.values.get(block, "")


@dataclass(frozen=True)
class CaseModal:
    callback_id: CallbackId
    action: CaseAction  # the change it asks words for
    required: BlockId
    blank: str  # what to say when the required input is blank
    submit: Callable[[CaseFlows, Submission], SlackMessage]
    # The modal of a change to an existing case, checked before it opens.
    build: Callable[[Case, DeskConfig, str | None, str | None], dict[str, Any]] | None = None

    def missing(self, values: dict[str, str]) -> dict[str, str]:
        """Slack shows these errors beside the inputs, and the modal stays open."""
        return {} if values.get(self.required, "").strip() else {self.required.value: self.blank}


def _submit_open(flows: CaseFlows, sent: Submission) -> SlackMessage:
    return flows.open_case(
        sent.who,
        title=sent.value(BlockId.TITLE),
        description=sent.value(BlockId.DESCRIPTION),
        priority=sent.value(BlockId.PRIORITY) or None,
        team_key=sent.value(BlockId.TEAM) or None,
    )


def _submit_escalate(flows: CaseFlows, sent: Submission) -> SlackMessage:
    return flows.escalate(
        sent.who,
        sent.context.case_number or 0,
        reason=sent.value(BlockId.REASON),
        to_team_key=sent.value(BlockId.TEAM) or None,
    )


CASE_MODALS = (
    CaseModal(
        CallbackId.OPEN_CASE,
        CaseAction.OPENED,
        BlockId.TITLE,
        "Please give the case a title.",
        _submit_open,
    ),
    CaseModal(
        CallbackId.ESCALATE_CASE,
        CaseAction.ESCALATED,
        BlockId.REASON,
        "Please say why the case needs escalating.",
        _submit_escalate,
        escalate_modal,
    ),
    CaseModal(
        CallbackId.CLOSE_CASE,
        CaseAction.CLOSED,
        BlockId.RESOLUTION,
        "Please describe the resolution.",
        lambda flows, sent: flows.close(
            sent.who, sent.context.case_number or 0, sent.value(BlockId.RESOLUTION)
        ),
        close_modal,
    ),
    CaseModal(
        CallbackId.REOPEN_CASE,
        CaseAction.REOPENED,
        BlockId.REASON,
        "Please say why the case is reopened.",
        lambda flows, sent: flows.reopen(
            sent.who, sent.context.case_number or 0, sent.value(BlockId.REASON)
        ),
        reopen_modal,
    ),
)
BY_CALLBACK_ID = {modal.callback_id.value: modal for modal in CASE_MODALS}
BY_ACTION = {modal.action: modal for modal in CASE_MODALS}


def _modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], context: ModalContext
) -> dict[str, Any]:
    return modal_view(callback_id, title, submit, blocks, context.encode())


def modal_view(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _case_summary(case: Case) -> Block:
    return section(f"*#{case.id}* {user_text(case.title, 500)}")


def _text_input(
    block_id: str,
    label: str,
    *,
    multiline: bool = False,
    optional: bool = False,
    max_length: int = TEXT_MAX,
    initial: str = "",
) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": block_id,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, 2000),
        "element": element,
    }


def _select(
    block_id: str, label: str, options: list[dict[str, Any]], *, initial: str | None
) -> Block:
    element: dict[str, Any] = {"type": "static_select", "action_id": block_id, "options": options}
    chosen = next((option for option in options if option["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(fit(text, 75), 75), "value": value}
