"""The CSAT survey DM (its rating buttons' codec beside it), the answer to a rating, the
comment modal, and how CSAT refusals read."""

from __future__ import annotations

from typing import Any

from bot.cases.refusals import Outdated
from bot.cases.views.buttons import read_case_value, write_case_value
from bot.cases.views.modals import ModalContext
from bot.cases.views.refusals import describe
from bot.csat.answers import NotTheRequester, RatingOutOfRange
from bot.ids import ActionId, BlockId, CallbackId
from bot.slack.blocks import (
    SlackMessage,
    actions,
    button,
    context,
    distinct_action_id,
    message,
    plain,
    section,
    user_text,
)

STARS = {1: "1 · Poor", 2: "2", 3: "3 · OK", 4: "4", 5: "5 · Great"}


def write_rating_value(case_id: int, rating: int) -> str:
    return f"{case_id}:{rating}"


def read_rating_value(raw: object) -> tuple[int, int]:
    """The case and rating a survey button carries, or Outdated("survey")."""
    number_text, _, rating_text = (raw if isinstance(raw, str) else "").partition(":")
    try:
        return read_case_value(number_text), int(rating_text)
    except (Outdated, ValueError):
        raise Outdated("survey") from None


def survey(case_id: int, title: str, *, chosen: int | None = None) -> SlackMessage:
    """The survey DM; once rated, it shows the rating given (the chosen button marked)."""
    ratings = [
        button(
            label,
            distinct_action_id(ActionId.CSAT_RATE, value),
            write_rating_value(case_id, value),
            style="primary" if value == chosen else None,
        )
        for value, label in STARS.items()
    ]
    note = "Your answer goes to the support team. You can change it later."
    if chosen is not None:
        note = f"You rated this case {chosen}/5. Thank you! You can change it any time."
    return message(
        f"How did we do with case #{case_id}?",
        [
            section(f"*How did we do with case #{case_id}?*\n{user_text(title, 500)}"),
            actions(ratings, block_id=f"csat_{case_id}"),
            actions([button("Add a comment", ActionId.CSAT_COMMENT, write_case_value(case_id))]),
            context([note]),
        ],
    )


def thanks(case_id: int, rating: int, previous: int | None) -> SlackMessage:
    if previous is not None and previous != rating:
        text = f"Updated your rating of case #{case_id} from {previous} to {rating}. Thank you!"
    elif previous is not None:
        text = f"You had already rated case #{case_id} {rating}/5; it stays that way. Thank you!"
    else:
        text = f"Thank you! You rated case #{case_id} {rating}/5."
    return message(text, [section(text)])


def missing_rating(values: dict[str, str]) -> dict[str, str]:
    """The comment form cannot do without a rating (a digit, not "²")."""
    if not values.get(BlockId.RATING, "").isdecimal():
        return {BlockId.RATING.value: "Please pick a rating."}
    return {}


def comment_modal(case_id: int, rating: int | None = None) -> dict[str, Any]:
    """The comment form, the rating already given chosen."""
    options = [{"text": plain(label, 75), "value": str(value)} for value, label in STARS.items()]
    chosen = [option for option in options if option["value"] == str(rating)]
    rating_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": BlockId.RATING,
        "options": options,
    }
    if chosen:
        rating_select["initial_option"] = chosen[0]
    return {
        "type": "modal",
        "callback_id": CallbackId.CSAT_COMMENT,
        "title": plain(f"Rate case #{case_id}", 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "private_metadata": ModalContext(None, case_id).encode(),
        "blocks": [
            {
                "type": "input",
                "block_id": BlockId.RATING,
                "label": plain("Rating", 2000),
                "element": rating_select,
            },
            {
                "type": "input",
                "block_id": BlockId.COMMENT,
                "optional": True,
                "label": plain("Anything we should know?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": BlockId.COMMENT,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }


@describe.register
def _(refusal: RatingOutOfRange) -> str:
    return "Ratings go from 1 to 5."


@describe.register
def _(refusal: NotTheRequester) -> str:
    return f"Only the requester of case #{refusal.case_id} can rate it."
