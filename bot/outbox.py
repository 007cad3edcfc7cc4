"""The Slack outbox: messages decided inside a transaction, delivered after it commits.

Delivery guarantees:
- nothing is dropped: 429s wait for Retry-After, 5xx and timeouts back off and retry;
- nothing is posted twice after it succeeded: each row is marked `sending` before the post and
  `sent` after; a row left `sending` by a crash is "in doubt", and before it is sent again the
  channel's recent history is searched for the message metadata that tags it with its id;
- at most about one message a second per channel, Slack's posting rate.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import Database
from bot.ids import ActionId
from bot.slack import SlackDeliveryError, SlackGateway
from bot.views.blocks import SlackMessage
from models import OutboxMessage

log = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "casedesk_outbox"
# A `sending` row older than this belongs to a process that died mid-post.
IN_DOUBT_AFTER = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=15)
BATCH = 200


def enqueue(
    session: Session,
    *,
    kind: str,
    channel_id: str,
    content: SlackMessage,
    now: datetime,
    thread_ts: str | None = None,
    case_id: int | None = None,
    link_to: tuple[str, str] | None = None,
) -> OutboxMessage:
    """Queue a message in the caller's transaction. `link_to` (channel, ts) asks the deliverer
    to fill the `url` of buttons with action id OPEN_LINK with that message's permalink."""
    payload: dict[str, Any] = {"text": content.text, "blocks": content.blocks}
    if link_to:
        payload["link_to"] = list(link_to)
    message = OutboxMessage(
        kind=kind,
        channel_id=channel_id,
        thread_ts=thread_ts,
        payload=payload,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        case_id=case_id,
    )
    session.add(message)
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0  # in-doubt rows found already posted

    def __str__(self) -> str:
        return f"{self.sent} message(s) sent, {self.retried} to retry, {self.failed} failed" + (
            f", {self.recovered} found already posted" if self.recovered else ""
        )


