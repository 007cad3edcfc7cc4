"""How every listener here is declared: ack at once, then do the work on the work pool.

Bolt runs a listener on the thread that answers Slack, which must come within 3 s. A listener
declared with `after_ack` only acks and hands the request over to the work pool
(bot/runtime/executor.py), so work stuck on a hanging Slack never delays the ack of the next
request.
`after_checked_ack` first checks a modal's input and answers problems in the modal itself,
as Slack needs that answer in the ack.

Each request is kept in the inbox before its ack (handlers/request_inbox.py), so a replayed body is
dropped there and an acknowledged request whose process died is carried out again; the work
marks it done when it is over. Work that fails is logged and the user is told, as Bolt's error
handler does for failures before the ack.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.cases.views.replies import SOMETHING_WENT_WRONG
from bot.inbox import Inbox
from bot.requester import Requester, slack_moment
from bot.runtime import observability
from bot.runtime.casedesk import Casedesk
from bot.slack.blocks import SlackMessage
from handlers.context import casedesk
from handlers.request_inbox import request_key_of
from models import EventSource

log = logging.getLogger(__name__)

# A request that waited this long for a worker renews its hold in the inbox before its work.
RENEW_AFTER = 30.0


@dataclass(frozen=True)
class Interaction:
    """What the work of one request gets: Slack's payload, the way to answer, the app."""

    body: dict[str, Any]
    respond: Respond | None
    context: BoltContext
    received: float  # time.monotonic() when it was acknowledged

    @property
    def app(self) -> Casedesk:
        return casedesk(self.context)

    @property
    def key(self) -> str | None:
        """The request's key in the inbox (bot/inbox.py), if it is kept there."""
        return request_key_of(self.context)

    def finish(self) -> None:
        """The request's work is over (a change marked it done already; a reading, a
        refusal or a failure does here)."""
        if self.key is None:
            return
        inbox = self.app.inbox
        if inbox.finish_soon(self.key):  # the flush is work too: wait_idle() waits for it
            self.app.executor.work.submit(_flush, inbox)

    def who(self, user_id: str, channel_id: str | None, source: EventSource) -> Requester:
        """The person who acted, carrying this request so their change marks it done."""
        actions = self.body.get("actions") or [{}]
        at = slack_moment(actions[0].get("action_ts"))  # a click: when it was clicked
        return Requester(user_id, channel_id, source, request_key=self.key, at=at)

    def reply(self, message: SlackMessage, *, replace_original: bool | None = None) -> None:
        """Answer the person who acted, privately, through the request's response URL."""
        if self.respond is not None and self.body.get("response_url"):
            self.respond(
                **message.as_kwargs(), response_type="ephemeral", replace_original=replace_original
            )


Work = Callable[[Interaction], None]
# The input problems of a modal submission, by block id (empty when there are none).
Check = Callable[[dict[str, Any]], dict[str, str]]
Listener = Callable[[Ack, dict[str, Any], Respond, BoltContext], None]


def after_ack(work: Work) -> Listener:
    """A Bolt listener that acks, then runs `work` on the work pool."""
    return _listener(work, None)


def after_checked_ack(check: Check) -> Callable[[Work], Listener]:
    """Like `after_ack` for modal submissions: `check(view)` finds what to correct first."""
    return lambda work: _listener(work, check)


def _listener(work: Work, check: Check | None) -> Listener:
    def listener(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        interaction = Interaction(body, respond, context, received=time.monotonic())
        errors = check(body.get("view") or {}) if check is not None else {}
        if errors:
            ack(response_action="errors", errors=errors)
            observability.acknowledged(context)
            interaction.finish()  # the person corrects the form: a new request
            observability.finished(context, failed=False)
            return
        ack()
        observability.acknowledged(context)
        casedesk(context).executor.work.submit(_carry_out, work, interaction)

    listener.__name__ = listener.__qualname__ = work.__name__  # Bolt names listeners in logs
    listener.__doc__ = work.__doc__
    return listener


def _carry_out(work: Work, interaction: Interaction) -> None:
    if interaction.key is not None and time.monotonic() - interaction.received > RENEW_AFTER:
        # It waited long in the queue (Slack hangs): hold it again before working on it.
        interaction.app.inbox.renew(interaction.key)
    failed = True
    try:
        work(interaction)
        failed = False
    except Exception:
        # Done all the same: the person is told to try again, so it must not also be
        # carried out again by itself.
        log.exception("unhandled error in %s", work.__name__)
        tell_it_went_wrong(interaction.body, interaction.respond)
    finally:
        interaction.finish()
        observability.finished(interaction.context, failed=failed)


def _flush(inbox: Inbox) -> None:
    try:
        inbox.flush()
    except Exception:  # e.g. the database is gone: those requests are carried out again later
        log.exception("could not mark finished requests done")


def tell_it_went_wrong(body: dict[str, Any], respond: Respond | None) -> None:
    """Tell the person who acted that we failed them, where Slack gave a way to."""
    if respond is None or not body.get("response_url"):
        return
    try:
        respond(text=SOMETHING_WENT_WRONG, response_type="ephemeral", replace_original=False)
    except Exception:
        log.exception("could not tell the user about the error")
