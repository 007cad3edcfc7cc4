"""Casedesk served over Socket Mode (`python -m bot serve` with SLACK_APP_TOKEN), as a process,
against Slack's side of Socket Mode on this machine (tests/fake_socket_mode.py): slash commands,
clicks, modal submissions and events arrive as envelopes on the websocket, each is acked there
within Slack's 3 s, and what the bot does reaches the Web API stand-in. A connection Slack
retires, closes or loses is made again; a Socket Mode the bot cannot reach stops it in one line."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import AGENT, BOT_TOKEN, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from fake_socket_mode import ACK_DEADLINE, APP_TOKEN, Ack, SocketModeStandIn
from helpers import Json, all_text, button_elements, run_cli, serve_env, served_bot

from bot.db import Database
from bot.ids import ActionId
from bot.sandbox.signed import APP_ID, TEAM_ID, message_event, modal_state, slack_message

SOCKET_MODE_PROBLEM = "casedesk: cannot connect to Slack over Socket Mode ("
CHECK_IT = "check SLACK_APP_TOKEN and that Slack is reachable"


@dataclass
class Answer:
    ack: Ack
    responses: list[Json]  # what the bot then said at the request's response URL

    @property
    def reply_text(self) -> str:
        return "\n".join(all_text(response) for response in self.responses)


class SocketModeSlack:
    """People acting in Slack, delivered to the bot process over its Socket Mode connection."""

    def __init__(self, fake: FakeSlack, socket_mode: SocketModeStandIn) -> None:
        self.fake = fake
        self.socket_mode = socket_mode

    def command(self, user: str, text: str, *, channel: str = SUPPORT_CHANNEL) -> Answer:
        """`/case text`, answered at its response URL."""
        key = f"cmd-{uuid.uuid4().hex}"
        envelope = self._slash_command(user, text, channel, key)
        return self._answered(envelope, key)

    def send_command(self, user: str, text: str, *, channel: str = SUPPORT_CHANNEL) -> Ack:
        """`/case text` whose answer is not at its response URL (a form opens)."""
        key = f"cmd-{uuid.uuid4().hex}"
        return self._acked(self._slash_command(user, text, channel, key))

    def _slash_command(self, user: str, text: str, channel: str, key: str) -> str:
        return self.socket_mode.slash_command(
            user,
            text,
            channel=channel,
            response_url=self.fake.response_url(key),
            trigger_id=f"trigger-{key}",
        )

    def click(self, user: str, message: Json, action_id: str) -> Answer:
        """`user` presses the button `action_id` on `message`, a message in the team channel."""
        [button] = [each for each in button_elements(message) if each["action_id"] == action_id]
        [block] = [each for each in message["blocks"] if button in each.get("elements", [])]
        key = f"click-{uuid.uuid4().hex}"
        payload: Json = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": SUPPORT_CHANNEL,
                "is_ephemeral": False,
            },
            "trigger_id": f"trigger-{key}",
            "team": {"id": TEAM_ID, "domain": "test"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": SUPPORT_CHANNEL, "name": SUPPORT_CHANNEL.lower()},
            "message": slack_message(message),
            "state": {"values": {}},
            "response_url": self.fake.response_url(key),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block.get("block_id", "b1"),
                    "text": button["text"],
                    "value": button.get("value", ""),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self._answered(self.socket_mode.interactive(payload), key)

    def submit(self, user: str, view: Json, values: dict[str, str]) -> Ack:
        """`user` submits a modal the bot opened, with `values` typed in by block id."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "legacy",
            "trigger_id": f"trigger-{uuid.uuid4().hex}",
            "view": {**view, "state": {"values": modal_state(view, values)}},
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._acked(self.socket_mode.interactive(payload))

    def reply_in_thread(self, user: str, thread_ts: str, text: str) -> Ack:
        """`user` writes in the thread of a message in the team channel."""
        message = self.fake.post_as_user(
            SUPPORT_CHANNEL, user, text, thread_ts=thread_ts, at=time.time()
        )
        parent = self.fake.message(SUPPORT_CHANNEL, thread_ts) or {}
        event = message_event(SUPPORT_CHANNEL, message, parent_user=parent.get("user"))
        return self._acked(self.socket_mode.event(event))

    def open_home(self, user: str) -> Ack:
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        return self._acked(self.socket_mode.event(event))

    def _acked(self, envelope_id: str) -> Ack:
        ack = self.socket_mode.wait_ack(envelope_id)
        assert ack.seconds < ACK_DEADLINE, f"acked after {ack.seconds:.2f}s"
        return ack

    def _answered(self, envelope_id: str, key: str) -> Answer:
        ack = self._acked(envelope_id)
        responses = self.fake.wait_for(lambda fake: fake.responses_for(key), timeout=20)
        return Answer(ack, responses)


