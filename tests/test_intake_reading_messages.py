"""How a Slack message reads as a case: its title and description, what only says thanks,
and who wrote it. (Pure functions of the message: no Slack, no database.)"""

from __future__ import annotations

import pytest

from bot.desk import DEFAULT_PLEASANTRIES
from bot.intake.messages import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    IncomingMessage,
    draft_case,
    is_pleasantry,
)

HELP = "C0HELP"


def message(text: str, **raw: object) -> IncomingMessage:
    return IncomingMessage.from_slack(
        HELP, {"user": "U0ANA", "ts": "1.000100", "text": text, **raw}
    )


def test_the_first_line_is_the_title_and_the_whole_message_the_description() -> None:
    draft = draft_case(message("Checkout fails for EU customers\n\nScreenshot attached."))

    assert draft.title == "Checkout fails for EU customers"
    assert draft.description == "Checkout fails for EU customers\n\nScreenshot attached."
    assert draft.cut_from is None


def test_a_long_first_line_is_cut_to_fit_and_kept_whole_in_the_description() -> None:
    line = "word " * 100
    draft = draft_case(message(line))

    assert len(draft.title) == TITLE_MAX
    assert draft.title.endswith("…")
    assert draft.description == line.strip()


def test_a_message_over_forty_thousand_characters_is_cut_and_says_how_long_it_was() -> None:
    draft = draft_case(message("Logs\n" + "x" * 50_000))

    assert len(draft.description) == DESCRIPTION_MAX
    assert draft.cut_from == 50_005


def test_a_message_with_only_a_file_is_titled_by_the_file() -> None:
    draft = draft_case(message("", files=[{"id": "F1", "name": "error.png", "title": "error.png"}]))

    assert draft.title == "error.png"


def test_slack_markup_reads_as_people_see_it() -> None:
    draft = draft_case(
        message("<@U0BOB|bob> says <https://shop.example/checkout|checkout> &amp; <#C0X|ops> fail")
    )

    assert draft.title == "@bob says checkout & #ops fail"


@pytest.mark.parametrize(
    "text", ["thanks", "Thanks!", "thank you 🙏", "THANK YOU!!", "ok", "+1", ":pray:", "🙏🙏", ""]
)
def test_thanks_ok_and_emoji_are_pleasantries(text: str) -> None:
    assert is_pleasantry(text, list(DEFAULT_PLEASANTRIES))


@pytest.mark.parametrize("text", ["thanks, but it still fails", "ok so checkout is down", "help"])
def test_a_question_is_not_a_pleasantry(text: str) -> None:
    assert not is_pleasantry(text, list(DEFAULT_PLEASANTRIES))


def test_bots_edits_and_joins_are_nobodys_request() -> None:
    assert message("hi").by_a_person
    assert not message("hi", bot_id="B1").by_a_person
    assert not message("hi", subtype="message_changed").by_a_person
    assert not message("joined", subtype="channel_join").by_a_person
    assert message("here", subtype="file_share").by_a_person


def test_a_reply_in_a_thread_is_answered_in_that_thread() -> None:
    reply = message("also broken", thread_ts="0.999")

    assert (reply.thread_ts, reply.conversation_ts) == ("0.999", "0.999")
    assert message("top").conversation_ts == "1.000100"
