"""Keeps Slack in step with a case: its card in the team channel and replies in its thread.

`queue` decides, inside the change's transaction, which Slack writes the change needs and puts
them in the outbox; nothing here calls Slack. The card itself is rendered when it is delivered
(`render_card`), from the case as it is then, so the latest state always wins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cases.changes import CaseChange
from bot.cases.rules import CaseService
from bot.cases.views.card import case_card, description_message, moved_card, thread_update
from bot.clock import Clock
from bot.desk import DeskConfig
from bot.intake.sync import queue_conversation_update
from bot.sla.sync import queue_alert_updates
from bot.sla.timers import SlaTracker
from bot.slack.blocks import SlackMessage
from bot.slack.queue import CARD, CARD_UPDATE, UPDATE, CardRender, enqueue
from models import Case, CaseAction, OutboxMessage

# Conversation in the thread is already visible there; the bot does not echo it.
_SILENT_ACTIONS = frozenset(
    {CaseAction.OPENED, CaseAction.RESPONDED, CaseAction.CUSTOMER_REPLIED, CaseAction.COMMENTED}
)
CASE_THREAD = "case_thread"  # a post in the thread of the case's card
CARD_MOVED = "card_moved"  # the old card of a case that moved teams
MOVED_THREAD = "moved_thread"  # the note in the old thread of a case that moved teams


class CaseSync:
    def __init__(
        self, *, desk: DeskConfig, clock: Clock, cases: CaseService, sla: SlaTracker
    ) -> None:
        self.desk = desk
        self.clock = clock
        self.cases = cases
        self.sla = sla

    def queue(self, session: Session, change: CaseChange) -> list[int]:
        """Queue what Slack must show after the change; returns the outbox row ids."""
        case, now = change.case, self.clock.now()
        rows: list[OutboxMessage] = []
        if change.moved_from:
            rows += self._retire_card(session, change, *change.moved_from, now=now)
        if not case.card_ts and not self.card_outstanding(session, case.id):
            rows.append(self._row(session, case, CARD, now))
            if case.description:
                rows.append(self._thread_row(session, case, description_message(case), now))
        elif change.card_changed:
            rows.append(self._row(session, case, CARD_UPDATE, now))
        if change.card_changed:
            rows += queue_alert_updates(session, case, now)
        rows += queue_conversation_update(
            session, change, self.desk, self.sla.policy_for(case), now
        )
        announce = [event for event in change.events if event.action not in _SILENT_ACTIONS]
        if announce:
            content = thread_update(case, announce, self.desk)
            rows.append(self._thread_row(session, case, content, now))
        session.flush()
        return [row.id for row in rows]

    def queue_card_update(self, session: Session, case: Case) -> int:
        """Re-render the card after a change made outside a flow (an SLA breach)."""
        row = self._row(session, case, CARD_UPDATE, self.clock.now())
        session.flush()
        return row.id

    def _row(self, session: Session, case: Case, kind: str, now: datetime) -> OutboxMessage:
        channel = case.channel_id or self.desk.team(case.team_key).channel
        op = UPDATE if kind == CARD_UPDATE else "post"
        return enqueue(session, kind=kind, op=op, channel_id=channel, now=now, case_id=case.id)

    def _thread_row(
        self, session: Session, case: Case, content: SlackMessage, now: datetime
    ) -> OutboxMessage:
        return enqueue(
            session,
            kind=CASE_THREAD,
            channel_id=case.channel_id or self.desk.team(case.team_key).channel,
            content=content,
            now=now,
            in_case_thread=True,
            case_id=case.id,
        )

    def _retire_card(
        self, session: Session, change: CaseChange, channel_id: str, card_ts: str, *, now: datetime
    ) -> list[OutboxMessage]:
        """The case moved teams: mark its old card and say so in the old thread."""
        team_name = self.desk.team(change.case.team_key).name
        return [
            enqueue(
                session,
                kind=CARD_MOVED,
                op=UPDATE,
                channel_id=channel_id,
                target_ts=card_ts,
                content=moved_card(change.case, team_name),
                now=now,
            ),
            enqueue(
                session,
                kind=MOVED_THREAD,
                channel_id=channel_id,
                thread_ts=card_ts,
                content=thread_update(change.case, change.events, self.desk),
                now=now,
            ),
        ]

    # The deliverer's view of cards (bot/slack/queue.py CardSource)

    def render_card(self, session: Session, case_id: int) -> CardRender | None:
        case = session.get(Case, case_id)
        if case is None:
            return None
        now = self.clock.now()
        content = case_card(case, self.desk, now, self.sla.status(case, now))
        team = self.desk.team(case.team_key)
        return CardRender(team.channel, content, case.channel_id, case.card_ts)

    def card_outstanding(self, session: Session, case_id: int) -> bool:
        pending = session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.case_id == case_id,
                OutboxMessage.kind == CARD,
                OutboxMessage.state.in_(("pending", "sending")),
            )
            .limit(1)
        )
        return pending is not None

    def card_posted(self, session: Session, case_id: int, channel_id: str, ts: str) -> bool:
        case = self.cases.lock(session, case_id)
        if channel_id != self.desk.team(case.team_key).channel:
            # The case moved teams while this card was on its way (an in-doubt post found
            # later): it goes, and the case's card is posted where its team is now.
            self._row(session, case, CARD, self.clock.now())
            return False
        earlier = self.cases.attach_card(session, number=case_id, channel_id=channel_id, card_ts=ts)
        return earlier is None
