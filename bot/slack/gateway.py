"""The one place that calls the Slack Web API for the domain's notifications.

Transient failures (429 with Retry-After, 5xx, connection errors) are retried by slack_sdk's
retry handlers; what still fails surfaces as `SlackDeliveryError`, which callers turn into a
message for the user instead of losing the database change.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.roster import UsergroupLookupError
from bot.runtime import metrics_registry
from bot.slack.blocks import SlackMessage

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
PERMALINKS_KEPT = 4096


# Slack error codes that mean "try again later", not "this can never work".
_TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class SlackDeliveryError(Exception):
    """Slack did not take the call; `error` is Slack's error code or a short description.
    `retryable` says whether the same call may work later (after `retry_after` seconds)."""

    def __init__(
        self, method: str, error: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        self.method = method
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(f"{method}: {error}")

    @property
    def rate_limited(self) -> bool:
        """Slack answered 429: nothing was done, the call can simply be repeated later."""
        return self.retry_after is not None


def make_web_client(
    token: str,
    *,
    base_url: str = DEFAULT_API_URL,
    timeout: int = 10,
    max_retries: int = 3,
    retry_failures: bool = True,
) -> WebClient:
    """A WebClient that retries 429s after Retry-After and, with `retry_failures`, also
    connection errors and 5xx: for reads and replies to the person who acted. The outbox
    uses `without_retries` instead."""
    handlers: list[Any] = [RateLimitErrorRetryHandler(max_retry_count=max_retries)]
    if retry_failures:
        handlers += [
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ]
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers)


def without_retries(client: WebClient) -> WebClient:
    """The same client, retrying nothing itself: for the outbox, which must neither sleep out
    a Retry-After inside a job nor repeat a post whose answer was lost (it records when to
    try again, and checks Slack's history before posting again)."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[],
    )


