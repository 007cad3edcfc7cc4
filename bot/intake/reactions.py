"""Agents' reactions on a case: the team's claim emoji (`teams.<key>.reactions.claim`, :eyes:
by default) claims the case, its resolve emoji (`reactions.resolve`, :white_check_mark:)
closes it for its assignee or a manager ("Resolved from a reaction"), on the case's card and
on the first message of its conversation (a case from a Slack message) alike.

A reaction on any other message, with any other emoji, or taken back changes nothing; the
intake emoji makes a case of a message as before (`IntakeFlows.reaction`). Each reaction is
carried out by the case's own flows (`CaseFlows.claim`, `CaseFlows.close`): refused by the
same rules, recorded with the source `reaction`, shown on the card and in both threads as
any claim or close, and the reactor told privately what it did or why it did nothing. An
Events API delivery is recorded once before it acts, so a redelivery changes nothing twice.
"""

from __future__ import annotations

import enum
from dataclasses import replace

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.cases.flow import CaseFlows
from bot.cases.views.refusals import describe
from bot.cases.views.replies import notice
from bot.core import Core, Flow
from bot.desk import Team
from bot.intake.flow import IntakeFlows
from bot.intake.refusals import OnlyAssigneeResolves
from bot.intake.views import REACTION_RESOLUTION
from bot.requester import Requester
from bot.slack.blocks import SlackMessage
from models import Case, CaseThread, ProcessedSlackEvent


class Ask(enum.StrEnum):
    """What an agent's reaction on a case asks for."""

    CLAIM = "claim"
    RESOLVE = "resolve"


def asked(team: Team, emoji: str) -> Ask | None:
    """What `emoji` asks of a case of `team`; None when it is none of its reactions."""
    if emoji == team.reactions.claim:
        return Ask.CLAIM
    if emoji == team.reactions.resolve:
        return Ask.RESOLVE
    return None


def case_shown_at(session: Session, channel_id: str, ts: str) -> Case | None:
    """The case whose card, or whose conversation's first message, this message is: found by
    the thread it starts (`case_threads`' key), then checked against the case."""
    return session.scalars(
        select(Case)
        .join(CaseThread, CaseThread.case_id == Case.id)
        .where(
            CaseThread.channel_id == channel_id,
            CaseThread.thread_ts == ts,
            or_(
                and_(Case.channel_id == channel_id, Case.card_ts == ts),
                and_(Case.conversation_channel_id == channel_id, Case.conversation_ts == ts),
            ),
        )
    ).one_or_none()


class ReactionFlows(Flow):
    def __init__(self, core: Core, *, flows: CaseFlows, intake: IntakeFlows) -> None:
        super().__init__(core)
        self.flows = flows
        self.intake = intake
        # Every team's claim and resolve emoji: any other reaction needs no look-up.
        self._emoji = frozenset(
            name
            for team in self.desk.teams.values()
            for name in (team.reactions.claim, team.reactions.resolve)
        )

    def reaction_added(
        self, who: Requester, *, event_id: str | None, channel_id: str, ts: str, emoji: str
    ) -> None:
        """`who` put `emoji` on a message: a claim or a close when the message is a case's
        card or conversation and the emoji one of its team's reactions; else a new case when
        it is the channel's intake emoji; else nothing."""
        found = self._asked(channel_id, ts, emoji)
        if found is None:
            if emoji == self.intake.intake_emoji(channel_id):
                self.intake.reaction(who, event_id=event_id, channel_id=channel_id, ts=ts)
            return
        case, ask = found
        if event_id:  # recorded with the claim or close, so a delivery again changes nothing
            key = f"reaction:{event_id}"
            if self._seen(key):
                return  # Slack delivered this reaction before: it was carried out then
            who = replace(who, event_key=key)
        answer = self._resolve(who, case, emoji) if ask is Ask.RESOLVE else self._claim(who, case)
        self.tell(who, answer)

    def _asked(self, channel_id: str, ts: str, emoji: str) -> tuple[Case, Ask] | None:
        if emoji not in self._emoji:
            return None
        with self.db.read_only() as session:
            case = case_shown_at(session, channel_id, ts)
        team = self.desk.teams.get(case.team_key) if case is not None else None
        ask = asked(team, emoji) if team is not None else None
        return (case, ask) if case is not None and ask is not None else None

    def _claim(self, who: Requester, case: Case) -> SlackMessage:
        return self.flows.claim(who, case.id)

    def _resolve(self, who: Requester, case: Case, emoji: str) -> SlackMessage:
        """Closed for its assignee or a manager. Another agent is told how to close it
        (`/case close` is theirs); anyone else, or a closed case, as `/case close` would."""
        self.roster.warm()
        team = self.desk.team(case.team_key)
        user = who.user_id
        may = user == case.assignee_id or self.roster.is_manager(team, user)
        if not (may or case.is_closed) and self.roster.is_agent(team, user):
            refusal = OnlyAssigneeResolves(team.name, case.id, case.assignee_id, emoji)
            return notice(describe(refusal))
        return self.flows.close(who, case.id, REACTION_RESOLUTION)

    def _seen(self, key: str) -> bool:
        with self.db.read_only() as session:
            return session.get(ProcessedSlackEvent, key) is not None