class OutboxDeliverer:
    def __init__(
        self,
        db: Database,
        slack: SlackGateway,
        clock: Clock,
        *,
        per_channel_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.slack = slack
        self.clock = clock
        self.per_channel_interval = per_channel_interval
        self._sleep = sleep
        self._last_post: dict[str, float] = {}

    def deliver_due(self) -> DeliveryReport:
        """Send every message whose time has come; returns what happened."""
        report = DeliveryReport()
        for message_id in self._due_ids():
            claimed = self._claim(message_id)
            if claimed is not None:
                self._deliver(claimed, report)
        return report

    def _due_ids(self) -> list[int]:
        now = self.clock.now()
        with self.db.read_only() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.id)
                    .where(
                        or_(
                            (OutboxMessage.state == "pending")
                            & (OutboxMessage.next_attempt_at <= now),
                            (OutboxMessage.state == "sending")
                            & (OutboxMessage.sending_since <= now - IN_DOUBT_AFTER),
                        )
                    )
                    .order_by(OutboxMessage.id)
                    .limit(BATCH)
                )
            )

    def _claim(self, message_id: int) -> tuple[OutboxMessage, bool] | None:
        """Mark a row `sending` (so no other deliverer takes it). Returns it and whether it was
        in doubt, or None if someone else has it or it is no longer due."""
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            message = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if message is None or message.state == "sent" or message.state == "failed":
                return None
            in_doubt = message.state == "sending"
            if in_doubt and message.sending_since and message.sending_since > now - IN_DOUBT_AFTER:
                return None
            if not in_doubt and message.next_attempt_at > now:
                return None
            message.state, message.sending_since = "sending", now
            message.attempts += 1
            return message, in_doubt

    def _deliver(self, claimed: tuple[OutboxMessage, bool], report: DeliveryReport) -> None:
        message, in_doubt = claimed
        if in_doubt:
            try:
                found = self._already_posted(message)
            except SlackDeliveryError as error:
                if not error.retryable:  # e.g. missing_scope: it will never be readable
                    self._give_up(message.id, error, report)
                    return
                # Cannot tell whether it went out: stay in doubt and look again later rather
                # than risk posting it twice.
                log.warning("outbox %s in doubt, history unreadable: %s", message.id, error)
                report.retried += 1
                return
            if found:
                self._mark_sent(message.id, found)
                report.recovered += 1
                return
        try:
            self._resolve_direct_message(message)
        except SlackDeliveryError as error:
            self._mark_failed_attempt(message, error, report)
            return
        self._pace(message.channel_id)
        try:
            ts = self.slack.post(
                message.channel_id,
                self._content(message),
                thread_ts=message.thread_ts,
                metadata={
                    "event_type": METADATA_EVENT_TYPE,
                    "event_payload": {"outbox_id": message.id, "kind": message.kind},
                },
            )
        except SlackDeliveryError as error:
            self._mark_failed_attempt(message, error, report)
            return
        self._mark_sent(message.id, ts)
        report.sent += 1
        self._attach_file(message, ts)

    def _resolve_direct_message(self, message: OutboxMessage) -> None:
        """Messages to a person are queued with their user ID; post them (and look for them
        when in doubt) in the DM conversation Slack keeps with the bot."""
        if not message.channel_id.startswith(("U", "W")):
            return
        channel = self.slack.direct_message_channel(message.channel_id)
        with self.db.unit_of_work() as session:
            row = session.get(OutboxMessage, message.id)
            if row is not None:
                row.channel_id = channel
        message.channel_id = channel

    def _give_up(self, message_id: int, error: SlackDeliveryError, report: DeliveryReport) -> None:
        with self.db.unit_of_work() as session:
            row = session.get(OutboxMessage, message_id)
            if row is not None:
                row.state, row.last_error = "failed", str(error)
        report.failed += 1
        log.error("outbox %s cannot be checked or delivered: %s", message_id, error)

    def _attach_file(self, message: OutboxMessage, ts: str) -> None:
        """Upload the message's file (a chart) into its thread. The message itself is already
        out, so a failed upload is logged and left at that."""
        attachment = message.payload.get("file")
        if not attachment:
            return
        try:
            self.slack.upload_file(
                message.channel_id,
                base64.b64decode(attachment["content_b64"]),
                filename=str(attachment["filename"]),
                title=str(attachment["title"]),
                thread_ts=ts,
            )
        except (SlackDeliveryError, KeyError, ValueError) as error:
            log.warning(
                "outbox %s: file upload failed (%s); the message went out", message.id, error
            )

    def _content(self, message: OutboxMessage) -> SlackMessage:
        blocks = message.payload.get("blocks") or []
        link_to = message.payload.get("link_to")
        if link_to:
            url = self.slack.permalink(str(link_to[0]), str(link_to[1]))
            blocks = [_with_link(block, url) for block in blocks]
        return SlackMessage(text=str(message.payload.get("text", "")), blocks=blocks)

    def _already_posted(self, message: OutboxMessage) -> str | None:
        """The ts of this row's message if Slack has it (found by its metadata), else None.
        Raises SlackDeliveryError when the history cannot be read."""
        recent = self.slack.recent_messages(message.channel_id, thread_ts=message.thread_ts)
        for posted in recent:
            metadata = posted.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT_TYPE
                and payload.get("outbox_id") == message.id
            ):
                return str(posted.get("ts"))
        return None

    def _mark_sent(self, message_id: int, ts: str) -> None:
        with self.db.unit_of_work() as session:
            message = session.get(OutboxMessage, message_id)
            if message is not None:
                message.state, message.sent_ts = "sent", ts
                message.sent_at, message.last_error = self.clock.now(), None

    def _mark_failed_attempt(
        self, message: OutboxMessage, error: SlackDeliveryError, report: DeliveryReport
    ) -> None:
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            row = session.get(OutboxMessage, message.id)
            if row is None:
                return
            row.last_error = str(error)
            if error.rate_limited:
                # Slack refused before posting: simply try again after Retry-After.
                wait = timedelta(seconds=error.retry_after or 1)
                row.state, row.next_attempt_at = "pending", now + wait
                report.retried += 1
                log.info("outbox %s: rate limited; retrying in %s", row.id, wait)
            elif error.retryable:
                # A timeout or 5xx may come after Slack posted: stay in doubt, so the next try
                # looks for the message in the channel's history before posting again.
                backoff = _backoff(row.attempts)
                row.state, row.next_attempt_at = "sending", now + backoff
                row.sending_since = now - IN_DOUBT_AFTER + backoff  # in doubt from then on
                report.retried += 1
                log.info("outbox %s: %s; checking and retrying in %s", row.id, error, backoff)
            else:
                row.state = "failed"
                report.failed += 1
                log.error("outbox %s cannot be delivered: %s", row.id, error)

    def deliver(self, message_ids: list[int]) -> DeliveryReport:
        """Send these queued messages now if they are due (e.g. a survey just queued)."""
        report = DeliveryReport()
        for message_id in message_ids:
            claimed = self._claim(message_id)
            if claimed is not None:
                self._deliver(claimed, report)
        return report

    def _pace(self, channel_id: str) -> None:
        last = self._last_post.get(channel_id)
        if last is not None:
            wait = self.per_channel_interval - (time.monotonic() - last)
            if wait > 0:
                self._sleep(wait)
        self._last_post[channel_id] = time.monotonic()


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _with_link(block: dict[str, Any], url: str | None) -> dict[str, Any]:
    """Fill the permalink into "Open case" buttons; drop them if there is no link."""
    if block.get("type") != "actions":
        return block
    elements = []
    for element in block.get("elements", []):
        if element.get("action_id") == ActionId.OPEN_LINK:
            if not url:
                continue
            element = {**element, "url": url}
        elements.append(element)
    return {**block, "elements": elements}
