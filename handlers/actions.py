"""Buttons: on the case card, in case threads and in ephemeral lists."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.errors import CasedeskError
from bot.flows import parse_case_number
from bot.ids import ActionId
from bot.requester import Requester
from bot.views.blocks import SlackMessage, action_id_pattern
from bot.views.replies import notice
from handlers.context import casedesk
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


def claim_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    flows = casedesk(context).flows
    number = _case_number(action, body, respond, context)
    if number is not None:
        _answer(body, respond, context, flows.claim(_clicker(body), number))


def modal_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Escalate, Close and Reopen ask for a reason in a modal first."""
    ack()
    flows = casedesk(context).flows
    number = _case_number(action, body, respond, context)
    if number is None:
        return
    case_action = _MODAL_BUTTONS[ActionId(action["action_id"])]
    reply = flows.open_case_modal(_clicker(body), number, case_action, body.get("trigger_id"))
    if reply is not None:
        _answer(body, respond, context, reply)


def list_more_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    try:
        page = json.loads(action.get("value") or "{}")
        view, team, offset = str(page["view"]), page.get("team"), int(page["offset"])
    except (ValueError, KeyError, TypeError):
        _answer(body, respond, context, notice("That list is out of date; run `/case list` again."))
        return
    reply = casedesk(context).flows.list_cases(
        _clicker(body), view=view, team_key=team, offset=offset
    )
    respond(**reply.as_kwargs(), response_type="ephemeral", replace_original=True)


def link_button(ack: Ack) -> None:
    """A URL button: Slack opens the link itself, we only acknowledge the click."""
    ack()


def _clicker(body: dict[str, Any]) -> Requester:
    channel = (body.get("channel") or {}).get("id")
    return Requester(body["user"]["id"], channel, EventSource.BUTTON)


def _case_number(
    action: dict[str, Any], body: dict[str, Any], respond: Respond, context: BoltContext
) -> int | None:
    """The case a button points at; None (and the clicker told) if it points at none."""
    try:
        return parse_case_number(action.get("value"))
    except CasedeskError as error:
        _answer(body, respond, context, notice(error.message))
        return None


def _answer(
    body: dict[str, Any], respond: Respond, context: BoltContext, reply: SlackMessage
) -> None:
    """Answer the clicker only: through the response URL where Slack gave one (messages),
    else in a DM (App Home has no response URL)."""
    if body.get("response_url"):
        respond(**reply.as_kwargs(), response_type="ephemeral", replace_original=False)
    else:
        casedesk(context).flows.tell(_clicker(body), reply)


def csat_rate_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    try:
        number_text, _, rating_text = str(action.get("value") or "").partition(":")
        number, rating = parse_case_number(number_text), int(rating_text)
    except (CasedeskError, ValueError):
        _answer(body, respond, context, notice("That survey is out of date."))
        return
    reply = casedesk(context).flows.rate(_clicker(body), number, rating)
    _answer(body, respond, context, reply)


def csat_comment_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    number = _case_number(action, body, respond, context)
    if number is None:
        return
    reply = casedesk(context).flows.open_rating_modal(number, body.get("trigger_id"))
    if reply is not None:
        _answer(body, respond, context, reply)
