"""Buttons: on the case card, in case threads and in ephemeral lists."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import App

from bot.cases.flow import parse_case_number
from bot.cases.views.replies import notice
from bot.errors import CasedeskError
from bot.ids import ActionId
from bot.requester import Requester
from bot.slack.blocks import SlackMessage, action_id_pattern
from handlers.acking import Interaction, after_ack
from models import CaseAction, EventSource

_MODAL_BUTTONS = {
    ActionId.ESCALATE: CaseAction.ESCALATED,
    ActionId.CLOSE: CaseAction.CLOSED,
    ActionId.REOPEN: CaseAction.REOPENED,
}


def register(app: App) -> None:
    app.action(ActionId.CLAIM.value)(claim_button)
    for action_id in _MODAL_BUTTONS:
        app.action(action_id.value)(modal_button)
    app.action(ActionId.LIST_MORE.value)(list_more_button)
    app.action(ActionId.OPEN_LINK.value)(link_button)
    # One button per rating in one block: `csat_rate:1`..`csat_rate:5` (plain `csat_rate` on
    # surveys posted before); the value carries case and rating either way.
    app.action(action_id_pattern(ActionId.CSAT_RATE))(csat_rate_button)
    app.action(ActionId.CSAT_COMMENT.value)(csat_comment_button)


@after_ack
def claim_button(request: Interaction) -> None:
    number = _case_number(request)
    if number is not None:
        _answer(request, request.app.flows.claim(_clicker(request), number))


@after_ack
def modal_button(request: Interaction) -> None:
    """Escalate, Close and Reopen ask for a reason in a modal first."""
    number = _case_number(request)
    if number is None:
        return
    case_action = _MODAL_BUTTONS[ActionId(_action(request)["action_id"])]
    trigger_id = request.body.get("trigger_id")
    reply = request.app.flows.open_case_modal(_clicker(request), number, case_action, trigger_id)
    if reply is not None:
        _answer(request, reply)


@after_ack
def list_more_button(request: Interaction) -> None:
    try:
        page = json.loads(_action(request).get("value") or "{}")
        view, team, offset = str(page["view"]), page.get("team"), int(page["offset"])
    except (ValueError, KeyError, TypeError):
        _answer(request, notice("That list is out of date; run `/case list` again."))
        return
    reply = request.app.flows.list_cases(_clicker(request), view=view, team_key=team, offset=offset)
    request.reply(reply, replace_original=True)


@after_ack
def link_button(request: Interaction) -> None:
    """A URL button: Slack opens the link itself; there is nothing to do but be done."""


@after_ack
def csat_rate_button(request: Interaction) -> None:
    try:
        number_text, _, rating_text = str(_action(request).get("value") or "").partition(":")
        number, rating = parse_case_number(number_text), int(rating_text)
    except (CasedeskError, ValueError):
        _answer(request, notice("That survey is out of date."))
        return
    _answer(request, request.app.flows.rate(_clicker(request), number, rating))


@after_ack
def csat_comment_button(request: Interaction) -> None:
    number = _case_number(request)
    if number is None:
        return
    reply = request.app.flows.open_rating_modal(number, request.body.get("trigger_id"))
    if reply is not None:
        _answer(request, reply)


def _action(request: Interaction) -> dict[str, Any]:
    """The button clicked (Slack sends one action per block_actions request)."""
    action: dict[str, Any] = request.body["actions"][0]
    return action


def _clicker(request: Interaction) -> Requester:
    channel = (request.body.get("channel") or {}).get("id")
    return request.who(request.body["user"]["id"], channel, EventSource.BUTTON)


def _case_number(request: Interaction) -> int | None:
    """The case a button points at; None (and the clicker told) if it points at none."""
    try:
        return parse_case_number(_action(request).get("value"))
    except CasedeskError as error:
        _answer(request, notice(error.message))
        return None


def _answer(request: Interaction, reply: SlackMessage) -> None:
    """Answer the clicker only: through the response URL where Slack gave one (messages),
    else in a DM (App Home has no response URL)."""
    if request.body.get("response_url"):
        request.reply(reply, replace_original=False)
    else:
        request.app.flows.tell(_clicker(request), reply)
