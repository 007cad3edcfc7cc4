"""App Home, end to end over signed HTTP against the fake Slack API: an agent's cases and the
unassigned ones to claim, a manager's KPIs, and which homes are republished when cases change.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from conftest import AGENT, AGENT_2, BILLING_AGENT, MANAGER, REQUESTER
from csat_stats_home_export_helpers import (
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    header_texts,
    queue_fixture,  # noqa: F401  (the queue fixture)
)
from fake_slack import FakeSlack
from helpers import Json, all_text, click_payload, kpi_field
from slack_driver import SlackDriver

from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk

HOME_CHANNEL = "D0HOME"


# App Home


def open_home(slack: SlackDriver, fake: FakeSlack, user: str) -> Json:
    slack.event({"type": "app_home_opened", "user": user, "channel": HOME_CHANNEL, "tab": "home"})
    return fake.home_views[user]


def list_section(view: Json, title: str) -> list[Json]:
    """The case lines listed under a `*title* (n)` section of the home view."""
    blocks = view["blocks"]
    start = next(
        i
        for i, block in enumerate(blocks)
        if block["type"] == "section" and block["text"]["text"].startswith(f"*{title}*")
    )
    listed = []
    for block in blocks[start + 1 :]:  # the case lines, up to the next list's divider
        if block["type"] != "section":
            break
        listed.append(block)
    return listed


def section_heads(view: Json) -> list[str]:
    return [
        str(b["text"]["text"])
        for b in view["blocks"]
        if b["type"] == "section" and str(b.get("text", {}).get("text", "")).startswith("*")
    ]


def test_opening_app_home_shows_the_agents_cases_and_the_unassigned_ones_to_claim(
    queue: SlackDriver, fake_slack: FakeSlack
) -> None:
    home = open_home(queue, fake_slack, AGENT)

    assert home["type"] == "home"
    assert "*Your open cases* (1)" in section_heads(home)
    assert "*Unassigned in your teams* (1)" in section_heads(home)
    [mine] = list_section(home, "Your open cases")
    assert "*#1* Printer on fire" in mine["text"]["text"]
    assert "accessory" not in mine
    [unassigned] = list_section(home, "Unassigned in your teams")
    assert "*#2* VPN down" in unassigned["text"]["text"]
    claim = unassigned["accessory"]
    assert (claim["action_id"], claim["value"], claim["text"]["text"]) == (
        ActionId.CLAIM,
        "2",
        "Claim",
    )
    assert "Wrong invoice" not in all_text(home)  # billing is not the agent's team
    assert header_texts(home["blocks"]) == ["Casedesk"]  # no manager panel


def test_a_manager_also_sees_the_teams_kpis_for_today(
    queue: SlackDriver, fake_slack: FakeSlack
) -> None:
    home = open_home(queue, fake_slack, MANAGER)

    assert header_texts(home["blocks"]) == ["Casedesk", "Customer Support: today"]
    assert kpi_field(home, "New") == "2 ▲2"
    assert kpi_field(home, "Resolved") == "0"
    load = next(h for h in section_heads(home) if h.startswith("*Who is on*"))
    assert f"• <@{AGENT}>: available · 1 open" in load.splitlines()


def click_in_app_home(
    slack: SlackDriver, casedesk: Casedesk, user: str, home: Json, action_id: str, value: str
) -> None:
    """A click on App Home as Slack sends it: from a view, with neither a channel nor a
    response URL; then wait for the app to finish what it acknowledged."""
    payload = click_payload(
        user,
        "trigger-home",
        container={"type": "view", "view_id": home["id"]},
        view=home,
        actions=[{"type": "button", "action_id": action_id, "block_id": "b1", "value": value}],
    )
    assert slack.post(urlencode({"payload": json.dumps(payload)})).status == 200
    assert casedesk.executor.wait_idle(timeout=60), "the app did not finish its work in time"


def test_claiming_a_case_from_app_home_refreshes_it_and_confirms_by_dm(
    queue: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    home = open_home(queue, fake_slack, AGENT)
    published = len(fake_slack.calls_to("views.publish"))

    click_in_app_home(queue, casedesk, AGENT, home, ActionId.CLAIM, "2")

    assert len(fake_slack.calls_to("views.publish")) == published + 1
    home = fake_slack.home_views[AGENT]
    assert "*Your open cases* (2)" in section_heads(home)
    assert "*Unassigned in your teams* (0)" in section_heads(home)
    assert [m["text"] for m in fake_slack.messages(f"D{AGENT}")] == ["You claimed case #2."]


def test_a_reassignment_refreshes_the_homes_it_shows_in_and_no_other_team(
    queue: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    """The manager hands #1 from the agent to AGENT_2: the agent's home drops it, the new
    assignee's lists it, and billing's agent (another team) is not republished."""
    for user in (AGENT, AGENT_2, MANAGER, BILLING_AGENT):
        open_home(queue, fake_slack, user)
    billing_home = fake_slack.home_views[BILLING_AGENT]
    publishes = len(fake_slack.calls_to("views.publish"))

    queue.command(MANAGER, f"assign 1 <@{AGENT_2}>")

    assert len(fake_slack.calls_to("views.publish")) == publishes + 3
    assert "*Your open cases* (0)" in section_heads(fake_slack.home_views[AGENT])
    assert "*Your open cases* (1)" in section_heads(fake_slack.home_views[AGENT_2])
    assert fake_slack.home_views[BILLING_AGENT] is billing_home


def test_an_internal_note_republishes_no_home(queue: SlackDriver, fake_slack: FakeSlack) -> None:
    for user in (AGENT, MANAGER):
        open_home(queue, fake_slack, user)
    publishes = len(fake_slack.calls_to("views.publish"))

    queue.command(AGENT, "note 1 Called the customer back")

    assert len(fake_slack.calls_to("views.publish")) == publishes


def test_a_new_case_shows_up_unassigned_in_the_teams_open_homes(
    queue: SlackDriver, fake_slack: FakeSlack
) -> None:
    open_home(queue, fake_slack, AGENT)

    queue.command(REQUESTER, "open Keyboard on fire")

    assert "*Unassigned in your teams* (2)" in section_heads(fake_slack.home_views[AGENT])
