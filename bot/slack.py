"""The one place that calls the Slack Web API for the domain's notifications.

Transient failures (429 with Retry-After, 5xx, connection errors) are retried by slack_sdk's
retry handlers; what still fails surfaces as `SlackDeliveryError`, which callers turn into a
message for the user instead of losing the database change.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.roster import UsergroupLookupError
from bot.views.blocks import SlackMessage

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"


class SlackDeliveryError(Exception):
    """Slack did not take the call; `error` is Slack's error code or a short description."""

    def __init__(self, method: str, error: str) -> None:
        self.method = method
        self.error = error
        super().__init__(f"{method}: {error}")


def make_web_client(
    token: str, *, base_url: str = DEFAULT_API_URL, timeout: int = 10, max_retries: int = 3
) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )


class SlackGateway:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post(self, channel: str, content: SlackMessage, *, thread_ts: str | None = None) -> str:
        """Post a message (into a thread when `thread_ts` is given); returns its ts."""
        response = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, **content.as_kwargs()
            ),
        )
        return str(response["ts"])

    def update(self, channel: str, ts: str, content: SlackMessage) -> None:
        self._call(
            "chat.update",
            lambda: self.client.chat_update(channel=channel, ts=ts, **content.as_kwargs()),
        )

    def post_ephemeral(self, channel: str, user: str, content: SlackMessage) -> None:
        self._call(
            "chat.postEphemeral",
            lambda: self.client.chat_postEphemeral(
                channel=channel, user=user, **content.as_kwargs()
            ),
        )

    def direct_message(self, user: str, content: SlackMessage) -> str:
        opened = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=user)
        )
        channel = opened["channel"]["id"]
        return self.post(str(channel), content)

    def tell(self, user: str, channel: str | None, content: SlackMessage) -> None:
        """Show `content` to one user: ephemeral where they are, else in a DM."""
        if channel:
            try:
                self.post_ephemeral(channel, user, content)
                return
            except SlackDeliveryError as error:
                log.info("ephemeral to %s in %s failed (%s); sending a DM", user, channel, error)
        self.direct_message(user, content)

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = self._call(
                "chat.getPermalink",
                lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts),
            )
        except SlackDeliveryError:
            return None
        return str(response["permalink"])

    def usergroup_members(self, group_id: str) -> list[str]:
        try:
            response = self._call(
                "usergroups.users.list",
                lambda: self.client.usergroups_users_list(usergroup=group_id),
            )
        except SlackDeliveryError as error:
            raise UsergroupLookupError(error.error) from error
        return [str(user) for user in response.get("users", [])]

    @staticmethod
    def _call(method: str, call: Any) -> Any:
        try:
            return call()
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            raise SlackDeliveryError(method, str(code or error)) from error
        except (SlackClientError, OSError) as error:
            raise SlackDeliveryError(method, type(error).__name__) from error
