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
from handlers.acking import Interaction, after_checked_ack
from models import EventSource


def register(app: App) -> None:
    for modal in CASE_MODALS:
        app.view(modal.callback_id.value)(submit_modal)
    app.view(CallbackId.CSAT_COMMENT.value)(submit_rating)


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
