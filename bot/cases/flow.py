"""Flows: what happens when someone acts on a case, end to end.

A flow runs the domain change in one unit of work, then tells Slack about it: the card is
created or updated, the thread gets a reply, the actor gets an ephemeral answer. Slack failures
never undo the database change; they become a note in the actor's answer instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.cases.changes import CaseChange
from bot.cases.commands import BY_NAME, Invocation, Subcommand, parse_case_command
from bot.cases.queries import latest_events, list_cases
from bot.cases.refusals import Outdated
from bot.cases.repeats import JustOpened
from bot.cases.sync import CaseSync
from bot.cases.views import modals
from bot.cases.views.confirmations import confirmation, just_opened
from bot.cases.views.refusals import describe
from bot.cases.views.replies import (
    PAGE_SIZE,
    case_details,
    case_list,
    delivery_note,
    help_message,
    notice,
    sla_explanation,
)
from bot.core import Core, Flow
from bot.csat.flow import Surveys
from bot.home.flow import InsightFlows
from bot.refusals import Refusal
from bot.requester import Requester
from bot.routing.flow import RoutingFlows
from bot.slack.blocks import SlackMessage
from bot.slack.outbox import DELIVERY_WAIT, OutboxDeliverer
from models import CaseAction

log = logging.getLogger(__name__)


class CaseFlows(Flow):
    def __init__(
        self,
        core: Core,
        *,
        sync: CaseSync,
        surveys: Surveys,
        outbox: OutboxDeliverer,
        insights: InsightFlows,
        people: RoutingFlows,
    ) -> None:
        super().__init__(core)
        self.sync = sync
        self.surveys = surveys
        self.outbox = outbox
        self.insights = insights
        self.people = people

    # The /case command

    def run_command_text(
        self, text: str, who: Requester, *, trigger_id: str | None
    ) -> SlackMessage | None:
        """Carry out `/case <text>`. None means a modal was opened instead."""
        try:
            command = parse_case_command(text)
        except Refusal as refusal:
            return notice(describe(refusal))
        return BY_NAME[command.name].run(self, Invocation(command, who, trigger_id))

    def help(
        self, subcommands: tuple[Subcommand, ...], *, unknown: str, suggestion: str | None
    ) -> SlackMessage:
        return help_message(
            [(entry.audience, entry.usage) for entry in subcommands], unknown, suggestion
        )

    def stats(self, who: Requester, *, window: str, team_key: str | None) -> SlackMessage:
        return self.insights.stats(who, window=window, team_key=team_key)

    def away(self, who: Requester, said: str) -> SlackMessage:
        return self.people.away(who, said)

    def back(self, who: Requester) -> SlackMessage:
        return self.people.back(who)

    def who(self, who: Requester, team_key: str | None) -> SlackMessage:
        return self.people.who(who, team_key)

    # Changes

    def open_case(
        self,
        who: Requester,
        *,
        title: str,
        description: str = "",
        priority: str | None = None,
        team_key: str | None = None,
    ) -> SlackMessage:
        try:
            return self._apply(
                who,
                lambda session: self.routing.route_new(
                    session,
                    self.cases.open(
                        session,
                        actor=who.actor,
                        title=title,
                        description=description,
                        priority=priority,
                        team_key=team_key,
                        channel_id=who.channel_id,
                    ),
                ),
            )
        except JustOpened as repeat:
            return notice(just_opened(repeat, self.desk))

    def claim(self, who: Requester, number: int) -> SlackMessage:
        return self._apply(
            who, lambda session: self.cases.claim(session, number=number, actor=who.actor)
        )

    def assign(self, who: Requester, number: int, assignee_id: str) -> SlackMessage:
        return self._apply(
            who,
            lambda session: self.cases.assign(
                session, number=number, actor=who.actor, assignee_id=assignee_id
            ),
        )

    def unassign(self, who: Requester, number: int) -> SlackMessage:
        return self._apply(
            who, lambda session: self.cases.unassign(session, number=number, actor=who.actor)
        )

    def escalate(
        self, who: Requester, number: int, *, reason: str, to_team_key: str | None = None
    ) -> SlackMessage:
        return self._apply(
            who,
            lambda session: self.cases.escalate(
                session, number=number, actor=who.actor, reason=reason, to_team_key=to_team_key
            ),
        )

    def pending(self, who: Requester, number: int, reason: str) -> SlackMessage:
        return self._apply(
            who,
            lambda session: self.cases.pending(
                session, number=number, actor=who.actor, reason=reason
            ),
        )

    def resume(self, who: Requester, number: int) -> SlackMessage:
        return self._apply(
            who, lambda session: self.cases.resume(session, number=number, actor=who.actor)
        )

    def close(self, who: Requester, number: int, resolution: str) -> SlackMessage:
        def close_and_survey(session: Session) -> tuple[CaseChange, list[int]]:
            change = self.cases.close(
                session, number=number, actor=who.actor, resolution=resolution
            )
            survey = self.surveys.ask_after_close(session, change.case)
            # Sent now only if it has no delay; the rest is the scheduler's.
            return change, [survey] if survey is not None else []

        return self._apply_queuing(who, close_and_survey)

    def reopen(self, who: Requester, number: int, reason: str) -> SlackMessage:
        return self._apply(
            who,
            lambda session: self.cases.reopen(
                session, number=number, actor=who.actor, reason=reason
            ),
        )

    def note(self, who: Requester, number: int, text: str) -> SlackMessage:
        return self._apply(
            who,
            lambda session: self.cases.note(session, number=number, actor=who.actor, text=text),
        )

    def set_priority(self, who: Requester, number: int, priority: str) -> SlackMessage:
        return self._apply(
            who,
            lambda session: self.cases.set_priority(
                session, number=number, actor=who.actor, priority=priority
            ),
        )

    def record_thread_message(
        self,
        *,
        event_id: str | None,
        channel_id: str,
        thread_ts: str,
        message_ts: str,
        user_id: str,
    ) -> None:
        """A human wrote in a thread; if it is a case thread, the message is recorded."""
        self.roster.warm()
        with self.db.unit_of_work() as session:
            change = self.cases.record_thread_message(
                session,
                event_id=event_id,
                channel_id=channel_id,
                thread_ts=thread_ts,
                message_ts=message_ts,
                user_id=user_id,
            )
            queued = self.sync.queue(session, change) if change is not None else []
        self.outbox.deliver_within(queued, DELIVERY_WAIT)

    # Modals

    def open_modal(self, who: Requester, trigger_id: str | None) -> SlackMessage | None:
        """The "open a case" modal, for `/case open` without a title."""
        team = self.desk.team_for_channel(who.channel_id)
        return self.show_modal(trigger_id, modals.open_case_modal(self.desk, team, who.channel_id))

    def open_case_modal(
        self,
        who: Requester,
        number: int,
        action: CaseAction,
        trigger_id: str | None,
        *,
        to_team_key: str | None = None,
    ) -> SlackMessage | None:
        """The escalate, close or reopen modal; refused up front if the change is."""
        try:
            with self.db.read_only() as session:
                case = self.cases.check(session, number=number, actor_id=who.user_id, action=action)
        except Refusal as refusal:
            return notice(describe(refusal))
        build = modals.BY_ACTION[action].build
        assert build is not None, f"{action} has no modal of its own"
        return self.show_modal(trigger_id, build(case, self.desk, who.channel_id, to_team_key))

    def submit(self, modal: modals.CaseModal, sent: modals.Submission) -> SlackMessage:
        """A case modal was submitted: carry out the change it asked words for."""
        if modal.build is not None and sent.context.case_number is None:
            return notice(describe(Outdated("form")))
        return modal.submit(self, sent)

    # Reading

    def show(self, number: int) -> SlackMessage:
        try:
            with self.db.read_only() as session:
                case = self.cases.get(session, number)
                events = latest_events(session, number)
        except Refusal as refusal:
            return notice(describe(refusal))
        link = (
            self.slack.permalink(case.channel_id, case.card_ts)
            if case.channel_id and case.card_ts
            else None
        )
        return case_details(case, events, self.desk, self.clock.now(), link)

    def explain_sla(self, number: int) -> SlackMessage:
        """`/case sla N`: every start, pause and stop of the case's clocks, and what is left."""
        try:
            with self.db.read_only() as session:
                case = self.cases.get(session, number)
                policy = self.sla.policy_for(case)
                timers = self.sla.timers(session, case, self.clock.now())
        except Refusal as refusal:
            return notice(describe(refusal))
        return sla_explanation(case, policy, timers, self.clock.now())

    def list_cases(
        self, who: Requester, *, view: str, team_key: str | None, offset: int = 0
    ) -> SlackMessage:
        try:
            with self.db.read_only() as session:
                if team_key:
                    self.cases.team(team_key)
                page = list_cases(
                    session,
                    view=view,
                    user_id=who.user_id,
                    team_key=team_key,
                    offset=offset,
                    limit=PAGE_SIZE,
                )
        except Refusal as refusal:
            return notice(describe(refusal))
        return case_list(page, view=view, team_key=team_key, desk=self.desk, now=self.clock.now())

    # Plumbing

    def _apply(self, who: Requester, change_case: Callable[[Session], CaseChange]) -> SlackMessage:
        return self._apply_queuing(who, lambda session: (change_case(session), []))

    def _apply_queuing(
        self, who: Requester, change_case: Callable[[Session], tuple[CaseChange, list[int]]]
    ) -> SlackMessage:
        """One change in one unit of work, with the Slack writes it needs queued and the
        request that asked for it marked done in the same transaction; then delivered,
        waiting for Slack only briefly before answering."""
        self.roster.warm()
        try:
            with self.db.unit_of_work() as session:
                self.finish_request(session, who)
                change, also_queued = change_case(session)
                queued = self.sync.queue(session, change) + also_queued
        except Refusal as refusal:
            return notice(describe(refusal))
        report = self.outbox.deliver_within(queued, DELIVERY_WAIT)
        self.insights.refresh_homes_after(change)
        return notice(confirmation(change, self.desk) + delivery_note(report))
