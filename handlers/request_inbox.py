"""Interactive requests are kept (bot/inbox.py) before they are acknowledged: a request seen
before is acknowledged and dropped, and one whose worker died is dispatched again. A `/case`
reading (`show`, `list`, `help`...) is not kept: it changes nothing, answering it twice harms
no one, and one lost with its process is typed again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from bot.cases.commands import changes_anything
from bot.inbox import Inbox, request_key
from bot.slack.signature import VERIFIED
from handlers.context import casedesk

log = logging.getLogger(__name__)

# In the Bolt context: the key of the request being carried out, and, on a request dispatched
# again after its first worker died, that same key.
REQUEST_KEY = "casedesk_request_key"
REPLAYED = "casedesk_replayed"


def register(app: App) -> None:
    app.middleware(keep_request)


def keep_request(
    req: BoltRequest, context: BoltContext, next: Callable[[], BoltResponse | None]
) -> Any:
    key = request_key(req.body) if req.mode == "http" and _changes(req.body) else None
    if key is None:
        return next()
    if context.get(REPLAYED) != key:
        # The edge hands Bolt the verified body as JSON (bot/runtime/server.py), in which a
        # NUL is escaped: it is kept, and dispatched again, as it is.
        content_type = (req.headers.get("content-type") or [""])[0]
        if not casedesk(context).inbox.receive(key, req.raw_body, content_type):
            log.info("a request received before came again (%s): ignored", key)
            return BoltResponse(status=200, body="")
    context[REQUEST_KEY] = key
    return next()


def dispatch(app: App, request: BoltRequest) -> BoltResponse:
    """`app.dispatch`, marking a kept request no listener took done at once (nothing will
    carry it out: a click on a button of an older version of the bot, say)."""
    response = app.dispatch(request)
    key = request_key_of(request.context)
    if response.status == 404 and key is not None:
        casedesk(request.context).inbox.finish_now(key)
    return response


def _changes(body: dict[str, Any]) -> bool:
    if "command" not in body:
        return True  # clicks, forms and shortcuts act on something
    return changes_anything(str(body.get("text") or ""))


def replay_unfinished(app: App, inbox: Inbox) -> str:
    """Carry out again the requests acknowledged by a process that did not finish them."""
    replayed = 0
    for key in inbox.due():
        request = inbox.take(key)
        if request is None:
            continue
        log.warning("carrying out request %s again: its first worker did not finish", key)
        dispatch(
            app,
            BoltRequest(
                body=request.raw_body,
                headers={"content-type": [request.content_type]},
                context={REPLAYED: key, VERIFIED: True},  # it was verified when it came
            ),
        )
        replayed += 1
    forgotten = inbox.forget_done()
    return f"{replayed} request(s) carried out again, {forgotten} old one(s) forgotten"


def request_key_of(context: BoltContext) -> str | None:
    key = context.get(REQUEST_KEY)
    return key if isinstance(key, str) else None
