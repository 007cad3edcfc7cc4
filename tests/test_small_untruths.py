"""The small untruths a new user hits at once, each put right: a priority that is not one,
raw event names, a hint pointing at the very command just run, "Mine cases", and a survey
that forgets the rating just given."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import AGENT, REQUESTER, SUPPORT_CHANNEL, sla_desk
from csat_stats_home_export_helpers import chosen_rating, closed_and_surveyed, survey_in_dm
from fake_slack import FakeSlack
from helpers import all_text, case_count, open_case, run_sla_check
from slack_driver import SlackDriver

from bot.clock import ManualClock
from bot.desk import DeskConfig
from bot.ids import ActionId, BlockId
from bot.runtime.casedesk import Casedesk
from bot.timefmt import business_duration, duration


@pytest.fixture
def desk_config() -> DeskConfig:
    sla = "sla:\n  teams:\n    support:\n      default: {first_response: 1h, resolution: 8h}\n"
    return sla_desk(sla, source="small untruths desk")


def test_a_priority_that_is_not_one_is_refused_not_read_as_the_title(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    result = slack.command(REQUESTER, "open p0 thing")

    assert "`p0` is not a priority; use p1, p2, p3 or p4." in result.reply_text
    assert case_count(casedesk) == 0


def test_show_tells_sla_alerts_in_words(
    slack: SlackDriver, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_case(slack)
    clock.advance(timedelta(minutes=46))
    run_sla_check(casedesk)  # first response due soon
    clock.advance(timedelta(minutes=15))
    run_sla_check(casedesk)  # first response breached

    shown = slack.command(AGENT, "show 1").reply_text

    assert "target is due soon" in shown
    assert "target was breached" in shown
    assert "sla_warning" not in shown
    assert "sla_breached" not in shown


def test_show_of_a_long_title_does_not_send_you_to_show_again(slack: SlackDriver) -> None:
    title = "Printer " * 30
    slack.command(REQUESTER, f"open {title}")

    shown = slack.command(AGENT, "show 1").reply_text

    assert "/case show 1` has all of it" not in shown
    assert title.strip() in shown


def test_the_list_of_your_cases_is_called_so(slack: SlackDriver) -> None:
    open_case(slack)
    slack.command(AGENT, "claim 1")

    mine = slack.command(AGENT, "list mine")

    assert mine.responses[0]["text"] == "Your open cases: #1"
    assert "Your open cases (1)" in mine.reply_text
    assert "You have no open cases." in slack.command(REQUESTER, "list mine").reply_text


# The survey remembers


def test_the_survey_shows_the_rating_just_given(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    survey = closed_and_surveyed(slack, fake_slack)
    dm = f"D{REQUESTER}"

    slack.click(REQUESTER, f"{ActionId.CSAT_RATE}:4", "1:4", channel=dm, message_ts=survey["ts"])

    shown = survey_in_dm(fake_slack)
    assert shown["ts"] == survey["ts"]
    assert chosen_rating(shown) == ["4"]
    assert "You rated this case 4/5." in all_text(shown)


def test_the_comment_form_opens_with_the_rating_already_given_and_the_survey_follows(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    survey = closed_and_surveyed(slack, fake_slack)
    dm = f"D{REQUESTER}"
    slack.click(REQUESTER, f"{ActionId.CSAT_RATE}:4", "1:4", channel=dm, message_ts=survey["ts"])

    slack.click(REQUESTER, ActionId.CSAT_COMMENT, "1", channel=dm, message_ts=survey["ts"])
    [form] = fake_slack.opened_views()
    [rating] = [b for b in form["blocks"] if b["block_id"] == BlockId.RATING]
    assert rating["element"]["initial_option"]["value"] == "4"

    slack.submit(REQUESTER, form, {BlockId.RATING: "5", BlockId.COMMENT: "Quick"})

    assert chosen_rating(survey_in_dm(fake_slack)) == ["5 · Great"]


def test_the_survey_card_says_nothing_of_a_rating_before_one_is_given(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    survey = closed_and_surveyed(slack, fake_slack)

    assert chosen_rating(survey) == []
    assert "You can change it later." in all_text(survey)
    assert SUPPORT_CHANNEL not in all_text(survey)


def test_business_time_past_a_day_reads_in_hours() -> None:
    assert business_duration(timedelta(hours=40)) == "40 h"
    assert business_duration(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert duration(timedelta(hours=40)) == "1 d 16 h"  # wall-clock time keeps its days


def test_a_survey_update_slack_refuses_is_retried_and_the_rating_still_shows(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    survey = closed_and_surveyed(slack, fake_slack)
    fake_slack.fail_next("chat.update", status=500)

    dm = f"D{REQUESTER}"
    reply = slack.click(REQUESTER, f"{ActionId.CSAT_RATE}:2", "1:2", channel=dm)
    assert "Thank you! You rated case #1 2/5." in reply.reply_text
    for _ in range(3):
        clock.advance(timedelta(minutes=2))
        casedesk.outbox.deliver_due()

    assert chosen_rating(survey_in_dm(fake_slack)) == ["2"]
    assert survey_in_dm(fake_slack)["ts"] == survey["ts"]  # the one survey, updated
