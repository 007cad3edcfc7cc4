"""The tests' Slack: the same stand-in the sandbox runs (bot/sandbox/slack_api.py), started by
each test on a free port. Its own behaviour is specified in tests/test_fake_slack.py and
tests/test_fake_slack_conversations.py, which take the bare stand-in (`fake`) and a Web API
client of it (`client`) from here."""

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.sandbox.blockkit import validate_blocks
from bot.sandbox.slack_api import SlackStandIn as FakeSlack
from bot.sandbox.slack_state import BOT_ID, BOT_USER_ID, RESPONSE_URL, ApiCall, SlackError

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "RESPONSE_URL",
    "ApiCall",
    "FakeSlack",
    "SlackError",
    "bare_stand_in",
    "validate_blocks",
    "web_client",
]


@pytest.fixture(name="fake")
def bare_stand_in() -> Iterator[FakeSlack]:
    """The stand-in as it starts: no users, channels or faults beyond its own."""
    with FakeSlack() as running:
        yield running


@pytest.fixture(name="client")
def web_client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url, timeout=5)
