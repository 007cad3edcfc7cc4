"""What reaches the app that Slack did not send or did not mean, text that tries to be markup,
a Slack Web API that fails, and fifty agents clicking at once: the desk stays correct and
people are told what happened."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from conftest import AGENT, AGENT_2, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack, validate_blocks
from front_door_helpers import block_actions, post_raw
from helpers import Json, case_count, case_row, command_form
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import select

from bot.clock import ManualClock
from bot.ids import ActionId
from bot.runtime.casedesk import Casedesk
from bot.sandbox.signed import HttpResult as SignedResult
from models import CaseAction, CaseEvent

# What users type, and how Slack delivers it: real mentions and links arrive as <…> markup,
# typed `&`, `<` and `>` arrive as entities.
HOSTILE_TITLE = "<!channel> read <@U123> then <https://evil|click> Tom & Jerry 🎉 مرحبا שלום"
HOSTILE_AS_SENT = HOSTILE_TITLE.replace("&", "&amp;")
RAW_MARKUP = ("<!channel>", "<@U123>", "<https://evil")
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")

# Helpers


def post_and_settle(slack: SlackDriver, body: str) -> HttpResult:
    result = slack.post(body)
    assert slack.executor.wait_idle(timeout=30), "the app did not finish its work in time"
    return result


def actions_of(casedesk: Casedesk, number: int = 1) -> list[CaseAction]:
    with casedesk.db.read_only() as session:
        return list(
            session.scalars(
                select(CaseEvent.action).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
            )
        )


def open_case(slack: SlackDriver, title: str = "Printer on fire") -> HttpResult:
    return slack.command(REQUESTER, f"open {title}")


def sent_messages(fake: FakeSlack) -> list[Json]:
    """Everything the app asked Slack to show: messages, forms and response-URL answers."""
    payloads = [call.params for call in fake.calls if call.method in MESSAGE_METHODS]
    payloads += [call.params["view"] for call in fake.calls_to("views.open")]
    return payloads + fake.responses


def markup_texts(payload: Json) -> list[str]:
    """Strings Slack parses as markup: the `text` fallback and every mrkdwn text object."""
    found = [payload["text"]] if isinstance(payload.get("text"), str) else []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload.get("blocks"))
    return found


def assert_slack_accepted_everything(fake: FakeSlack) -> None:
    refused = [(c.method, c.error) for c in fake.calls if c.error and not c.failed]
    assert refused == [], fake.describe()
    for call in fake.calls:
        if call.method in MESSAGE_METHODS:
            assert call.params.get("text"), f"{call.method} without a text fallback"
    for response in fake.responses:  # response URLs are not checked by the fake
        assert response.get("text"), f"answer without a text fallback: {response!r:.200}"
        assert validate_blocks(response.get("blocks") or []) == []


class TimedDriver(SlackDriver):
    """The driver, also noting how long each HTTP answer took."""

    def __init__(self, slack: SlackDriver) -> None:
        super().__init__(slack.url, slack.secret, slack.fake, slack.executor)
        self.answer_seconds: list[float] = []
        self._lock = threading.Lock()
        untimed = self.requests.http

        def timed_http(*args: Any) -> SignedResult:
            started = time.monotonic()
            result = untimed(*args)
            with self._lock:
                self.answer_seconds.append(time.monotonic() - started)
            return result

        self.requests.http = timed_http  # type: ignore[method-assign,assignment]


# Requests not from Slack


def test_a_forged_signature_is_refused_and_changes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    result = slack.post(command_form("open Forged"), signature="v0=" + "0" * 64)

    assert result.status == 401
    assert case_count(casedesk) == 0
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_correctly_signed_request_ten_minutes_old_is_refused(
    slack: SlackDriver, casedesk: Casedesk
) -> None:
    result = slack.post(command_form("open Replayed"), timestamp=int(time.time()) - 600)

    assert result.status == 401
    assert case_count(casedesk) == 0


def test_a_request_without_slack_headers_is_refused(slack: SlackDriver, casedesk: Casedesk) -> None:
    result = post_raw(slack, command_form("open Unsigned"), headers={})

    assert result.status == 401
    assert case_count(casedesk) == 0


def test_a_payload_that_is_not_json_gets_no_server_error(slack: SlackDriver) -> None:
    signed = post_and_settle(slack, "payload=not-json")
    forged = slack.post("payload=not-json", signature="v0=" + "0" * 64)

    assert [400 <= result.status < 500 for result in (signed, forged)] == [True, True], (
        signed,
        forged,
    )
    assert "Traceback" not in signed.body


def test_a_button_click_without_a_user_gets_a_polite_answer_and_changes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_case(slack)
    payload = block_actions(
        fake_slack,
        user=...,
        trigger_id="trigger-nouser",
        container=...,
        response_url=fake_slack.response_url("nouser"),
    )

    result = post_and_settle(slack, urlencode({"payload": json.dumps(payload)}))

    assert 200 <= result.status < 500
    assert "Traceback" not in result.body
    answers = json.dumps(fake_slack.responses_for("nouser"))
    assert "Traceback" not in answers
    assert re.search(r"\w+Error\b", answers) is None  # no exception names shown to people
    assert case_row(casedesk).assignee_id is None


def test_health_check_answers_ok(slack: SlackDriver) -> None:
    result = slack.get("/healthz")

    assert result.status == 200
    assert result.json()["ok"] is True


# Text that tries to be markup, and text that is long or not Latin


def test_markup_in_a_title_is_stored_as_typed_and_never_sent_as_markup(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    opened = open_case(slack, HOSTILE_AS_SENT)
    card_ts = fake_slack.messages(SUPPORT_CHANNEL)[0]["ts"]
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, f"note 1 {HOSTILE_AS_SENT}")
    listed = slack.command(AGENT, "list")
    slack.command(AGENT, "show 1")
    slack.click(AGENT, ActionId.CLOSE, "1", message_ts=card_ts)

    assert case_row(casedesk).title == HOSTILE_TITLE
    assert "Opened case #1" in opened.reply_text
    escaped = "&lt;!channel&gt; read &lt;@U123&gt; then &lt;https://evil|click&gt; Tom &amp; Jerry"
    assert escaped in listed.reply_text
    assert escaped in json.dumps(fake_slack.opened_views()[-1], ensure_ascii=False)
    assert escaped in json.dumps(fake_slack.thread(SUPPORT_CHANNEL, card_ts)[-1]["blocks"])
    header = fake_slack.messages(SUPPORT_CHANNEL)[0]["blocks"][0]
    assert header["text"] == {"type": "plain_text", "text": f"#1 · {HOSTILE_TITLE}", "emoji": True}
    leaks = [
        text[:120]
        for payload in sent_messages(fake_slack)
        for text in markup_texts(payload)
        if any(markup in text for markup in RAW_MARKUP)
    ]
    assert leaks == []
    assert_slack_accepted_everything(fake_slack)


def test_markup_in_a_refused_reference_is_not_echoed_as_markup(slack: SlackDriver) -> None:
    result = slack.command(AGENT, "claim <!channel>")

    assert "&lt;!channel&gt;` is not a case number" in result.reply_text
    assert "<!channel>" not in result.reply_text


def test_a_ten_kilobyte_title_is_kept_whole_and_shortened_where_slack_has_limits(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    typed = ("Tom & Jerry <!channel> مرحبا 🎉 " * 400)[:10_000].strip()

    opened = open_case(slack, typed.replace("&", "&amp;"))
    card_ts = fake_slack.messages(SUPPORT_CHANNEL)[0]["ts"]
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "show 1")
    slack.command(AGENT, "list")
    slack.command(AGENT, f"escalate 1 {typed.replace('&', '&amp;')}")
    slack.click(AGENT, ActionId.CLOSE, "1", message_ts=card_ts)

    assert "Opened case #1" in opened.reply_text
    assert case_row(casedesk).title == typed
    card = fake_slack.messages(SUPPORT_CHANNEL)[0]
    assert len(card["blocks"][0]["text"]["text"]) <= 150
    assert "Title shortened; `/case show 1` has all of it." in json.dumps(card["blocks"])
    assert len(fake_slack.thread(SUPPORT_CHANNEL, card_ts)) == 2  # claimed, escalated
    assert_slack_accepted_everything(fake_slack)


# The Slack Web API failing


def test_a_rate_limited_card_post_waits_out_retry_after_and_is_posted_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=30)

    result = open_case(slack)

    assert "Opened case #1" in result.reply_text
    assert "Slack is not answering right now (ratelimited), so the card will appear" in (
        result.reply_text
    )
    assert fake_slack.messages(SUPPORT_CHANNEL) == []
    clock.advance(timedelta(seconds=29))
    assert casedesk.outbox.deliver_due().sent == 0  # Retry-After is not over
    clock.advance(timedelta(seconds=2))
    assert casedesk.outbox.deliver_due().sent == 1

    assert [call.failed for call in fake_slack.calls_to("chat.postMessage")] == [True, False]
    [card] = fake_slack.messages(SUPPORT_CHANNEL)
    assert case_row(casedesk).card_ts == card["ts"]


def test_a_card_post_failing_twice_with_a_server_error_is_retried_and_posted_once(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, times=2)

    result = open_case(slack)
    for _ in range(2):  # each retry first looks for the card in the channel's history
        clock.advance(timedelta(minutes=1))
        casedesk.outbox.deliver_due()

    assert "Slack is not answering right now (internal_error)" in result.reply_text
    assert [call.failed for call in fake_slack.calls_to("chat.postMessage")] == [
        True,
        True,
        False,
    ]
    assert len(fake_slack.calls_to("conversations.history")) == 2
    [card] = fake_slack.messages(SUPPORT_CHANNEL)
    assert case_row(casedesk).card_ts == card["ts"]


def test_a_missing_team_channel_keeps_the_case_and_tells_the_requester(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    fake_slack.unknown_channels.add(SUPPORT_CHANNEL)

    result = open_case(slack)

    assert "Opened case #1" in result.reply_text
    assert "I could not post the case card in <#C0SUPPORT> (channel_not_found)" in (
        result.reply_text
    )
    case = case_row(casedesk)
    assert (case.title, case.card_ts) == ("Printer on fire", None)
    assert actions_of(casedesk) == [CaseAction.OPENED]

    fake_slack.unknown_channels.clear()
    slack.command(AGENT, "claim 1")

    [card] = fake_slack.messages(SUPPORT_CHANNEL)  # posted with the next change
    assert "in progress" in card["text"]
    assert case_row(casedesk).card_ts == card["ts"]


def test_a_failed_card_update_keeps_the_change_and_tells_the_user(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_case(slack)
    fake_slack.fail_next("chat.update", error="cant_update_message")

    result = slack.command(AGENT, "claim 1")

    assert "You claimed case #1." in result.reply_text
    assert "I could not update the case card (cant_update_message)." in result.reply_text
    assert case_row(casedesk).assignee_id == AGENT
    assert actions_of(casedesk) == [CaseAction.OPENED, CaseAction.CLAIMED]


def test_when_slack_refuses_the_usergroup_only_directly_listed_agents_can_claim(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    fake_slack.refuse_usergroups.add("S0SUPPORT")
    open_case(slack)

    refused = slack.command(AGENT_2, "claim 1")
    claimed = slack.command(AGENT, "claim 1")

    assert "Only agents and managers of Customer Support can claim cases." in refused.reply_text
    assert "You claimed case #1." in claimed.reply_text
    assert case_row(casedesk).assignee_id == AGENT
    assert fake_slack.calls_to("usergroups.users.list")[0].error == "missing_scope"


# Fifty agents at once


def test_of_fifty_simultaneous_claims_exactly_one_wins_and_the_rest_are_told_who(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    agents = [f"U0RUSH{n:02d}" for n in range(50)]
    fake_slack.usergroups["S0SUPPORT"] = [AGENT_2, *agents]
    open_case(slack)
    driver = TimedDriver(slack)
    start = threading.Barrier(len(agents))

    def claim(agent: str) -> HttpResult:
        start.wait()
        return driver.command(agent, "claim 1")

    with ThreadPoolExecutor(max_workers=len(agents)) as pool:
        results = dict(zip(agents, pool.map(claim, agents), strict=True))

    assert [r.status for r in results.values()] == [200] * 50
    assert max(driver.answer_seconds) < 3, sorted(driver.answer_seconds)[-5:]
    winner = case_row(casedesk).assignee_id
    assert winner in agents
    assert actions_of(casedesk).count(CaseAction.CLAIMED) == 1
    won = [agent for agent, r in results.items() if "You claimed case #1." in r.reply_text]
    assert won == [winner]
    told_who = [
        agent
        for agent, r in results.items()
        if f"Case #1 is already claimed by <@{winner}>" in r.reply_text
    ]
    assert sorted(told_who) == sorted(set(agents) - {winner})
