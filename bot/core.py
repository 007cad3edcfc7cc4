"""What every flow works with (the database, the desk, the clock, who is on which team, the
case rules, the SLA clocks, Slack, the request inbox and who gets new cases), and what every
flow does alike: mark the Slack request done with its change, open a form, answer someone
after a form."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.cases.rules import CaseService
from bot.cases.views.replies import form_not_opened
from bot.clock import Clock
from bot.db import Database
from bot.desk import DeskConfig
from bot.inbox import Inbox
from bot.refusals import AlreadyDone
from bot.replays import record_first
from bot.requester import Requester
from bot.roster import Roster
from bot.routing.rules import Routing
from bot.sla.timers import SlaTracker
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackDeliveryError, SlackGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Core:
    db: Database
    desk: DeskConfig
    clock: Clock
    roster: Roster
    cases: CaseService
    sla: SlaTracker
    slack: SlackGateway
    inbox: Inbox
    routing: Routing


class Flow:
    """Base of the flows: the core's parts as plain attributes."""

    def __init__(self, core: Core) -> None:
        self.db = core.db
        self.desk = core.desk
        self.clock = core.clock
        self.roster = core.roster
        self.cases = core.cases
        self.sla = core.sla
        self.slack = core.slack
        self.inbox = core.inbox
        self.routing = core.routing

    def finish_request(self, session: Session, who: Requester) -> None:
        """Mark the Slack request done with its change; refused if it was carried out before
        (a request carried out again after its process died, that had in fact committed)."""
        if who.request_key is not None and not self.inbox.finish(session, who.request_key):
            raise AlreadyDone()
        if who.event_key is not None and not record_first(session, who.event_key, self.clock.now()):
            raise AlreadyDone()

    def show_modal(self, trigger_id: str | None, view: dict[str, object]) -> SlackMessage | None:
        """Open a form; None when it opened, else what to tell the person instead."""
        if not trigger_id:
            return form_not_opened(None)
        try:
            self.slack.open_view(trigger_id, view)
        except SlackDeliveryError as error:
            return form_not_opened(error.error)
        return None

    def tell(self, who: Requester, content: SlackMessage) -> None:
        """Answer someone outside a command (after a modal): ephemeral, or a DM."""
        try:
            self.slack.tell(who.user_id, who.channel_id, content)
        except SlackDeliveryError as error:
            log.warning("could not answer %s: %s", who.user_id, error)
