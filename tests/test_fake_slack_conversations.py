"""The Slack stand-in and the driver for cases made from conversations: reading channels and
threads back (conversations.history / replies), emoji reactions, messages people write (with
files, in threads, deleted later), channels the bot is not in, and the message shortcut and
events the driver delivers as Slack does."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from fake_slack import (
    FakeSlack,
    SlackError,
    bare_stand_in,  # noqa: F401  (the `fake` fixture)
    web_client,  # noqa: F401  (the `client` fixture)
)
from slack_driver import SlackDriver
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.runtime.executor import ListenerPools
from bot.sandbox.signed import sign

SECRET = "conversations-secret"
NOW = 1_795_000_000.0  # Slack's clock in the driver tests
RECEIPT = [{"id": "F0RECEIPT", "name": "receipt.pdf", "title": "Receipt", "mimetype": "pdf"}]


def error_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as refused:
        call(**kwargs)
    return str(refused.value.response["error"])


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


# Reading a channel back


def test_history_is_newest_first_and_leaves_latest_and_oldest_out_unless_inclusive(
    fake: FakeSlack, client: WebClient
) -> None:
    ts = [fake.post_as_user("C1", "U1", f"m{i}")["ts"] for i in range(4)]

    newest_first = client.conversations_history(channel="C1")
    between = client.conversations_history(channel="C1", oldest=ts[0], latest=ts[3])
    including = client.conversations_history(
        channel="C1", oldest=ts[0], latest=ts[3], inclusive=True
    )

    assert texts(newest_first["messages"]) == ["m3", "m2", "m1", "m0"]
    assert texts(between["messages"]) == ["m2", "m1"]
    assert texts(including["messages"]) == ["m3", "m2", "m1", "m0"]


def test_history_with_inclusive_latest_and_oldest_at_one_ts_returns_that_one_message(
    fake: FakeSlack, client: WebClient
) -> None:
    ts = [fake.post_as_user("C1", "U1", f"m{i}")["ts"] for i in range(3)]

    one = client.conversations_history(channel="C1", latest=ts[1], oldest=ts[1], inclusive=True)
    none = client.conversations_history(channel="C1", latest=ts[1], oldest=ts[1])

    assert [m["ts"] for m in one["messages"]] == [ts[1]]
    assert none["messages"] == []


def test_history_pages_by_limit_and_cursor(fake: FakeSlack, client: WebClient) -> None:
    for i in range(5):
        fake.post_as_user("C1", "U1", f"m{i}")

    first = client.conversations_history(channel="C1", limit=2)
    cursor = first["response_metadata"]["next_cursor"]
    second = client.conversations_history(channel="C1", limit=2, cursor=cursor)
    last = client.conversations_history(
        channel="C1", limit=2, cursor=second["response_metadata"]["next_cursor"]
    )

    assert (texts(first["messages"]), first["has_more"]) == (["m4", "m3"], True)
    assert (texts(second["messages"]), second["has_more"]) == (["m2", "m1"], True)
    assert (texts(last["messages"]), last["has_more"]) == (["m0"], False)
    assert last["response_metadata"]["next_cursor"] == ""
    assert error_of(client.conversations_history, channel="C1", cursor="bogus") == (
        "invalid_cursor"
    )


def test_history_shows_no_thread_replies_but_those_also_sent_to_the_channel(
    fake: FakeSlack, client: WebClient
) -> None:
    parent = fake.post_as_user("C1", "U1", "printer broken")
    fake.post_as_user("C1", "U2", "same here", thread_ts=parent["ts"])
    client.chat_postMessage(
        channel="C1", text="looking", thread_ts=parent["ts"], reply_broadcast=True
    )

    listed = client.conversations_history(channel="C1")["messages"]

    assert texts(listed) == ["looking", "printer broken"]
    assert listed[0]["subtype"] == "thread_broadcast"
    assert (listed[1]["thread_ts"], listed[1]["reply_count"]) == (parent["ts"], 2)


# Reading a thread back


def test_replies_by_the_parent_or_any_reply_return_the_thread_parent_first(
    fake: FakeSlack, client: WebClient
) -> None:
    parent = fake.post_as_user("C1", "U1", "printer broken")
    first = fake.post_as_user("C1", "U2", "same here", thread_ts=parent["ts"])
    client.chat_postMessage(channel="C1", text="on it", thread_ts=parent["ts"])

    by_parent = client.conversations_replies(channel="C1", ts=parent["ts"])["messages"]
    by_reply = client.conversations_replies(channel="C1", ts=first["ts"])["messages"]

    assert texts(by_parent) == ["printer broken", "same here", "on it"]
    assert by_reply == by_parent
    assert [m["thread_ts"] for m in by_parent] == [parent["ts"]] * 3
    assert error_of(client.conversations_replies, channel="C1", ts="1.000001") == (
        "thread_not_found"
    )


def test_replies_of_a_message_without_any_is_that_message_alone(
    fake: FakeSlack, client: WebClient
) -> None:
    alone = fake.post_as_user("C1", "U1", "just a question")

    listed = client.conversations_replies(channel="C1", ts=alone["ts"])["messages"]

    assert texts(listed) == ["just a question"]


def test_replies_in_a_window_keep_the_parent_and_find_one_reply(
    fake: FakeSlack, client: WebClient
) -> None:
    parent = fake.post_as_user("C1", "U1", "printer broken")
    replies = [fake.post_as_user("C1", "U2", f"r{i}", thread_ts=parent["ts"]) for i in range(3)]
    ts = replies[1]["ts"]

    one = client.conversations_replies(
        channel="C1", ts=parent["ts"], latest=ts, oldest=ts, inclusive=True
    )["messages"]
    exclusive = client.conversations_replies(channel="C1", ts=parent["ts"], latest=ts, oldest=ts)

    assert texts(one) == ["printer broken", "r1"]
    assert texts(exclusive["messages"]) == ["printer broken"]


# Channels the bot is not in


def test_the_bot_cannot_read_post_or_react_in_a_channel_it_is_not_in(
    fake: FakeSlack, client: WebClient
) -> None:
    written = fake.post_as_user("C0PRIVATE", "U1", "can someone help?")
    fake.outside_channels.add("C0PRIVATE")
    where = {"channel": "C0PRIVATE"}

    refusals = [
        error_of(client.conversations_history, **where),
        error_of(client.conversations_replies, **where, ts=written["ts"]),
        error_of(client.chat_postMessage, **where, text="hi"),
        error_of(client.chat_postEphemeral, **where, user="U1", text="hi"),
        error_of(client.reactions_add, **where, timestamp=written["ts"], name="eyes"),
        error_of(client.reactions_get, **where, timestamp=written["ts"]),
    ]

    assert refusals == ["not_in_channel"] * 6
    assert texts(fake.messages("C0PRIVATE")) == ["can someone help?"]  # people still write
    fake.outside_channels.clear()
    assert texts(client.conversations_history(channel="C0PRIVATE")["messages"]) == [
        "can someone help?"
    ]


# Reactions


def test_the_bot_reacts_and_reads_the_reactions_back(fake: FakeSlack, client: WebClient) -> None:
    ts = fake.post_as_user("C1", "U1", "printer broken")["ts"]
    fake.react("C1", ts, "U2", "ticket")

    client.reactions_add(channel="C1", timestamp=ts, name="eyes")
    client.reactions_add(channel="C1", timestamp=ts, name="ticket")
    got = client.reactions_get(channel="C1", timestamp=ts)

    assert (got["type"], got["channel"], got["message"]["ts"]) == ("message", "C1", ts)
    assert got["message"]["reactions"] == [
        {"name": "ticket", "users": ["U2", "UBOT"], "count": 2},
        {"name": "eyes", "users": ["UBOT"], "count": 1},
    ]
    assert error_of(client.reactions_add, channel="C1", timestamp=ts, name="eyes") == (
        "already_reacted"
    )
    history = client.conversations_history(channel="C1")["messages"]
    assert [r["name"] for r in history[0]["reactions"]] == ["ticket", "eyes"]


def test_reactions_refused_as_slack_refuses_them(fake: FakeSlack, client: WebClient) -> None:
    ts = fake.post_as_user("C1", "U1", "printer broken")["ts"]

    assert error_of(client.reactions_add, channel="C1", timestamp="1.000001", name="x") == (
        "message_not_found"
    )
    assert error_of(client.reactions_add, channel="C1", timestamp=ts, name="") == "invalid_name"
    assert error_of(client.reactions_remove, channel="C1", timestamp=ts, name="eyes") == (
        "no_reaction"
    )
    assert error_of(client.reactions_get, channel="C1", timestamp="1.000001") == (
        "message_not_found"
    )


def test_people_react_and_take_reactions_off_like_in_slack(fake: FakeSlack) -> None:
    ts = fake.post_as_user("C1", "U1", "printer broken")["ts"]

    fake.react("C1", ts, "U2", "ticket")
    both = fake.react("C1", ts, "U3", ":ticket:")
    with pytest.raises(SlackError, match="already_reacted"):
        fake.react("C1", ts, "U2", "ticket")
    one_left = fake.unreact("C1", ts, "U2", "ticket")
    with pytest.raises(SlackError, match="no_reaction"):
        fake.unreact("C1", ts, "U2", "ticket")
    none_left = fake.unreact("C1", ts, "U3", "ticket")

    assert both["reactions"] == [{"name": "ticket", "users": ["U2", "U3"], "count": 2}]
    assert one_left["reactions"] == [{"name": "ticket", "users": ["U3"], "count": 1}]
    assert "reactions" not in none_left
    with pytest.raises(SlackError, match="message_not_found"):
        fake.react("C1", "1.000001", "U2", "ticket")


# Messages people write, and delete


def test_a_person_shares_files_in_a_message(fake: FakeSlack, client: WebClient) -> None:
    fake.post_as_user("C1", "U1", "my receipt", files=RECEIPT, subtype="file_share")

    [shared] = client.conversations_history(channel="C1")["messages"]

    assert (shared["user"], shared["subtype"], shared["files"]) == ("U1", "file_share", RECEIPT)
    assert shared["bot_id"] is None


def test_a_message_given_a_moment_gets_a_unique_ts_at_that_moment(fake: FakeSlack) -> None:
    first = fake.post_as_user("C1", "U1", "one", at=NOW)
    second = fake.post_as_user("C1", "U1", "two", at=NOW)

    assert (first["ts"], second["ts"]) == ("1795000000.000000", "1795000000.000001")
    assert fake.message("C1", second["ts"]) == second


def test_a_deleted_message_is_no_longer_found(fake: FakeSlack, client: WebClient) -> None:
    ts = fake.post_as_user("C1", "U1", "never mind")["ts"]
    kept = fake.post_as_user("C1", "U1", "still here")["ts"]

    gone = fake.delete_message("C1", ts)

    assert gone["text"] == "never mind"
    assert texts(client.conversations_history(channel="C1")["messages"]) == ["still here"]
    assert fake.message("C1", ts) is None
    assert error_of(client.conversations_replies, channel="C1", ts=ts) == "thread_not_found"
    assert error_of(client.chat_update, channel="C1", ts=ts, text="x") == "message_not_found"
    assert error_of(client.reactions_add, channel="C1", timestamp=ts, name="eyes") == (
        "message_not_found"
    )
    with pytest.raises(SlackError, match="message_not_found"):
        fake.delete_message("C1", ts)
    assert fake.message("C1", kept) is not None


def test_a_deleted_reply_leaves_its_thread_one_shorter(fake: FakeSlack, client: WebClient) -> None:
    parent = fake.post_as_user("C1", "U1", "printer broken")["ts"]
    reply = fake.post_as_user("C1", "U2", "fixed itself", thread_ts=parent)["ts"]

    fake.delete_message("C1", reply)

    [alone] = client.conversations_replies(channel="C1", ts=parent)["messages"]
    assert alone["text"] == "printer broken"
    assert "reply_count" not in alone
    assert error_of(client.conversations_replies, channel="C1", ts=reply) == "thread_not_found"


# The driver: what it puts in the stand-in and what it delivers to the app


class StubApp:
    """An app that checks each request's signature, keeps what Slack sent, and answers a
    message shortcut through its response URL."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                stamp = int(self.headers["X-Slack-Request-Timestamp"])
                assert self.headers["X-Slack-Signature"] == sign(SECRET, body, stamp)
                app.received.append(app.parse(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def parse(self, body: str) -> dict[str, Any]:
        if body.startswith("{"):
            delivered: dict[str, Any] = json.loads(body)
            return delivered
        payload: dict[str, Any] = json.loads(parse_qs(body)["payload"][0])
        if payload["type"] == "message_action":
            answer = json.dumps({"text": "Opened case #1"}).encode()
            urllib.request.urlopen(payload["response_url"], data=answer, timeout=5).close()
        return payload


@pytest.fixture
def app() -> Iterator[StubApp]:
    stub = StubApp()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


@pytest.fixture
def driver(fake: FakeSlack, app: StubApp) -> Iterator[SlackDriver]:
    pools = ListenerPools(work_threads=1)
    yield SlackDriver(app.url, SECRET, fake, pools, lambda: NOW)
    pools.shutdown()


def test_a_posted_message_is_kept_and_delivered_as_slack_delivers_it(
    fake: FakeSlack, app: StubApp, driver: SlackDriver
) -> None:
    message, result = driver.post_message("U1", "C0HELP", "VPN down", event_id="Ev1")

    [delivery] = app.received
    assert (result.status, delivery["event_id"], delivery["type"]) == (200, "Ev1", "event_callback")
    assert delivery["event"] == {
        "type": "message",
        "channel": "C0HELP",
        "user": "U1",
        "text": "VPN down",
        "ts": "1795000000.000000",
        "event_ts": "1795000000.000000",
        "channel_type": "channel",
    }
    assert fake.messages("C0HELP") == [message]


def test_a_reply_with_files_is_delivered_with_its_thread_and_files(
    fake: FakeSlack, app: StubApp, driver: SlackDriver
) -> None:
    parent, _ = driver.post_message("U1", "C0HELP", "VPN down")
    reply, _ = driver.post_message(
        "U2", "C0HELP", "log", thread_ts=parent["ts"], files=RECEIPT, subtype="file_share"
    )

    event = app.received[-1]["event"]
    assert (event["ts"], event["thread_ts"], event["parent_user_id"]) == (
        reply["ts"],
        parent["ts"],
        "U1",
    )
    assert (event["subtype"], event["files"]) == ("file_share", RECEIPT)
    assert fake.thread("C0HELP", parent["ts"]) == [reply]


def test_a_shortcut_sends_the_stored_message_and_collects_the_answer(
    fake: FakeSlack, app: StubApp, driver: SlackDriver
) -> None:
    parent = fake.post_as_user("C0HELP", "U1", "VPN down", at=NOW)
    reply = fake.post_as_user("C0HELP", "U2", "me too", thread_ts=parent["ts"], files=RECEIPT)

    result = driver.shortcut("U3", "C0HELP", reply["ts"])

    [payload] = app.received
    assert (payload["type"], payload["callback_id"]) == ("message_action", "open_case_from_message")
    assert payload["user"] == {"id": "U3", "name": "u3", "team_id": "T1"}
    assert payload["channel"] == {"id": "C0HELP", "name": "c0help"}
    assert (payload["message_ts"], payload["action_ts"]) == (reply["ts"], "1795000000.000000")
    assert payload["trigger_id"]
    assert payload["response_url"]
    assert payload["message"] == {
        "type": "message",
        "ts": reply["ts"],
        "text": "me too",
        "thread_ts": parent["ts"],
        "user": "U2",
        "files": RECEIPT,
    }
    assert result.reply_text == "Opened case #1"
    with pytest.raises(AssertionError, match="no message"):
        driver.shortcut("U3", "C0HELP", "1.000001")


def test_reacting_adds_the_emoji_and_delivers_reaction_added_then_removed(
    fake: FakeSlack, app: StubApp, driver: SlackDriver
) -> None:
    ts = fake.post_as_user("C0HELP", "U1", "VPN down")["ts"]

    driver.react("U2", "C0HELP", ts, ":ticket:", event_id="EvR")
    reacted = fake.message("C0HELP", ts)
    driver.unreact("U2", "C0HELP", ts, "ticket")

    added, removed = (delivery["event"] for delivery in app.received)
    assert app.received[0]["event_id"] == "EvR"
    assert added == {
        "type": "reaction_added",
        "user": "U2",
        "reaction": "ticket",
        "item": {"type": "message", "channel": "C0HELP", "ts": ts},
        "item_user": "U1",
        "event_ts": "1795000000.000000",
    }
    assert removed == {**added, "type": "reaction_removed"}
    assert reacted is not None
    assert reacted["reactions"][0]["users"] == ["U2"]
    assert "reactions" not in (fake.message("C0HELP", ts) or {})
    with pytest.raises(AssertionError, match="no_reaction"):
        driver.unreact("U2", "C0HELP", ts, "ticket")
