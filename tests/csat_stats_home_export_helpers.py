"""What the modules about the survey, `/case stats`, App Home and `python -m bot export` share:
their desk, where support asks right away, billing never asks (`csat: {enabled: false}`) and
sales asks after half an hour (`csat: {delay: 30m}`), and reading what people see (the
survey in the requester's DM among it)."""

from __future__ import annotations

import pytest
import yaml
from conftest import AGENT, DESK_YAML, REQUESTER, START
from fake_slack import FakeSlack
from helpers import MINUTE, Json
from slack_driver import HttpResult, SlackDriver

from bot.clock import ManualClock
from bot.desk import DeskConfig, parse_desk_config

SALES_AGENT = "U0SALES1"
SALES_CHANNEL = "C0SALES"


def desk_yaml() -> str:
    """The shared test desk, with billing's survey turned off and a sales team that waits."""
    data = yaml.safe_load(DESK_YAML)
    data["teams"]["billing"]["csat"] = {"enabled": False}
    data["teams"]["sales"] = {
        "name": "Sales",
        "channel": SALES_CHANNEL,
        "agents": [SALES_AGENT],
        "csat": {"delay": "30m"},
    }
    return yaml.safe_dump(data, sort_keys=False)


@pytest.fixture(name="desk_config")
def desk_config_fixture() -> DeskConfig:
    return parse_desk_config(desk_yaml(), source="csat test desk")


# Helpers: what people see


def the_reply(result: HttpResult) -> Json:
    """The one answer sent to the person who acted, through the response URL."""
    assert result.status == 200, result.body
    [reply] = result.responses
    return reply


# /case stats


def header_texts(blocks: list[Json]) -> list[str]:
    return [str(b["text"]["text"]) for b in blocks if b["type"] == "header"]


# App Home


@pytest.fixture(name="queue")
def queue_fixture(slack: SlackDriver, clock: ManualClock) -> SlackDriver:
    """Support: #1 claimed by the agent, #2 unassigned. Billing: #3 unassigned."""
    clock.set(START)
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(REQUESTER, "open VPN down")
    slack.command(REQUESTER, "open team:billing Wrong invoice")
    slack.command(AGENT, "claim 1")
    clock.advance(10 * MINUTE)
    return slack


# The survey


def survey_in_dm(fake: FakeSlack) -> Json:
    [survey] = [m for m in fake.messages(f"D{REQUESTER}") if m["text"].startswith("How did we do")]
    return survey


def closed_and_surveyed(slack: SlackDriver, fake: FakeSlack) -> Json:
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(AGENT, "close 1 Replaced the toner")
    return survey_in_dm(fake)


def chosen_rating(survey: Json) -> list[str]:
    return [
        element["text"]["text"]
        for block in survey["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("style") == "primary"
    ]
