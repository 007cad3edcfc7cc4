"""What the modules about SLA alerts from decision to Slack share: their desk and its alert
texts, acting on cases, and reading the alerts posted.

Cases are opened at START, Monday 10:00 in Berlin. Under the default policy (office hours, first
response 1 h, resolution 8 h, warnings at 75 %) the first response warning falls at START + 45
min and the breach at START + 1 h; P1 counts 24x7 (15 min and 2 h)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import BOT_TOKEN, REQUESTER, SUPPORT_CHANNEL, sla_desk
from fake_slack import FakeSlack
from helpers import Json, case_row, run_sla_check
from helpers import open_case as open_in_slack
from slack_driver import SlackDriver
from slack_sdk import WebClient

from bot.clock import ManualClock
from bot.desk import DeskConfig
from bot.requester import Requester
from bot.runtime.casedesk import Casedesk
from bot.slack.gateway import make_web_client
from models import EventSource

ALERTS_CHANNEL = "C0ALERTS"  # the support team's alert_channel in DESK_YAML


SLA_YAML = """
sla:
  check_every: 2m
  digest_threshold: 10
  teams:
    support:
      default: {first_response: 1h, resolution: 8h, calendar: office}
      p1: {first_response: 15m, resolution: 2h, calendar: 24x7}
"""

FIRST_RESPONSE_WARNING = "Case #1: first response due soon"
FIRST_RESPONSE_BREACH = "SLA breached: first response for case #1"


RESOLUTION_BREACH = "SLA breached: resolution for case #1"


@pytest.fixture(name="desk_config")
def desk_config_fixture() -> DeskConfig:
    return sla_desk(SLA_YAML, source="sla delivery test desk")


# The desk of the modules about alerts seen in Slack: four alerts for one channel make a
# digest, and a P1 is escalated by the desk when it breaches.
DIGESTING_SLA_YAML = """
sla:
  digest_threshold: 3
  teams:
    support:
      default: {first_response: 1h, resolution: 8h, calendar: office}
      p1: {first_response: 15m, resolution: 2h, calendar: 24x7, on_breach: escalate}
"""


@pytest.fixture(name="desk_config")
def digesting_desk_fixture() -> DeskConfig:
    return sla_desk(DIGESTING_SLA_YAML, source="digesting sla test desk")


# Helpers: acting on cases, running the job, reading what happened


def act(casedesk: Casedesk, user: str, text: str) -> str:
    """Run a `/case` command the way the command handler does (without the HTTP round trip)."""
    who = Requester(user, SUPPORT_CHANNEL, EventSource.COMMAND)
    reply = casedesk.flows.run_command_text(text, who, trigger_id=None)
    assert reply is not None
    return reply.text


def open_case(casedesk: Casedesk, title: str = "Printer on fire", priority: str = "") -> int:
    reply = act(casedesk, REQUESTER, f"open {priority} {title}")
    match = re.match(r"Opened case #(\d+)", reply)
    assert match, reply
    return int(match.group(1))


def texts(fake: FakeSlack, channel: str) -> list[str]:
    return [message["text"] for message in fake.messages(channel)]


def card_ts(casedesk: Casedesk, number: int = 1) -> str:
    case = case_row(casedesk, number)
    assert case.card_ts is not None
    return case.card_ts


def thread_alerts(fake: FakeSlack, casedesk: Casedesk, number: int = 1) -> list[str]:
    """The SLA warnings and breaches in the case's thread (not its other updates)."""
    thread = fake.thread(SUPPORT_CHANNEL, card_ts(casedesk, number))
    return [m["text"] for m in thread if re.search(r"due soon$|^SLA breached:", m["text"])]


def slack_client(fake: FakeSlack) -> WebClient:
    """A Web API client that does not retry inside the call, so a 429 or 5xx reaches the outbox
    at once (the app's client would first sleep through Retry-After in-process)."""
    return make_web_client(BOT_TOKEN, base_url=fake.base_url, timeout=3, max_retries=0)


def plain_dates(text: str) -> str:
    """Slack date tokens replaced by their UTC fallback text."""
    return re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", text)


# Reading an alert or digest as Slack shows it


def controls(message: Json) -> list[str]:
    """The action ids of a message's buttons and pickers, block by block."""
    return [
        element["action_id"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def accessories(message: Json) -> list[str | None]:
    return [
        (block.get("accessory") or {}).get("action_id")
        for block in message["blocks"]
        if block["type"] == "section"
    ]


def message_at(fake: FakeSlack, channel: str, ts: str) -> Json:
    [found] = [message for message in fake.messages(channel) if message["ts"] == ts]
    return found


def checked_after(slack: SlackDriver, casedesk: Casedesk, clock: ManualClock, minutes: int) -> str:
    """Case #1 opened in Slack and, `minutes` later, an sla-check pass: its card's ts (46
    minutes: its first response is due soon; 61: breached)."""
    card = open_in_slack(slack)
    clock.advance(timedelta(minutes=minutes))
    run_sla_check(casedesk)
    return card


def breached_alert(
    slack: SlackDriver, fake: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> Json:
    """Case #1 opened in Slack and, an hour later, breached: its alert in the alert channel."""
    checked_after(slack, casedesk, clock, 61)
    return fake.messages(ALERTS_CHANNEL)[-1]


def alert_storm(
    slack: SlackDriver,
    casedesk: Casedesk,
    clock: ManualClock,
    *,
    cases: int = 4,
    priority: str = "",
    after: timedelta = timedelta(hours=2),
) -> str:
    """`cases` cases opened in Slack (of `priority`, else the default), all past their first
    response due time `after` later, when an sla-check pass runs: what it says."""
    for number in range(cases):
        slack.command(REQUESTER, " ".join(filter(None, ["open", priority, f"Broken {number}"])))
    clock.advance(after)
    return run_sla_check(casedesk)
