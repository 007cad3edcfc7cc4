"""Modal submissions: open a case, escalate, close, reopen; a survey's comment."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.cases.flow import CaseFlows
from bot.cases.views.modals import ModalContext, submitted_values
from bot.cases.views.replies import notice
from bot.ids import BlockId, CallbackId
from bot.requester import Requester
from bot.slack.blocks import SlackMessage
from handlers.acking import Interaction, after_checked_ack
from models import EventSource

# The input each modal cannot do without, and what to say when it is blank.
_REQUIRED = {
    CallbackId.OPEN_CASE: (BlockId.TITLE, "Please give the case a title."),
    CallbackId.ESCALATE_CASE: (BlockId.REASON, "Please say why the case needs escalating."),
    CallbackId.CLOSE_CASE: (BlockId.RESOLUTION, "Please describe the resolution."),
    CallbackId.REOPEN_CASE: (BlockId.REASON, "Please say why the case is reopened."),
}


def register(app: App) -> None:
    for callback_id in _REQUIRED:
        app.view(callback_id.value)(submit_modal)
    app.view(CallbackId.CSAT_COMMENT.value)(submit_rating)


def missing_rating(view: dict[str, Any]) -> dict[str, str]:
    if not submitted_values(view).get(BlockId.RATING, "").isdecimal():  # not "²"
        return {BlockId.RATING.value: "Please pick a rating."}
    return {}


def missing_input(view: dict[str, Any]) -> dict[str, str]:
    required, problem = _REQUIRED[CallbackId(view["callback_id"])]
    if not submitted_values(view).get(required, "").strip():
        return {required.value: problem}
    return {}


@after_checked_ack(missing_rating)
def submit_rating(request: Interaction) -> None:
    view = request.body["view"]
    values = submitted_values(view)
    modal = ModalContext.decode(view.get("private_metadata"))
    who = request.who(request.body["user"]["id"], None, EventSource.MODAL)
    flows = request.app.flows
    if modal.case_number is None:
        flows.tell(who, notice("That survey no longer points at a case."))
        return
    rating, comment = int(values[BlockId.RATING]), values.get(BlockId.COMMENT)
    flows.tell(who, flows.rate(who, modal.case_number, rating, comment))


@after_checked_ack(missing_input)
def submit_modal(request: Interaction) -> None:
    view = request.body["view"]
    modal = ModalContext.decode(view.get("private_metadata"))
    who = request.who(request.body["user"]["id"], modal.channel_id, EventSource.MODAL)
    flows = request.app.flows
    callback_id = CallbackId(view["callback_id"])
    flows.tell(who, _carry_out(flows, callback_id, who, modal, submitted_values(view)))


def _carry_out(
    flows: CaseFlows,
    callback_id: CallbackId,
    who: Requester,
    modal: ModalContext,
    values: dict[str, str],
) -> SlackMessage:
    if callback_id is CallbackId.OPEN_CASE:
        return flows.open_case(
            who,
            title=values[BlockId.TITLE],
            description=values.get(BlockId.DESCRIPTION, ""),
            priority=values.get(BlockId.PRIORITY) or None,
            team_key=values.get(BlockId.TEAM) or None,
        )
    number = modal.case_number
    if number is None:
        return notice("That form no longer points at a case; please start again.")
    if callback_id is CallbackId.ESCALATE_CASE:
        return flows.escalate(
            who, number, reason=values[BlockId.REASON], to_team_key=values.get(BlockId.TEAM) or None
        )
    if callback_id is CallbackId.CLOSE_CASE:
        return flows.close(who, number, values[BlockId.RESOLUTION])
    return flows.reopen(who, number, values[BlockId.REASON])
