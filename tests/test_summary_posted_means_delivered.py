"""A summary is posted once it is in Slack, not once it is queued: `run-job daily-summary` (its
`post_on_demand`) says a summary Slack has not taken is queued and not delivered yet, and
that run is not a success; asked again, it is still not "already posted" until Slack took it.
The scheduler's job never queues a second one meanwhile; one Slack refused for good is only
posted again on demand; forced again while it is still queued, it still reaches Slack once."""

from __future__ import annotations

import pytest
from conftest import SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import MINUTE, run_job
from slack_outages_helpers import FAILURES, SERVER_ERROR, Failure, recover, slack_failing
from sqlalchemy import func, select
from summaries_helpers import (
    MONDAY_LABEL,
    TUESDAY_0901_UTC,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    summaries,
)

from bot.clock import ManualClock
from bot.runtime.casedesk import Casedesk
from models import OutboxMessage

SUMMARY = f"The daily summary of Customer Support for {MONDAY_LABEL}"


def post_mondays_summary(casedesk: Casedesk, *, force: bool = False) -> tuple[str, bool]:
    """What `python -m bot run-job daily-summary --team support [--force]` says, and whether
    it succeeds, on Tuesday."""
    support = casedesk.desk.team("support")
    period = casedesk.summaries.due_period(support, "daily")
    return casedesk.summaries.post_on_demand(
        [(support, period)], force=force, deliver=casedesk.outbox.deliver_due
    )


def summary_rows(casedesk: Casedesk) -> int:
    """How many summary posts were queued for support (billing's are the scheduler's)."""
    with casedesk.db.read_only() as session:
        queued = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == "summary_daily", OutboxMessage.channel_id == SUPPORT_CHANNEL
        )
        return int(session.scalar(queued) or 0)


def test_a_summary_slack_has_not_taken_is_queued_not_posted_until_it_is(
    casedesk: Casedesk, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    clock.set(TUESDAY_0901_UTC)
    fake_slack.fail_next("chat.postMessage", status=503, times=10)

    first = post_mondays_summary(casedesk)
    run_job(casedesk, "daily-summary")  # the scheduler's pass in between queues nothing more
    clock.advance(MINUTE)
    second = post_mondays_summary(casedesk)  # tried again: Slack fails once more
    fake_slack.clear_faults()
    clock.advance(MINUTE)
    third = post_mondays_summary(casedesk)
    fourth = post_mondays_summary(casedesk)

    not_delivered = (
        f"{SUMMARY} is queued, not delivered yet (chat.postMessage: internal_error). "
        "(queued, not delivered yet: 1 to retry)",
        False,
    )
    assert first == not_delivered
    assert second == not_delivered
    assert third == (
        f"Posted the daily summary of Customer Support for {MONDAY_LABEL}. "
        "(2 message(s) sent, 0 to retry, 0 failed)",  # and billing's, the scheduler's
        True,
    )
    assert fourth == (
        f"{SUMMARY} was already posted; use --force to post it again. "
        "(0 message(s) sent, 0 to retry, 0 failed)",
        True,
    )
    assert len(summaries(fake_slack, SUPPORT_CHANNEL)) == 1
    assert summary_rows(casedesk) == 1


def test_a_summary_slack_refused_for_good_is_posted_again_only_on_demand(
    casedesk: Casedesk, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    clock.set(TUESDAY_0901_UTC)
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")

    refused = post_mondays_summary(casedesk)
    clock.advance(10 * MINUTE)
    run_job(casedesk, "daily-summary")  # the scheduler does not try it again by itself
    rows_before_asked = summary_rows(casedesk)
    again = post_mondays_summary(casedesk)  # the bot was invited meanwhile

    assert refused == (
        f"{SUMMARY} could not be delivered (chat.postMessage: not_in_channel). "
        "(0 message(s) sent, 0 to retry, 1 failed)",
        False,
    )
    assert rows_before_asked == 1
    assert again == (
        f"Posted the daily summary of Customer Support for {MONDAY_LABEL}. "
        "(1 message(s) sent, 0 to retry, 0 failed)",
        True,
    )
    assert len(summaries(fake_slack, SUPPORT_CHANNEL)) == 1


@pytest.mark.parametrize("failure", [SERVER_ERROR, *FAILURES], ids=str)
def test_forcing_a_summary_still_queued_posts_it_once_not_twice(
    failure: Failure, casedesk: Casedesk, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    clock.set(TUESDAY_0901_UTC)
    with slack_failing(fake_slack, failure, "chat.postMessage"):
        first = post_mondays_summary(casedesk)

    forced = post_mondays_summary(casedesk, force=True)  # Slack is well again
    recover(casedesk, clock)  # the deliver-outbox job, over the next minutes

    assert first[1] is False
    assert forced[0].startswith(f"Posted the daily summary of Customer Support for {MONDAY_LABEL}.")
    assert forced[1] is True
    assert len(summaries(fake_slack, SUPPORT_CHANNEL)) == 1
    assert summary_rows(casedesk) == 1
