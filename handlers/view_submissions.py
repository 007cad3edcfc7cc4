"""Modal submissions: open a case, escalate, close, reopen; a survey's comment."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.cases.refusals import Outdated
from bot.cases.views.modals import (
    BY_CALLBACK_ID,
    CASE_MODALS,
    ModalContext,
    Submission,
    submitted_values,
)
from bot.cases.views.refusals import describe
from bot.cases.views.replies import notice
from bot.csat import views as csat_views
from bot.ids import BlockId, CallbackId
from bot.intake.views import MessageForm, missing_title
from handlers.acking import Interaction, after_checked_ack
from models import EventSource


def register(app: App) -> None:
    for modal in CASE_MODALS:
        app.view(modal.callback_id.value)(submit_modal)
    app.view(CallbackId.CSAT_COMMENT.value)(submit_rating)
    app.view(CallbackId.OPEN_CASE_FROM_MESSAGE_FORM.value)(submit_from_message)


def missing_rating(view: dict[str, Any]) -> dict[str, str]:
    return csat_views.missing_rating(submitted_values(view))


def missing_input(view: dict[str, Any]) -> dict[str, str]:
    return BY_CALLBACK_ID[view["callback_id"]].missing(submitted_values(view))


@after_checked_ack(missing_rating)
def submit_rating(request: Interaction) -> None:
    view = request.body["view"]
    values = submitted_values(view)
    modal = ModalContext.decode(view.get("private_metadata"))
    who = request.who(request.body["user"]["id"], None, EventSource.MODAL)
    ratings = request.app.ratings
    if modal.case_number is None:
        ratings.tell(who, notice(describe(Outdated("survey form"))))
        return
    rating, comment = int(values[BlockId.RATING]), values.get(BlockId.COMMENT)
    ratings.tell(who, ratings.rate(who, modal.case_number, rating, comment))


@after_checked_ack(missing_input)
def submit_modal(request: Interaction) -> None:
    view = request.body["view"]
    context = ModalContext.decode(view.get("private_metadata"))
    who = request.who(request.body["user"]["id"], context.channel_id, EventSource.MODAL)
    sent = Submission(who, context, submitted_values(view))
    flows = request.app.flows
    flows.tell(who, flows.submit(BY_CALLBACK_ID[view["callback_id"]], sent))


@after_checked_ack(lambda view: missing_title(submitted_values(view)))
def submit_from_message(request: Interaction) -> None:
    view = request.body["view"]
    form = MessageForm.decode(view.get("private_metadata"))
    who = request.who(
        request.body["user"]["id"], form.channel_id if form else None, EventSource.SHORTCUT
    )
    intake = request.app.intake
    if form is None:
        intake.tell(who, notice(describe(Outdated("form"))))
        return
    reply = intake.submit(who, form, submitted_values(view))
    if reply is not None:
        intake.tell(who, reply)