# The bot as a process


def bot_environment(tmp_path: Path, fake: FakeSlack, database_url: str) -> dict[str, str]:
    """What an operator sets for Socket Mode: both tokens, no signing secret, no port."""
    return serve_env(
        tmp_path,
        slack_api_url=fake.base_url,
        database_url=database_url,
        SLACK_APP_TOKEN=APP_TOKEN,
        RUN_SCHEDULER="false",
    )


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[SocketModeStandIn]:
    with SocketModeStandIn(fake_slack) as stand_in:
        yield stand_in


@contextmanager
def serving(
    tmp_path: Path, fake: FakeSlack, socket_mode: SocketModeStandIn, database_url: str
) -> Iterator[SocketModeSlack]:
    """`python -m bot serve` in Socket Mode, once it has connected."""
    log = tmp_path / "bot.log"
    env = bot_environment(tmp_path, fake, database_url)
    # No port to answer /readyz: ready once it has connected.
    with served_bot(env, log=log, stop=signal.SIGTERM, ready=lambda: socket_mode.links) as process:
        yield SocketModeSlack(fake, socket_mode)
        assert process.poll() is None, f"the bot stopped:\n{log.read_text()[-3000:]}"


@pytest.fixture
def slack(
    tmp_path: Path, fake_slack: FakeSlack, socket_mode: SocketModeStandIn, database: Database
) -> Iterator[SocketModeSlack]:
    """The bot serving Socket Mode, on SQLite and on PostgreSQL."""
    with serving(tmp_path, fake_slack, socket_mode, database.url) as connected:
        yield connected


@pytest.fixture
def slack_on_sqlite(
    tmp_path: Path, fake_slack: FakeSlack, socket_mode: SocketModeStandIn
) -> Iterator[SocketModeSlack]:
    """For what does not depend on the database: on a SQLite file the bot migrates itself."""
    database_url = f"sqlite:///{tmp_path}/casedesk.db"
    with serving(tmp_path, fake_slack, socket_mode, database_url) as connected:
        yield connected


def the_card(fake: FakeSlack) -> Json:
    """The one message in the team channel: the case card."""
    cards = fake.messages(SUPPORT_CHANNEL)
    assert len(cards) == 1, cards
    return cards[0]


def opened_case(slack: SocketModeSlack) -> Json:
    opened = slack.command(REQUESTER, "open Printer on fire")
    assert "Opened case #1 for Customer Support" in opened.reply_text
    card: Json = slack.fake.wait_for(the_card, timeout=20)
    return card


def thread_texts(fake: FakeSlack, thread_ts: str) -> list[str]:
    return [all_text(reply) for reply in fake.thread(SUPPORT_CHANNEL, thread_ts)]


def said(stderr: str) -> list[str]:
    """What the bot itself said, as opposed to the log lines of start-up."""
    return [line for line in stderr.splitlines() if line.startswith("casedesk: ")]


# What people do, delivered over the websocket


