"""Messages updated in place stay true while Slack fails: a breach alert or a digest redrawn when
an agent claims its case, and the survey showing the rating just given, each land exactly once
(one `chat.update` carrying the final content, nothing posted again) whether Slack answers 429
with Retry-After, hangs past the timeout or does the update and loses its answer; and an update
retried after a newer one never brings back what the newer one replaced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import AGENT, REQUESTER
from csat_stats_home_export_helpers import chosen_rating, closed_and_surveyed, survey_in_dm
from fake_slack import FakeSlack
from helpers import Json, all_text
from sla_delivery_helpers import (
    ALERTS_CHANNEL,
    accessories,
    alert_storm,
    breached_alert,
    controls,
    digesting_desk_fixture,  # noqa: F401  (the desk_config fixture)
    message_at,
)
from slack_outages_helpers import (
    ANSWER_LOST,
    FAILURES,
    RATE_LIMITED,
    SERVER_ERROR,
    Failure,
    Live,
    assert_nothing_posted_twice,
    assert_shows_the_last_update,
    landed_updates,
    live_fixture,  # noqa: F401  (the live fixture)
    outbox_states,
    recover,
    slack_failing,
)

from bot.csat.flow import SURVEY_UPDATE
from bot.ids import ActionId
from bot.sla.sync import ALERT_UPDATE

DM = f"D{REQUESTER}"


def assert_updated_once(fake: FakeSlack, channel: str, message: Json) -> None:
    """Slack carried out one update of the message, and it is what the message shows now."""
    [update] = landed_updates(fake, channel, message["ts"])
    assert update.params["blocks"] == message["blocks"]


def alerted(live: Live) -> Json:
    return breached_alert(live.slack, live.fake, live.casedesk, live.clock)


def claim_from(live: Live, alert: Json, number: str = "1") -> None:
    live.slack.click(AGENT, ActionId.CLAIM, number, channel=ALERTS_CHANNEL, message_ts=alert["ts"])


def rate(live: Live, survey: Json, rating: int) -> str:
    action = f"{ActionId.CSAT_RATE}:{rating}"
    clicked = live.slack.click(
        REQUESTER, action, f"1:{rating}", channel=DM, message_ts=survey["ts"]
    )
    return clicked.reply_text


def claimed_while_slack_fails(live: Live, failure: Failure, alert: Json, number: str) -> Json:
    """An agent claims case `number` from the alert while Slack fails; the deliver-outbox job
    runs over the next minutes. The alert as it ends, having said who took the case in one
    update, with nothing posted again and every alert update delivered."""
    with slack_failing(live.fake, failure, "chat.update"):
        claim_from(live, alert, number)
    recover(live.casedesk, live.clock)
    updated = message_at(live.fake, ALERTS_CHANNEL, alert["ts"])
    assert f"in progress · <@{AGENT}>" in all_text(updated)
    assert_updated_once(live.fake, ALERTS_CHANNEL, updated)
    assert_nothing_posted_twice(live.fake, ALERTS_CHANNEL)
    assert set(outbox_states(live.casedesk, ALERT_UPDATE)) == {"sent"}  # the thread's breach too
    return updated


@pytest.mark.parametrize("failure", FAILURES, ids=str)
def test_an_alert_claimed_while_slack_fails_is_updated_in_place_once(
    failure: Failure, live: Live
) -> None:
    alert = alerted(live)

    updated = claimed_while_slack_fails(live, failure, alert, "1")

    assert controls(updated) == [ActionId.ESCALATE, ActionId.OPEN_LINK]
    assert live.fake.messages(ALERTS_CHANNEL) == [updated]


@pytest.mark.parametrize("failure", FAILURES, ids=str)
def test_a_digest_whose_case_is_claimed_while_slack_fails_is_updated_in_place_once(
    failure: Failure, live: Live
) -> None:
    alert_storm(live.slack, live.casedesk, live.clock, priority="p2")
    digest = live.fake.messages(ALERTS_CHANNEL)[-1]
    assert accessories(digest).count(ActionId.CLAIM) == 4
    posted = len(live.fake.messages(ALERTS_CHANNEL))

    updated = claimed_while_slack_fails(live, failure, digest, "2")

    assert accessories(updated).count(ActionId.CLAIM) == 3
    assert len(live.fake.messages(ALERTS_CHANNEL)) == posted


@pytest.mark.parametrize("failure", FAILURES, ids=str)
def test_a_survey_rated_while_slack_fails_shows_the_rating_once(
    failure: Failure, live: Live
) -> None:
    survey = closed_and_surveyed(live.slack, live.fake)

    with slack_failing(live.fake, failure, "chat.update"):
        assert "Thank you! You rated case #1 2/5." in rate(live, survey, 2)
    recover(live.casedesk, live.clock)

    shown = survey_in_dm(live.fake)  # the one survey
    assert shown["ts"] == survey["ts"]
    assert chosen_rating(shown) == ["2"]
    assert_updated_once(live.fake, DM, shown)
    assert outbox_states(live.casedesk, SURVEY_UPDATE) == ["sent"]


def test_a_rate_limited_alert_update_waits_out_retry_after_then_lands_once(live: Live) -> None:
    alert = alerted(live)
    with slack_failing(live.fake, RATE_LIMITED, "chat.update"):  # Retry-After: 30
        claim_from(live, alert)

    live.clock.advance(timedelta(seconds=29))
    live.casedesk.outbox.deliver_due()
    assert landed_updates(live.fake, ALERTS_CHANNEL, alert["ts"]) == []  # not tried again yet
    live.clock.advance(timedelta(seconds=2))
    live.casedesk.outbox.deliver_due()

    updated = message_at(live.fake, ALERTS_CHANNEL, alert["ts"])
    assert controls(updated) == [ActionId.ESCALATE, ActionId.OPEN_LINK]
    assert_updated_once(live.fake, ALERTS_CHANNEL, updated)


@pytest.mark.parametrize("failure", [SERVER_ERROR, *FAILURES], ids=str)
def test_rating_again_after_an_update_slack_failed_shows_the_latest_rating(
    failure: Failure, live: Live
) -> None:
    survey = closed_and_surveyed(live.slack, live.fake)
    with slack_failing(live.fake, failure, "chat.update"):
        rate(live, survey, 4)

    rate(live, survey, 2)  # Slack is well again
    recover(live.casedesk, live.clock)  # the first rating's update comes up for its retry

    shown = survey_in_dm(live.fake)
    assert chosen_rating(shown) == ["2"]
    assert_shows_the_last_update(live.fake, DM, shown)
    assert set(outbox_states(live.casedesk, SURVEY_UPDATE)) <= {"sent", "superseded"}


@pytest.mark.parametrize("failure", [SERVER_ERROR, ANSWER_LOST], ids=str)
def test_an_alert_claimed_while_slack_fails_then_closed_ends_showing_it_closed(
    failure: Failure, live: Live
) -> None:
    alert = alerted(live)
    with slack_failing(live.fake, failure, "chat.update"):
        claim_from(live, alert)

    live.slack.command(AGENT, "close 1 Fixed on the phone")
    recover(live.casedesk, live.clock)

    updated = message_at(live.fake, ALERTS_CHANNEL, alert["ts"])
    assert controls(updated) == [ActionId.OPEN_LINK]
    assert "· closed ·" in all_text(updated)
    assert_shows_the_last_update(live.fake, ALERTS_CHANNEL, updated)
