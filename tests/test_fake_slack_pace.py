"""The stand-in keeps Slack's pace when asked: one post per second per channel, 429 beyond."""

from __future__ import annotations

import time

import pytest
from fake_slack import FakeSlack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


def test_a_second_post_in_the_same_channel_within_a_second_is_rate_limited() -> None:
    with FakeSlack() as fake:
        fake.posts_per_second_per_channel = 1.0
        client = WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])
        client.chat_postMessage(channel="C1", text="one")
        client.chat_postMessage(channel="C2", text="another channel is its own")

        with pytest.raises(SlackApiError) as limited:
            client.chat_postMessage(channel="C1", text="too soon")

        assert limited.value.response.status_code == 429
        assert limited.value.response.headers["Retry-After"] == "1"
        time.sleep(1.05)
        client.chat_postMessage(channel="C1", text="in time")
        assert [m["text"] for m in fake.messages("C1")] == ["one", "in time"]
