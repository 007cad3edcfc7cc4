"""Intake flows: a Slack message becomes a case, from the message shortcut "Open a case"
(a form prefilled from the message), an emoji reaction (at once), or by itself in a help
channel (`intake.auto`); the requester is the message's author and is answered in its thread.

Each opens the case in one unit of work with what Slack must show queued (bot/cases/sync.py
and bot/intake/sync.py), then delivers; Slack failing never loses the case. A message that
is a case already is refused with `AlreadyACase`, told privately to the person who asked.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.cases.changes import CaseChange
from bot.cases.sync import CaseSync
from bot.cases.views.modals import TEXT_MAX
from bot.cases.views.refusals import describe
from bot.cases.views.replies import delivery_note, notice
from bot.core import Core, Flow
from bot.desk import Team
from bot.home.flow import InsightFlows
from bot.intake.messages import CaseDraft, IncomingMessage, draft_case, is_pleasantry
from bot.intake.refusals import AlreadyACase, CouldNotRead, MessageGone, NotInChannel
from bot.intake.rules import IntakeService
from bot.intake.views import MessageForm, open_from_message_modal, opened_from_message
from bot.refusals import Refusal
from bot.replays import record_first
from bot.requester import Requester
from bot.slack.blocks import SlackMessage
from bot.slack.gateway import SlackDeliveryError
from bot.slack.outbox import DELIVERY_WAIT, OutboxDeliverer
from bot.text import fit
from models import Case, CaseSource, EventSource

log = logging.getLogger(__name__)

# Slack's answers that mean the bot cannot read the channel (it was never invited).
_NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "missing_scope"})

OpenChange = Callable[[Session], CaseChange | None]


class IntakeFlows(Flow):
    def __init__(
        self,
        core: Core,
        *,
        intake: IntakeService,
        sync: CaseSync,
        outbox: OutboxDeliverer,
        insights: InsightFlows,
    ) -> None:
        super().__init__(core)
        self.intake = intake
        self.sync = sync
        self.outbox = outbox
        self.insights = insights

    # The message shortcut

    def shortcut(
        self, who: Requester, shared: IncomingMessage, trigger_id: str | None
    ) -> SlackMessage | None:
        """ "Open a case" on a message: the form, prefilled; None when it opened."""
        try:
            incoming = self._read(shared, trust_shared=True)
            with self.db.read_only() as session:
                self.intake.check_new(session, incoming)
        except Refusal as refusal:
            return notice(describe(self._linked(refusal)))
        team = self.desk.team_for_channel(incoming.channel_id)
        view = open_from_message_modal(self.desk, team, incoming, draft_case(incoming))
        return self.show_modal(trigger_id, view)

    def submit(
        self, who: Requester, form: MessageForm, values: dict[str, str]
    ) -> SlackMessage | None:
        """The prefilled form was sent: open the case for the message's author."""
        try:
            incoming = self._read(IncomingMessage(form.channel_id, form.ts, None, ""))
        except Refusal as refusal:
            return notice(describe(self._linked(refusal)))
        draft = draft_case(incoming)
        description = values.get("description", "")
        if description.strip() == fit(draft.description, TEXT_MAX).strip():
            description = draft.description  # left as shown: the whole message
        chosen = CaseDraft(values.get("title", "") or draft.title, description, draft.cut_from)
        team = self.desk.teams.get(values.get("team", "")) or self.desk.team_for_channel(
            incoming.channel_id
        )
        priority = values.get("priority") or None
        return self._open_for(who, incoming, CaseSource.SHORTCUT, team, chosen, priority=priority)

    # An emoji reaction

    def reaction(self, who: Requester, *, event_id: str | None, channel_id: str, ts: str) -> None:
        """Someone reacted to a message with the intake emoji of the channel's team."""
        try:
            incoming = self._read(IncomingMessage(channel_id, ts, None, ""))
        except Refusal as refusal:
            self.tell(who, notice(describe(refusal)))
            return
        team = self.desk.team_for_channel(channel_id)
        draft = draft_case(incoming)
        answer = self._open_for(who, incoming, CaseSource.EMOJI, team, draft, event_id=event_id)
        if answer is not None:
            self.tell(who, answer)

    def intake_emoji(self, channel_id: str) -> str:
        return self.desk.team_for_channel(channel_id).intake.emoji

    # A message in a help channel

    def channel_message(self, *, event_id: str | None, incoming: IncomingMessage) -> None:
        """A new message in a team's help channel opens a case (or joins its author's)."""
        team = self.desk.routed_team(incoming.channel_id)
        if team is None or not team.intake.auto or incoming.thread_ts or not incoming.by_a_person:
            return
        assert incoming.author_id is not None
        self.roster.warm()
        if self.roster.is_agent(team, incoming.author_id):
            return  # the team's own people talk in their channel
        opening = not is_pleasantry(incoming.text, team.intake.ignore)
        permalink = self.slack.permalink(incoming.channel_id, incoming.ts) if opening else None

        def capture(session: Session) -> CaseChange | None:
            return self._capture(session, team, incoming, opening=opening, permalink=permalink)

        self._open(None, incoming, capture, event_id=event_id)

    def _capture(
        self,
        session: Session,
        team: Team,
        incoming: IncomingMessage,
        *,
        opening: bool,
        permalink: str | None,
    ) -> CaseChange | None:
        now = self.clock.now()
        joined = self.intake.recent_case(session, incoming, team.intake.group_within, now)
        if joined is not None:
            return self.intake.join(session, incoming, joined, now)
        if not opening:
            return None  # only thanks: nothing to open
        assert incoming.author_id is not None
        author = Requester(
            incoming.author_id, incoming.channel_id, EventSource.CHANNEL, at=incoming.written_at
        )
        return self.intake.open_from(
            session,
            incoming,
            actor=author.actor,
            source=CaseSource.CHANNEL,
            team=team,
            draft=draft_case(incoming),
            permalink=permalink,
        )

    # Plumbing

    def _open_for(
        self,
        who: Requester,
        incoming: IncomingMessage,
        source: CaseSource,
        team: Team,
        draft: CaseDraft,
        *,
        priority: str | None = None,
        event_id: str | None = None,
    ) -> SlackMessage | None:
        """Open the case `who` asked for from the message (the link to it fetched first)."""
        permalink = self.slack.permalink(incoming.channel_id, incoming.ts)
        return self._open(
            who,
            incoming,
            lambda session: self.intake.open_from(
                session,
                incoming,
                actor=who.actor,
                source=source,
                team=team,
                draft=draft,
                priority=priority,
                permalink=permalink,
            ),
            event_id=event_id,
        )

    def _open(
        self,
        who: Requester | None,
        incoming: IncomingMessage,
        change_case: OpenChange,
        *,
        event_id: str | None = None,
    ) -> SlackMessage | None:
        """One change in one unit of work (an event recorded once with it), its Slack
        writes queued, then delivered. What to tell `who`; None when there is nothing to
        tell (a redelivered event, a message that opened nothing)."""
        self.roster.warm()
        try:
            with self.db.unit_of_work() as session:
                if event_id and not record_first(session, f"intake:{event_id}", self.clock.now()):
                    return None
                if who is not None:
                    self.finish_request(session, who)
                change = change_case(session)
                if change is not None:
                    change = self.routing.route_new(session, change)  # a case just opened
                queued = self.sync.queue(session, change) if change is not None else []
        except Refusal as refusal:
            return notice(describe(self._linked(refusal)))
        if change is None:
            return None
        report = self.outbox.deliver_within(queued, DELIVERY_WAIT)
        self.insights.refresh_homes_after(change)
        return notice(opened_from_message(change, self.desk) + delivery_note(report))

    def _read(self, incoming: IncomingMessage, *, trust_shared: bool = False) -> IncomingMessage:
        """The message as Slack has it now. Refused when the bot cannot read the channel or
        the message is gone; when Slack does not answer, what the shortcut showed is used
        (`trust_shared`), else the person is asked to try again."""
        try:
            raw = self.slack.message(incoming.channel_id, incoming.ts, thread_ts=incoming.thread_ts)
        except SlackDeliveryError as error:
            if error.error in _NOT_IN_CHANNEL:
                raise NotInChannel(incoming.channel_id) from None
            if trust_shared:
                return incoming
            raise CouldNotRead(incoming.channel_id, error.error) from None
        if raw is None:
            raise MessageGone(incoming.channel_id)
        return IncomingMessage.from_slack(incoming.channel_id, raw)

    def _linked(self, refusal: Refusal) -> Refusal:
        """AlreadyACase with a link to the case's card, where Slack gives one."""
        if not isinstance(refusal, AlreadyACase):
            return refusal
        with self.db.read_only() as session:
            case = session.get(Case, refusal.case_id)
            where = (case.channel_id, case.card_ts) if case is not None else (None, None)
        if where[0] and where[1]:
            return dataclasses.replace(refusal, permalink=self.slack.permalink(where[0], where[1]))
        return refusal