def test_a_slash_command_comes_over_the_websocket_is_acked_there_and_opens_a_case(
    slack: SocketModeSlack, fake_slack: FakeSlack
) -> None:
    opened = slack.command(REQUESTER, "open Printer on fire")

    assert opened.ack.payload is None  # acked at once; the answer goes to the response URL
    assert "Opened case #1 for Customer Support in <#C0SUPPORT>." in opened.reply_text
    card = fake_slack.wait_for(the_card, timeout=20)
    assert card["text"].startswith("Case #1 (P3, open): Printer on fire")
    # The websocket's URL came from SLACK_API_URL, asked for with the app-level token; every
    # other call is made with the bot token.
    [asked_for_url] = fake_slack.calls_to("apps.connections.open")
    assert asked_for_url.token == APP_TOKEN
    others = {call.token for call in fake_slack.calls if call.method != "apps.connections.open"}
    assert others == {BOT_TOKEN}
    assert slack.socket_mode.problems == []


def test_the_claim_button_on_the_card_comes_over_the_websocket_and_claims_the_case(
    slack: SocketModeSlack, fake_slack: FakeSlack
) -> None:
    card = opened_case(slack)

    claimed = slack.click(AGENT, card, ActionId.CLAIM)

    assert claimed.ack.payload is None
    assert "You claimed case #1." in claimed.reply_text
    updated = fake_slack.wait_for(
        lambda fake: "in progress" in the_card(fake)["text"] and the_card(fake), timeout=20
    )
    assert updated["ts"] == card["ts"]  # the card is updated in place
    assert "*Assignee*\n<@U0AGENT1>" in all_text(updated)
    assert fake_slack.wait_for(lambda fake: thread_texts(fake, card["ts"]), timeout=20) == [
        "Case #1: claimed\n:raising_hand: <@U0AGENT1> claimed this case."
    ]
    assert slack.socket_mode.problems == []


def test_a_modal_submission_comes_over_the_websocket_and_its_errors_go_back_in_the_ack(
    slack: SocketModeSlack, fake_slack: FakeSlack
) -> None:
    slack.send_command(REQUESTER, "open")  # no title: a form opens
    form = fake_slack.wait_for(lambda fake: fake.opened_views(), timeout=20)[-1]

    blank = slack.submit(REQUESTER, form, {"title": "   "})

    assert blank.payload == {
        "response_action": "errors",
        "errors": {"title": "Please give the case a title."},
    }
    assert fake_slack.messages(SUPPORT_CHANNEL) == []

    filled = slack.submit(REQUESTER, form, {"title": "VPN is down", "priority": "p1"})

    assert filled.payload is None  # the form simply closes
    card = fake_slack.wait_for(the_card, timeout=20)
    assert card["text"].startswith("Case #1 (P1, open): VPN is down")


def test_a_requester_reply_in_the_case_thread_comes_over_the_websocket_and_resumes_the_case(
    slack: SocketModeSlack, fake_slack: FakeSlack
) -> None:
    card = opened_case(slack)
    assert "You claimed case #1." in slack.command(AGENT, "claim 1").reply_text
    assert "is pending" in slack.command(AGENT, "pending 1 the error logs").reply_text

    ack = slack.reply_in_thread(REQUESTER, card["ts"], "Here are the logs")

    assert ack.payload is None
    fake_slack.wait_for(
        lambda fake: "Back in progress (requester replied)." in thread_texts(fake, card["ts"])[-1],
        timeout=20,
    )
    assert "Case #1 (P3, in progress)" in the_card(fake_slack)["text"]


def test_an_agent_opening_the_app_home_over_the_websocket_gets_it_published(
    slack: SocketModeSlack, fake_slack: FakeSlack
) -> None:
    opened_case(slack)

    ack = slack.open_home(AGENT)

    assert ack.payload is None
    home = fake_slack.wait_for(lambda fake: fake.home_views.get(AGENT), timeout=20)
    assert "Printer on fire" in all_text(home)  # among the unassigned cases


# The connection