class SlackGateway:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        # A message's permalink never changes: asked of Slack once a message (`/case show`
        # links the card on every call), kept for the most recent few thousand.
        self._permalinks = functools.lru_cache(maxsize=PERMALINKS_KEPT)(self._fetch_permalink)

    def post(
        self,
        channel: str,
        content: SlackMessage,
        *,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post a message (into a thread when `thread_ts` is given); returns its ts."""
        response = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata=metadata,
                **content.as_kwargs(),
            ),
        )
        return str(response["ts"])

    def recent_messages(
        self, channel: str, *, thread_ts: str | None = None, pages: int = 5
    ) -> list[dict[str, Any]]:
        """The channel's latest messages (newest first) or the thread's (oldest first), with
        their metadata.

        Only Slack's own timestamps order messages, so this pages back through up to
        `pages` x 200 messages rather than filtering by our clock, which may differ."""
        messages: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(pages):
            response = self._history_page(channel, thread_ts, cursor)
            messages += list(response.get("messages") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return messages

    def message(
        self, channel: str, ts: str, *, thread_ts: str | None = None
    ) -> dict[str, Any] | None:
        """One message as Slack has it now; None if it is gone. A reply in a thread is
        looked for in its thread (`thread_ts`, when known), else after the channel's own
        messages. Raises SlackDeliveryError (e.g. `not_in_channel`)."""
        if thread_ts is None:
            found = self._call(
                "conversations.history",
                lambda: self.client.conversations_history(
                    channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
                ),
            )
            for candidate in found.get("messages") or []:
                if candidate.get("ts") == ts:
                    return dict(candidate)
        try:
            replies = self._call(
                "conversations.replies",
                lambda: self.client.conversations_replies(
                    channel=channel, ts=thread_ts or ts, latest=ts, oldest=ts, inclusive=True
                ),
            )
        except SlackDeliveryError as error:
            if error.error in ("thread_not_found", "message_not_found"):
                return None
            raise
        return next((dict(m) for m in replies.get("messages") or [] if m.get("ts") == ts), None)

    def _history_page(self, channel: str, thread_ts: str | None, cursor: str | None) -> Any:
        if thread_ts:
            return self._call(
                "conversations.replies",
                lambda: self.client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    cursor=cursor,
                    limit=200,
                    include_all_metadata=True,
                ),
            )
        return self._call(
            "conversations.history",
            lambda: self.client.conversations_history(
                channel=channel, cursor=cursor, limit=200, include_all_metadata=True
            ),
        )

    def update(
        self,
        channel: str,
        ts: str,
        content: SlackMessage,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Replace a message's content (and, when given, its metadata)."""
        self._call(
            "chat.update",
            lambda: self.client.chat_update(
                channel=channel, ts=ts, metadata=metadata, **content.as_kwargs()
            ),
        )

    def delete(self, channel: str, ts: str) -> None:
        self._call("chat.delete", lambda: self.client.chat_delete(channel=channel, ts=ts))

    def post_ephemeral(self, channel: str, user: str, content: SlackMessage) -> None:
        self._call(
            "chat.postEphemeral",
            lambda: self.client.chat_postEphemeral(
                channel=channel, user=user, **content.as_kwargs()
            ),
        )

    def direct_message_channel(self, user: str) -> str:
        opened = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=user)
        )
        return str(opened["channel"]["id"])

    def direct_message(self, user: str, content: SlackMessage) -> str:
        return self.post(self.direct_message_channel(user), content)

    def tell(self, user: str, channel: str | None, content: SlackMessage) -> None:
        """Show `content` to one user: ephemeral where they are, else in a DM."""
        if channel:
            try:
                self.post_ephemeral(channel, user, content)
                return
            except SlackDeliveryError as error:
                log.info("ephemeral to %s in %s failed (%s); sending a DM", user, channel, error)
        self.direct_message(user, content)

    def upload_file(
        self,
        channel: str,
        content: bytes,
        *,
        filename: str,
        title: str,
        thread_ts: str | None = None,
    ) -> None:
        self._call(
            "files.uploadV2",
            lambda: self.client.files_upload_v2(
                channel=channel,
                content=content,
                filename=filename,
                title=title,
                thread_ts=thread_ts,
            ),
        )

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        self._call("views.publish", lambda: self.client.views_publish(user_id=user, view=view))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def permalink(self, channel: str, ts: str) -> str | None:
        """The message's link, or None if Slack cannot say now (asked again next time)."""
        try:
            return self._permalinks(channel, ts)
        except SlackDeliveryError:
            return None

    def _fetch_permalink(self, channel: str, ts: str) -> str:
        response = self._call(
            "chat.getPermalink",
            lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts),
        )
        return str(response["permalink"])

    def time_zone(self, user: str) -> str | None:
        """The person's time zone as Slack has it (e.g. Europe/Berlin); None if unknown."""
        try:
            response = self._call("users.info", lambda: self.client.users_info(user=user))
        except SlackDeliveryError:
            return None
        zone = (response.get("user") or {}).get("tz")
        return str(zone) if zone else None

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
        """Every Web API call goes through here: counted by method and outcome."""
        started, outcome = time.perf_counter(), "error"
        try:
            response = call()
            outcome = "ok"
            return response
        except SlackApiError as error:
            failure = _delivery_error(method, error)
            outcome = "429" if failure.rate_limited else "error"
            raise failure from error
        except (SlackClientError, OSError) as error:
            # Timeouts and refused connections: Slack may well take the same call later.
            outcome = "timeout" if _timed_out(error) else "error"
            raise SlackDeliveryError(method, type(error).__name__, retryable=True) from error
        finally:
            metrics_registry.slack_call(method, outcome, time.perf_counter() - started)


def _timed_out(error: BaseException) -> bool:
    """A timeout, raised as it is or wrapped by urllib (URLError's reason)."""
    reason = getattr(error, "reason", None)
    return isinstance(error, TimeoutError) or isinstance(reason, TimeoutError)


def _delivery_error(method: str, error: SlackApiError) -> SlackDeliveryError:
    response = error.response
    code = str(response.get("error") or error) if response is not None else str(error)
    status = response.status_code if response is not None else 0
    retry_after = None
    if response is not None and status == 429:
        header = (response.headers or {}).get("Retry-After") or (response.headers or {}).get(
            "retry-after"
        )
        retry_after = float(header[0] if isinstance(header, list) else header or 1)
    retryable = status == 429 or status >= 500 or code in _TRANSIENT_ERRORS
    return SlackDeliveryError(method, code, retryable=retryable, retry_after=retry_after)
