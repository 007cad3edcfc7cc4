"""The requester's survey after close, `/case stats`, App Home and `python -m bot export`, end
to end: the real app over signed HTTP, the fake Slack API, and the command line as a process.

Support asks right away, billing never asks (`csat: {enabled: false}`) and sales asks after
half an hour (`csat: {delay: 30m}`)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from conftest import (
    AGENT,
    AGENT_2,
    BILLING_AGENT,
    DESK_YAML,
    MANAGER,
    OUTSIDER,
    REQUESTER,
    START,
    SUPPORT_CHANNEL,
)
from fake_slack import FakeSlack
from helpers import REPO, Json, all_text, button_elements, kpi_field, run_cli, run_job
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.db import Database
from bot.desk import DeskConfig, parse_desk_config
from bot.ids import ActionId, BlockId, CallbackId
from bot.metrics.export import FIELDS
from bot.runtime.assembly import Casedesk
from models import Case, CaseAction, CaseEvent, CsatResponse

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SALES_AGENT = "U0SALES1"
SALES_CHANNEL = "C0SALES"
HOME_CHANNEL = "D0HOME"
STARS = ["1 · Poor", "2", "3 · OK", "4", "5 · Great"]


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


@pytest.fixture
def desk_config() -> DeskConfig:
    return parse_desk_config(desk_yaml(), source="csat test desk")


# Helpers: what people see


def the_reply(result: HttpResult) -> Json:
    """The one answer sent to the person who acted, through the response URL."""
    assert result.status == 200, result.body
    [reply] = result.responses
    return reply


def surveys(fake: FakeSlack, user: str = REQUESTER) -> list[Json]:
    """Survey DMs, in the DM conversation the app opens with the user."""
    return [m for m in fake.messages(f"D{user}") if m["text"].startswith("How did we do")]


def answers(casedesk: Casedesk) -> list[tuple[int, str, int, str | None]]:
    with casedesk.db.read_only() as session:
        rows = session.execute(
            select(
                CsatResponse.case_id,
                CsatResponse.requester_id,
                CsatResponse.rating,
                CsatResponse.comment,
            ).order_by(CsatResponse.id)
        ).all()
    return [(int(a), str(b), int(c), d) for a, b, c, d in rows]


def events(casedesk: Casedesk, action: CaseAction) -> list[CaseEvent]:
    with casedesk.db.read_only() as session:
        return list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.action == action).order_by(CaseEvent.id)
            )
        )


def open_and_close(slack: SlackDriver, *, team: str = "support", closer: str = AGENT) -> None:
    """The requester opens case #1 in `team`; an agent of that team closes it."""
    slack.command(REQUESTER, f"open team:{team} Printer on fire")
    slack.command(closer, "close 1 Replaced the toner")


def open_comment_form(slack: SlackDriver, fake: FakeSlack) -> Json:
    """The requester clicks the survey's button for a comment: the one form it opens."""
    slack.click(REQUESTER, ActionId.CSAT_COMMENT, "1", channel=f"D{REQUESTER}")
    [form] = fake.opened_views()
    return form


def rate(slack: SlackDriver, rating: int, *, user: str = REQUESTER, case: int = 1) -> HttpResult:
    return slack.click(user, ActionId.CSAT_RATE, f"{case}:{rating}", channel=f"D{user}")


# The survey


def test_closing_a_case_asks_the_requester_how_we_did_with_five_ratings(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)

    [survey] = surveys(fake_slack)
    assert survey["text"] == "How did we do with case #1?"
    assert "Printer on fire" in all_text(survey)
    survey_buttons = button_elements(survey)
    rating_buttons = [b for b in survey_buttons if b["action_id"].startswith(ActionId.CSAT_RATE)]
    assert [b["text"]["text"] for b in rating_buttons] == STARS
    assert [b["value"] for b in rating_buttons] == [f"1:{n}" for n in range(1, 6)]
    assert [b["value"] for b in survey_buttons if b["action_id"] == ActionId.CSAT_COMMENT] == ["1"]
    [asked] = events(casedesk, CaseAction.CSAT_REQUESTED)
    assert (asked.case_id, asked.actor_id) == (1, "scheduler")