def test_when_slack_asks_the_bot_to_reconnect_it_does_and_the_next_command_works(
    slack_on_sqlite: SocketModeSlack, fake_slack: FakeSlack, socket_mode: SocketModeStandIn
) -> None:
    first = socket_mode.current_link()

    socket_mode.ask_to_reconnect()  # Slack's `disconnect` (refresh_requested)

    second = socket_mode.wait_connected(2, timeout=20)
    assert second is not first
    assert first.closed.wait(10)  # the bot closes the connection it leaves
    opened = slack_on_sqlite.command(REQUESTER, "open Printer on fire")
    assert "Opened case #1" in opened.reply_text
    assert len(fake_slack.calls_to("apps.connections.open")) == 2  # a new URL for each
    assert socket_mode.problems == []


def test_a_connection_slack_closes_is_made_again_and_the_next_command_works(
    slack_on_sqlite: SocketModeSlack, socket_mode: SocketModeStandIn
) -> None:
    opened_case(slack_on_sqlite)

    socket_mode.close_link(1001, "going away")

    socket_mode.wait_connected(2, timeout=20)  # at the next ping, every 5 s
    shown = slack_on_sqlite.command(AGENT, "show 1")
    assert "Printer on fire" in shown.reply_text
    assert socket_mode.problems == []


def test_a_connection_the_network_drops_is_made_again_and_the_next_command_works(
    slack_on_sqlite: SocketModeSlack, socket_mode: SocketModeStandIn
) -> None:
    opened_case(slack_on_sqlite)

    socket_mode.cut_link()  # no close frame: the TCP connection just ends

    # slack_sdk's built-in client notices only when its pings fail, five times: about 30 s.
    socket_mode.wait_connected(2, timeout=60)
    shown = slack_on_sqlite.command(AGENT, "show 1")
    assert "Printer on fire" in shown.reply_text
    assert socket_mode.problems == []


# Starting without a working Socket Mode: one line, exit 1, and no scheduler


def serve_in_socket_mode(tmp_path: Path, fake: FakeSlack) -> subprocess.CompletedProcess[str]:
    env = bot_environment(tmp_path, fake, f"sqlite:///{tmp_path}/casedesk.db")
    return run_cli({**env, "RUN_SCHEDULER": "true"}, tmp_path, "serve", timeout=60)


def assert_stopped_in_one_line(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode == 1
    [line] = said(result.stderr)
    assert line.startswith(SOCKET_MODE_PROBLEM), line
    assert reason in line
    assert line.endswith(f"); {CHECK_IT}")
    assert "Traceback" not in result.stderr
    assert APP_TOKEN not in result.stdout + result.stderr
    assert "Connected to Slack" not in result.stderr
    assert "scheduler started" not in result.stderr


def test_an_app_token_slack_refuses_stops_the_bot_in_one_line(
    tmp_path: Path, fake_slack: FakeSlack, socket_mode: SocketModeStandIn
) -> None:
    fake_slack.fail_next("apps.connections.open", error="invalid_auth")

    result = serve_in_socket_mode(tmp_path, fake_slack)

    assert_stopped_in_one_line(result, "(Slack answered invalid_auth)")
    assert socket_mode.links == []


def test_a_websocket_address_nobody_answers_at_stops_the_bot_in_one_line(
    tmp_path: Path, fake_slack: FakeSlack, socket_mode: SocketModeStandIn
) -> None:
    socket_mode.stop()  # apps.connections.open still hands out its URL

    result = serve_in_socket_mode(tmp_path, fake_slack)

    assert_stopped_in_one_line(result, "Connection refused")
    assert fake_slack.calls_to("apps.connections.open")  # the URL was handed out


def test_a_websocket_handshake_slack_refuses_stops_the_bot_in_one_line(
    tmp_path: Path, fake_slack: FakeSlack, socket_mode: SocketModeStandIn
) -> None:
    socket_mode.refuse_handshakes = True

    result = serve_in_socket_mode(tmp_path, fake_slack)

    assert_stopped_in_one_line(result, "(Slack refused the websocket)")
    assert socket_mode.links == []
