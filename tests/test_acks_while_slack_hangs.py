"""Slack waits 3 seconds for an answer to a slash command, then shows the user an error (and
the user tries again). The bot's answer must never wait behind its own work: even when every
Slack call it makes hangs, each command is acknowledged at once, and the work still gets done
once Slack answers again."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import REQUESTER, SUPPORT_CHANNEL
from fake_slack import RESPONSE_URL, FakeSlack
from helpers import Json
from slack_driver import SlackDriver

from bot.runtime.casedesk import Casedesk
from bot.sandbox.signed import HttpResult

BURST = 200
# Every way the bot reaches Slack while carrying out a command: Web API calls and the
# response URL that carries the user's private answer.
SLACK_CALLS = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "chat.getPermalink",
    "views.open",
    "views.publish",
    "users.info",
    "usergroups.users.list",
    "conversations.open",
    RESPONSE_URL,
)
HANG_SECONDS = 20.0


def send_command(slack: SlackDriver, text: str) -> tuple[HttpResult, float]:
    """One `/case` command as Slack sends it, without waiting for the bot's work; returns the
    HTTP answer and how long it took."""
    key = slack.requests.next_id("cmd")
    started = time.monotonic()
    result = slack.requests.slash_command(
        user=REQUESTER,
        channel=SUPPORT_CHANNEL,
        text=text,
        response_url=slack.fake.response_url(key),
        trigger_id=f"trigger-{key}",
    )
    return result, time.monotonic() - started


def hang_slack(fake: FakeSlack) -> None:
    for method in SLACK_CALLS:
        fake.delay_next(method, HANG_SECONDS, times=100 * BURST)


def idle_ack_seconds(slack: SlackDriver) -> float:
    """How long an ack takes on an idle bot (the median of a few `/case help`)."""
    timings = []
    for _ in range(5):
        result, seconds = send_command(slack, "help")
        assert result.status == 200
        assert slack.executor.wait_idle(timeout=30)
        timings.append(seconds)
    return statistics.median(timings)


def opened_replies(fake: FakeSlack) -> list[Json]:
    return [r for r in fake.responses if str(r.get("text", "")).startswith("Opened case #")]


def test_while_every_slack_call_hangs_each_of_200_commands_is_acked_within_three_seconds(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    idle = idle_ack_seconds(slack)
    fake_slack.clear()
    hang_slack(fake_slack)
    try:
        with ThreadPoolExecutor(max_workers=50) as senders:
            burst = list(
                senders.map(lambda n: send_command(slack, f"open Printer {n}"), range(BURST))
            )
        after, after_seconds = send_command(slack, "open Printer after the burst")
        reached_slack = len(fake_slack.calls_to("usergroups.users.list"))
        answered_while_hanging = len(fake_slack.responses)
    finally:
        fake_slack.release_delays()

    assert [result.status for result, _ in burst] == [200] * BURST
    timings = sorted(seconds for _, seconds in burst)
    assert timings[-1] < 3, timings[-10:]
    assert timings[int(0.99 * BURST) - 1] < 1, timings[-10:]
    assert after.status == 200
    assert after_seconds < max(5 * idle, 0.5), (after_seconds, idle)
    assert reached_slack > 0, "the work did not reach Slack while it hung"
    assert answered_while_hanging == 0  # the acks did not wait for any of the work
    # Once Slack answers again, every command acknowledged is carried out.
    assert slack.executor.wait_idle(timeout=60), "the work did not finish after Slack recovered"
    assert len(opened_replies(fake_slack)) == BURST + 1
