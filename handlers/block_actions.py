"""Buttons: on the case card, in case threads, alerts, App Home and ephemeral lists."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.cases.views.buttons import (
    BY_ACTION_ID,
    CASE_BUTTONS,
    Press,
    read_assignment,
    read_case_value,
)
from bot.cases.views.refusals import describe
from bot.cases.views.replies import ListPage, notice
from bot.csat.views import read_rating_value
from bot.ids import ActionId
from bot.refusals import Refusal
from bot.requester import Requester
from bot.slack.blocks import SlackMessage, action_id_pattern
from handlers.acking import Interaction, after_ack
from models import EventSource


def register(app: App) -> None:
    for case_button in CASE_BUTTONS:
        app.action(case_button.action_id.value)(case_button_pressed)
    app.action(ActionId.ASSIGN.value)(assign_picked)
    app.action(ActionId.LIST_MORE.value)(list_more_button)
    app.action(ActionId.OPEN_LINK.value)(link_button)
    # One button per rating in one block: `csat_rate:1`..`csat_rate:5` (plain `csat_rate` on
    # surveys posted before); the value carries case and rating either way.
    app.action(action_id_pattern(ActionId.CSAT_RATE))(csat_rate_button)
    app.action(ActionId.CSAT_COMMENT.value)(csat_comment_button)


@after_ack
def case_button_pressed(request: Interaction) -> None:
    """Claim, Escalate, Close, Reopen...: what the button is declared to do."""
    number = _case_number(request)
    if number is None:
        return
    case_button = BY_ACTION_ID[_action(request)["action_id"]]
    press = Press(_clicker(request), number, request.body.get("trigger_id"))
    reply = case_button.press(request.app.flows, press)
    if reply is not None:
        _answer(request, reply)


@after_ack
def assign_picked(request: Interaction) -> None:
    """Someone picked a person in a card's "Assign to…"."""
    try:
        number, assignee = read_assignment(_action(request))
    except Refusal as refusal:
        _answer(request, notice(describe(refusal)))
        return
    _answer(request, request.app.flows.assign(_clicker(request), number, assignee))


@after_ack
def list_more_button(request: Interaction) -> None:
    try:
        page = ListPage.read(_action(request).get("value"))
    except Refusal as refusal:
        _answer(request, notice(describe(refusal)))
        return
    flows, who = request.app.flows, _clicker(request)
    reply = flows.list_cases(who, view=page.view, team_key=page.team, offset=page.offset)
    request.reply(reply, replace_original=True)


@after_ack
def link_button(request: Interaction) -> None:
    """A URL button: Slack opens the link itself; there is nothing to do but be done."""


@after_ack
def csat_rate_button(request: Interaction) -> None:
    try:
        number, rating = read_rating_value(_action(request).get("value"))
    except Refusal as refusal:
        _answer(request, notice(describe(refusal)))
        return
    _answer(request, request.app.ratings.rate(_clicker(request), number, rating))


@after_ack
def csat_comment_button(request: Interaction) -> None:
    number = _case_number(request)
    if number is None:
        return
    reply = request.app.ratings.comment_form(number, request.body.get("trigger_id"))
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
        return read_case_value(_action(request).get("value"))
    except Refusal as refusal:
        _answer(request, notice(describe(refusal)))
        return None


def _answer(request: Interaction, reply: SlackMessage) -> None:
    """Answer the clicker only: through the response URL where Slack gave one (messages),
    else in a DM (App Home has no response URL)."""
    if request.body.get("response_url"):
        request.reply(reply, replace_original=False)
    else:
        request.app.flows.tell(_clicker(request), reply)