def test_a_rating_is_recorded_and_thanked(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)

    reply = the_reply(rate(slack, 4))

    assert reply["text"] == "Thank you! You rated case #1 4/5."
    assert reply["response_type"] == "ephemeral"
    assert answers(casedesk) == [(1, REQUESTER, 4, None)]
    [rated] = events(casedesk, CaseAction.CSAT_RATED)
    assert (rated.actor_id, rated.details) == (REQUESTER, {"rating": 4})


def test_rating_again_updates_the_one_answer(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_and_close(slack)
    rate(slack, 4)
    clock.advance(5 * MINUTE)

    reply = the_reply(rate(slack, 2))

    assert reply["text"] == "Updated your rating of case #1 from 4 to 2. Thank you!"
    assert answers(casedesk) == [(1, REQUESTER, 2, None)]
    assert [e.details for e in events(casedesk, CaseAction.CSAT_RATED)] == [
        {"rating": 4},
        {"rating": 2, "previous": 4},
    ]


def test_only_the_requester_can_rate(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)

    reply = the_reply(rate(slack, 5, user=OUTSIDER))

    assert reply["text"] == "Only the requester of case #1 can rate it."
    assert answers(casedesk) == []
    assert events(casedesk, CaseAction.CSAT_RATED) == []


def test_a_rating_with_a_comment_is_given_in_the_comment_form(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)
    form = open_comment_form(slack, fake_slack)
    assert form["callback_id"] == CallbackId.CSAT_COMMENT
    assert form["title"]["text"] == "Rate case #1"

    submitted = slack.submit(
        REQUESTER, form, {BlockId.RATING: "3", BlockId.COMMENT: "Quick, but I had to ask twice"}
    )

    assert submitted.status == 200
    assert answers(casedesk) == [(1, REQUESTER, 3, "Quick, but I had to ask twice")]
    thanked = [m["text"] for m in fake_slack.messages(f"D{REQUESTER}")]
    assert thanked[-1:] == ["Thank you! You rated case #1 3/5."]
    assert "Thank you! You rated case #1 3/5." not in thanked[:-1]


def test_the_comment_form_needs_a_rating(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)
    form = open_comment_form(slack, fake_slack)

    submitted = slack.submit(REQUESTER, form, {BlockId.COMMENT: "No stars from me"})

    assert submitted.json() == {
        "response_action": "errors",
        "errors": {BlockId.RATING: "Please pick a rating."},
    }
    assert answers(casedesk) == []


def test_a_requester_closing_their_own_case_is_not_asked(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(AGENT, "open My own laptop")
    slack.command(AGENT, "close 1 Rebooted it")

    assert surveys(fake_slack, AGENT) == []
    assert events(casedesk, CaseAction.CSAT_REQUESTED) == []


def test_a_team_with_the_survey_turned_off_does_not_ask(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack, team="billing", closer=BILLING_AGENT)

    assert surveys(fake_slack) == []
    assert events(casedesk, CaseAction.CSAT_REQUESTED) == []


def test_a_survey_with_a_delay_waits_in_the_outbox_until_it_is_due(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_and_close(slack, team="sales", closer=SALES_AGENT)
    [asked] = events(casedesk, CaseAction.CSAT_REQUESTED)
    assert asked.details == {"delay_minutes": 30}
    assert surveys(fake_slack) == []

    clock.advance(29 * MINUTE)
    run_job(casedesk, "deliver-outbox")
    assert surveys(fake_slack) == []

    clock.advance(MINUTE)
    run_job(casedesk, "deliver-outbox")
    assert [m["text"] for m in surveys(fake_slack)] == ["How did we do with case #1?"]
    run_job(casedesk, "deliver-outbox")
    assert len(surveys(fake_slack)) == 1


# /case stats


def shown(reply: Json) -> str:
    """What a one-line answer shows: its section's mrkdwn (the fallback drops the markup)."""
    [block] = reply["blocks"]
    return str(block["text"]["text"])


def header_texts(blocks: list[Json]) -> list[str]:
    return [str(b["text"]["text"]) for b in blocks if b["type"] == "header"]


@pytest.fixture
def stats_history(slack: SlackDriver, clock: ManualClock) -> SlackDriver:
    """Billing: a case ten days ago and one two days ago. Support, today: two cases, one
    claimed and closed after half an hour."""
    clock.set(START - 10 * DAY)
    slack.command(REQUESTER, "open team:billing Old invoice")
    clock.set(START - 2 * DAY)
    slack.command(REQUESTER, "open team:billing Wrong invoice")
    clock.set(START)
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(REQUESTER, "open VPN down")
    slack.command(AGENT, "claim 3")
    clock.advance(30 * MINUTE)
    slack.command(AGENT, "close 3 Replaced the toner")
    clock.advance(MINUTE)
    return slack


def test_stats_answers_privately_with_todays_kpis_of_the_channels_team(
    stats_history: SlackDriver,
) -> None:
    reply = the_reply(stats_history.command(AGENT, "stats"))

    assert reply["response_type"] == "ephemeral"
    assert header_texts(reply["blocks"]) == ["Customer Support: today so far"]
    assert kpi_field(reply, "New") == "2 ▲2"
    assert kpi_field(reply, "Resolved") == "1 ▲1"
    assert kpi_field(reply, "Resolution time") == "median 30 min · p90 30 min"
    assert kpi_field(reply, "First-contact resolution") == "100% (1/1)"


def test_stats_also_show_the_backlog_and_the_work_of_each_agent(
    stats_history: SlackDriver,
) -> None:
    reply = the_reply(stats_history.command(AGENT, "stats"))

    sections = [
        b["text"]["text"] for b in reply["blocks"] if "text" in b and b["type"] == "section"
    ]
    assert "*Backlog at end of period:* 1 ▲1\nby status: open 1\nby priority: P3 1" in sections
    agents = next(text for text in sections if text.startswith("*Per agent*"))
    assert agents.splitlines()[1].startswith(f"• <@{AGENT}>: handled 1 · resolved 1 · ")
    assert reply["text"] == "Customer Support: today so far: 2 new, 1 resolved, 1 in backlog"


def test_stats_today_compares_with_the_same_hours_of_yesterday(
    slack: SlackDriver, clock: ManualClock
) -> None:
    """START is Monday 09:00 UTC. Sunday had one case in the morning and three at night."""
    clock.set(START - DAY - 30 * MINUTE)
    slack.command(REQUESTER, "open Sunday morning")
    clock.set(START - 10 * HOUR)
    for title in ("Late one", "Late two", "Late three"):
        slack.command(REQUESTER, f"open {title}")
    clock.set(START - HOUR)
    slack.command(REQUESTER, "open Monday morning")
    clock.set(START)

    reply = the_reply(slack.command(AGENT, "stats today"))

    assert kpi_field(reply, "New") == "1"  # as many as by this time yesterday: no arrow


def test_stats_for_a_named_team_and_window(stats_history: SlackDriver) -> None:
    reply = the_reply(stats_history.command(AGENT, "stats team:billing 7d"))

    assert reply["response_type"] == "ephemeral"
    assert header_texts(reply["blocks"]) == ["Billing: last 7 days"]
    assert kpi_field(reply, "New") == "1"  # as many as the 7 days before
    assert kpi_field(reply, "Resolved") == "0"
    assert kpi_field(reply, "First response") == "_no data_"


def test_stats_for_an_unknown_team_is_refused_politely(slack: SlackDriver) -> None:
    reply = the_reply(slack.command(AGENT, "stats team:nope"))

    assert reply["response_type"] == "ephemeral"
    assert shown(reply) == "There is no team `nope`. Teams: `support`, `billing`, `sales`."


def test_stats_for_an_unknown_window_shows_the_usage(slack: SlackDriver) -> None:
    reply = the_reply(slack.command(AGENT, "stats forever"))

    assert shown(reply) == (
        "`forever` is not a period. Usage: `/case stats [team:<key>] [today|yesterday|7d|30d]`."
    )


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


@pytest.fixture
def queue(slack: SlackDriver, clock: ManualClock) -> SlackDriver:
    """Support: #1 claimed by the agent, #2 unassigned. Billing: #3 unassigned."""
    clock.set(START)
    slack.command(REQUESTER, "open Printer on fire")
    slack.command(REQUESTER, "open VPN down")
    slack.command(REQUESTER, "open team:billing Wrong invoice")
    slack.command(AGENT, "claim 1")
    clock.advance(10 * MINUTE)
    return slack


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
    load = next(h for h in section_heads(home) if h.startswith("*Load per agent*"))
    assert f"• <@{AGENT}>: 1 open" in load.splitlines()


def click_in_app_home(
    slack: SlackDriver, casedesk: Casedesk, user: str, home: Json, action_id: str, value: str
) -> None:
    """A click on App Home as Slack sends it: from a view, with neither a channel nor a
    response URL; then wait for the app to finish what it acknowledged."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user, "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trigger-home",
        "container": {"type": "view", "view_id": home["id"]},
        "view": home,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value}],
    }
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


# python -m bot export


def run_cli_side_by_side(
    env: dict[str, str], cwd: Path, *commands: list[str]
) -> list[subprocess.CompletedProcess[str]]:
    """Run independent read-only commands at the same time (each start-up takes a while)."""
    started = [
        (
            command,
            subprocess.Popen(
                [sys.executable, "-m", "bot", *command],
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for command in commands
    ]
    finished = []
    for command, process in started:
        stdout, stderr = process.communicate(timeout=120)
        finished.append(subprocess.CompletedProcess(command, process.returncode, stdout, stderr))
    return finished


def cli_env(database_url: str, config: Path, fake: FakeSlack) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": database_url,
        "SUPPORT_CONFIG": str(config),
        "SLACK_API_URL": fake.base_url,  # nothing here should reach Slack, the real one least
        "MPLBACKEND": "Agg",
    }


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(desk_yaml(), encoding="utf-8")
    return path


@pytest.fixture
def exported_history(queue: SlackDriver, fake_slack: FakeSlack, clock: ManualClock) -> None:
    """Monday (the `queue`, then): #1 answered after 10 min, closed after an hour and rated 5
    with a comment; #2 open; #3 billing's. Tuesday: #4."""
    card = next(m for m in fake_slack.messages(SUPPORT_CHANNEL) if m["text"].startswith("Case #1"))
    queue.thread_reply(AGENT, SUPPORT_CHANNEL, card["ts"], "On it")
    clock.advance(50 * MINUTE)
    queue.command(AGENT, "close 1 Replaced the toner")
    queue.click(REQUESTER, ActionId.CSAT_COMMENT, "1", channel=f"D{REQUESTER}")
    queue.submit(REQUESTER, fake_slack.opened_views()[-1], {"rating": "5", "comment": "Great"})
    clock.set(START + DAY)
    queue.command(REQUESTER, "open Opened on Tuesday")


MONDAY_ONLY = ("--team", "support", "--from", "2026-11-23", "--to", "2026-11-23")

EXPECTED_CLOSED_CASE: Json = {
    "case": 1,
    "team": "support",
    "priority": "p3",
    "status": "closed",
    "title": "Printer on fire",
    "requester": REQUESTER,
    "assignee": AGENT,
    "first_assignee": AGENT,
    "first_responder": AGENT,
    "escalation_level": 0,
    "reopen_count": 0,
    "opened_at": "2026-11-23T09:00:00+00:00",
    "claimed_at": "2026-11-23T09:00:00+00:00",
    "first_response_at": "2026-11-23T09:10:00+00:00",
    "first_response_seconds": 600,
    "first_response_breached": None,  # support has no SLA in this desk
    "last_escalated_at": None,
    "closed_at": "2026-11-23T10:00:00+00:00",
    "closed_by": AGENT,
    "reopened_at": None,
    "resolution_seconds": 3600,
    "resolution_breached": None,
    "first_contact_resolution": True,
    "csat_rating": 5,
    "csat_comment": "Great",
    "csat_answered_at": "2026-11-23T10:00:00+00:00",
}


def as_csv_row(record: Json) -> dict[str, str]:
    return {key: "" if value is None else str(value) for key, value in record.items()}


# The export runs a process; once, on SQLite, is enough to show the command line works.
sqlite_only = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@sqlite_only
def test_export_writes_one_row_per_case_opened_in_the_range_as_csv_or_json_lines(
    exported_history: None,
    database: Database,
    config_file: Path,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    env = cli_env(database.url, config_file, fake_slack)
    as_csv, as_jsonl = run_cli_side_by_side(
        env,
        tmp_path,
        ["export", *MONDAY_ONLY, "--format", "csv"],
        ["export", *MONDAY_ONLY, "--format", "jsonl"],
    )

    assert as_csv.returncode == 0, as_csv.stderr
    # The columns are a contract with spreadsheets and BI tools: new ones only go last.
    assert as_csv.stdout.splitlines()[0] == (
        "case,team,priority,status,title,requester,assignee,first_assignee,first_responder,"
        "escalation_level,reopen_count,opened_at,first_response_at,first_response_seconds,"
        "first_response_breached,closed_at,closed_by,resolution_seconds,resolution_breached,"
        "csat_rating,csat_comment,claimed_at,last_escalated_at,reopened_at,"
        "first_contact_resolution,csat_answered_at"
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["case"] for row in rows] == ["1", "2"]
    assert rows[0] == as_csv_row(EXPECTED_CLOSED_CASE)
    assert (rows[1]["status"], rows[1]["assignee"], rows[1]["csat_rating"]) == ("open", "", "")
    assert rows[1]["first_contact_resolution"] == ""  # not closed: not yet decided
    assert "exported 2 case(s)" in as_csv.stderr

    assert as_jsonl.returncode == 0, as_jsonl.stderr
    records = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert [record["case"] for record in records] == [1, 2]
    assert records[0] == EXPECTED_CLOSED_CASE
    assert list(records[0]) == list(FIELDS)
    assert records[1]["first_response_seconds"] is None


def test_export_of_an_unknown_team_fails_with_one_line(
    config_file: Path, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = cli_env(f"sqlite:///{tmp_path / 'empty.db'}", config_file, fake_slack)

    result = run_cli(
        env, tmp_path, "export", "--team", "nope", "--from", "2026-11-23", "--to", "2026-11-23"
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "casedesk: there is no team 'nope'; teams: support, billing, sales"
    ]


def test_seeded_cases_export_for_their_team(
    config_file: Path, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    env = cli_env(url, config_file, fake_slack)
    seeded = run_cli(env, tmp_path, "seed", "--cases", "200", "--days", "7")
    assert seeded.returncode == 0, seeded.stderr
    assert "seeded 200 case(s) over 7 day(s)" in seeded.stdout

    today = datetime.now(UTC).date()
    exported = run_cli(
        env,
        tmp_path,
        "export",
        "--team",
        "support",
        "--from",
        (today - timedelta(days=8)).isoformat(),
        "--to",
        (today + timedelta(days=1)).isoformat(),
        "--format",
        "jsonl",
    )

    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    database = Database(url)
    try:
        with database.read_only() as session:
            support = session.scalar(select(func.count(Case.id)).where(Case.team_key == "support"))
            total = session.scalar(select(func.count(Case.id)))
    finally:
        database.dispose()
    assert total == 200
    assert 0 < len(records) <= 200
    assert len(records) == support
    assert {record["team"] for record in records} == {"support"}


@sqlite_only
def test_export_into_a_reader_that_stops_early_ends_quietly(
    exported_history: None,
    database: Database,
    config_file: Path,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    """`export ... | head -1`: the pipe closes under the export, which stops without a trace."""
    export = subprocess.Popen(
        [sys.executable, "-m", "bot", "export", *MONDAY_ONLY],
        env=cli_env(database.url, config_file, fake_slack),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert export.stdout is not None
    export.stdout.close()  # the reader is gone before the first row is written
    _, errors = export.communicate(timeout=120)

    assert export.returncode == 141
    assert "Traceback" not in errors


def test_each_rating_button_has_its_own_action_id_and_is_heard(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    """Slack refuses a block with two elements of one action_id: one id per rating; the
    plain `csat_rate` of surveys posted before still works (the other tests click it)."""
    open_and_close(slack)
    [survey] = surveys(fake_slack)
    [ratings] = [b for b in survey["blocks"] if b["type"] == "actions" and len(b["elements"]) > 1]

    assert [b["action_id"] for b in ratings["elements"]] == [f"csat_rate:{n}" for n in range(1, 6)]
    three = ratings["elements"][2]
    reply = the_reply(
        slack.click(REQUESTER, three["action_id"], three["value"], channel=survey["channel"])
    )

    assert reply["text"] == "Thank you! You rated case #1 3/5."
    assert answers(casedesk) == [(1, REQUESTER, 3, None)]
