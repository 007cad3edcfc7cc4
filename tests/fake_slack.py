"""The tests' Slack: the same stand-in the sandbox runs (bot/sandbox/slack_api.py), started by
each test on a free port. Its own behaviour is specified in tests/test_fake_slack.py."""

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
    "validate_blocks",
]
