"""Focused tests of the FakeSlack test double, driven through real slack_sdk clients."""

from __future__ import annotations

from typing import Any

import pytest
from fake_slack import (  # tests/ is on sys.path (no tests/__init__.py)
    FakeSlack,
    bare_stand_in,  # noqa: F401  (the `fake` fixture)
    web_client,  # noqa: F401  (the `client` fixture)
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient


def test_post_update_and_thread_replies(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="New case #1")
    first = client.chat_postMessage(channel="C1", text="reply 1", thread_ts=parent["ts"])
    second = client.chat_postMessage(channel="C1", text="reply 2", thread_ts=parent["ts"])
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Case #1* closed"}}]
    client.chat_update(channel="C1", ts=parent["ts"], text="Case #1 closed", blocks=blocks)

    assert parent["ts"] == "1700000000.000100"
    assert float(parent["ts"]) < float(first["ts"]) < float(second["ts"])
    [top] = fake.messages("C1")
    assert (top["text"], top["blocks"], top["user"]) == ("Case #1 closed", blocks, "UBOT")
    assert [m["text"] for m in fake.thread("C1", parent["ts"])] == ["reply 1", "reply 2"]
    replies = client.conversations_replies(channel="C1", ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["Case #1 closed", "reply 1", "reply 2"]
    update = fake.last("chat.update")
    assert (update.params["blocks"], update.token) == (blocks, "xoxb-test")
    with pytest.raises(SlackApiError) as missing:
        client.chat_update(channel="C1", ts="1.000000", text="x")
    assert missing.value.response["error"] == "message_not_found"


def test_header_over_150_chars_is_invalid_blocks(fake: FakeSlack, client: WebClient) -> None:
    def header(length: int) -> dict[str, Any]:
        return {"type": "header", "text": {"type": "plain_text", "text": "x" * length}}

    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="fallback", blocks=[header(151)])

    assert exc.value.response["error"] == "invalid_blocks"
    assert exc.value.response["errors"] == [
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert fake.messages("C1") == []
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        client.chat_postMessage(channel="C1", blocks=[header(150)])
    assert fake.warnings == ["missing_text_fallback"]


def test_rate_limited_call_is_retried_and_delivered_once(fake: FakeSlack) -> None:
    retrying = WebClient(
        token="xoxb-test",
        base_url=fake.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=0)

    assert retrying.chat_postMessage(channel="C1", text="hello")["ok"]
    assert [c.failed for c in fake.calls_to("chat.postMessage")] == [True, False]
    assert [m["text"] for m in fake.messages("C1")] == ["hello"]


def test_injected_error_and_unknown_method(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("users.info", error="fatal_error")
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U1")
    assert exc.value.response["error"] == "fatal_error"
    assert client.users_info(user="U1")["user"]["tz"] == "Europe/Berlin"

    with pytest.raises(SlackApiError) as unknown:
        client.api_call("cases.frobnicate", params={"x": "1"})
    assert unknown.value.response["error"] == "unknown_method"
    assert fake.last("cases.frobnicate").params == {"x": "1"}


def test_files_upload_v2_round_trip(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="Case #2")
    response = client.files_upload_v2(
        channel="C1",
        content=b"case export",
        filename="case-2.csv",
        title="Case 2 export",
        initial_comment="Here is the export",
        thread_ts=parent["ts"],
    )

    file_id = response["file"]["id"]
    assert fake.files[file_id] == b"case export"
    params = fake.last("files.completeUploadExternal").params
    assert params["files"][0]["id"] == file_id
    assert (params["channel_id"], params["thread_ts"]) == ("C1", parent["ts"])
    [share] = fake.thread("C1", parent["ts"])
    assert share["text"] == "Here is the export"
    assert share["files"][0]["title"] == "Case 2 export"


def test_response_url_posts_are_recorded(fake: FakeSlack) -> None:
    webhook = WebhookClient(fake.response_url("abc"))
    answer = webhook.send(text="Case created", response_type="ephemeral")

    assert (answer.status_code, answer.body) == (200, "ok")
    fake.wait_for(lambda f: f.responses_for("abc"))
    assert fake.responses_for("abc") == [
        {"text": "Case created", "response_type": "ephemeral", "_key": "abc"}
    ]
    assert fake.responses_for("other") == []


def test_repeated_action_id_in_one_block_is_invalid_blocks(
    fake: FakeSlack, client: WebClient
) -> None:
    def button(action_id: str, value: str) -> dict[str, Any]:
        text = {"type": "plain_text", "text": value}
        return {"type": "button", "text": text, "action_id": action_id, "value": value}

    twice = [{"type": "actions", "elements": [button("rate", "1"), button("rate", "2")]}]
    home = {"type": "home", "blocks": twice}

    with pytest.raises(SlackApiError) as posted:
        client.chat_postMessage(channel="C1", text="Rate us", blocks=twice)
    with pytest.raises(SlackApiError) as published:
        client.views_publish(user_id="U1", view=home)

    error = (
        "action_id 'rate' is already used in this block "
        "[json-pointer:/blocks/0/elements/1/action_id]"
    )
    assert (posted.value.response["error"], posted.value.response["errors"]) == (
        "invalid_blocks",
        [error],
    )
    # Views are refused as Slack refuses them: invalid_arguments, with the same reason.
    assert (published.value.response["error"], published.value.response["response_metadata"]) == (
        "invalid_arguments",
        {"messages": [f"[ERROR] {error}"]},
    )
    assert (fake.messages("C1"), fake.home_views) == ([], {})
    # Unique within each block is enough: the same id may appear again in another block.
    distinct = [{"type": "actions", "elements": [button("rate:1", "1"), button("rate:2", "2")]}]
    again = [*distinct, {"type": "actions", "elements": [button("rate:1", "1")]}]
    ts = client.chat_postMessage(channel="C1", text="Rate us", blocks=distinct)["ts"]
    client.chat_update(channel="C1", ts=ts, text="Rate us", blocks=again)
    assert fake.messages("C1")[0]["blocks"] == again
