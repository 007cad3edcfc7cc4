"""Keeps Slack in step with a case: its card in the team channel and replies in its thread.

Cards are always rendered from the case as it is in the database at that moment, under a
per-case lock, so two quick changes cannot leave the older rendering on the card. Slack
failures are returned as sentences for the user; they never undo the database change.
"""

from __future__ import annotations

import logging
import threading

from bot.cases import CaseChange
from bot.core import Core, Flow
from bot.slack import SlackDeliveryError
from bot.views.blocks import SlackMessage
from bot.views.case_card import case_card, description_message, moved_card, thread_update
from models import Case, CaseAction

log = logging.getLogger(__name__)

# Conversation in the thread is already visible there; the bot does not echo it.
_SILENT_ACTIONS = frozenset(
    {CaseAction.OPENED, CaseAction.RESPONDED, CaseAction.CUSTOMER_REPLIED, CaseAction.COMMENTED}
)
_CARD_LOCK_STRIPES = 64


class CaseSync(Flow):
    def __init__(self, core: Core) -> None:
        super().__init__(core)
        # Card updates for one case are serialised and always render the latest state.
        self._card_locks = [threading.Lock() for _ in range(_CARD_LOCK_STRIPES)]

    def publish(self, change: CaseChange) -> list[str]:
        """Bring Slack in line with the change; returns what could not be done, for the user."""
        problems: list[str] = []
        if change.moved_from:
            problems += self._retire_card(change, *change.moved_from)
        case, posted_new_card = self._sync_card(change, problems)
        if case is None:
            return problems
        announce = [event for event in change.events if event.action not in _SILENT_ACTIONS]
        if posted_new_card and case.description:
            self._post_in_thread(case, description_message(case), problems)
        if announce:
            self._post_in_thread(case, thread_update(case, announce, self.desk), problems)
        return problems

    def _sync_card(self, change: CaseChange, problems: list[str]) -> tuple[Case | None, bool]:
        """Post the card if the case has none yet, else update it if the change shows on it.
        Renders the case as it is in the database now, under the case's card lock."""
        with self._card_locks[change.case.id % _CARD_LOCK_STRIPES]:
            with self.db.read_only() as session:
                case = session.get(Case, change.case.id)
            if case is None:
                return None, False
            team = self.desk.team(case.team_key)
            now = self.clock.now()
            timers = self.sla.status(case, now)
            content = case_card(case, self.desk, now, timers)
            if case.card_ts and case.channel_id:
                if change.card_changed:
                    try:
                        self.slack.update(case.channel_id, case.card_ts, content)
                    except SlackDeliveryError as error:
                        problems.append(f"I could not update the case card ({error.error}).")
                return case, False
            try:
                ts = self.slack.post(team.channel, content)
            except SlackDeliveryError as error:
                problems.append(
                    f"I could not post the case card in <#{team.channel}> ({error.error}). "
                    "The case is saved; its card will be posted with the next change."
                )
                return case, False
            with self.db.unit_of_work() as session:
                earlier = self.cases.attach_card(
                    session, number=case.id, channel_id=team.channel, card_ts=ts
                )
            if earlier is not None:
                # Another process posted the card first: withdraw ours, bring theirs up to date.
                self._withdraw(team.channel, ts)
                return self._sync_card(CaseChange(case=earlier, events=change.events), problems)
            case.channel_id, case.card_ts = team.channel, ts
            return case, True

    def _withdraw(self, channel_id: str, ts: str) -> None:
        try:
            self.slack.delete(channel_id, ts)
        except SlackDeliveryError as error:
            log.warning("could not delete a duplicate card %s in %s: %s", ts, channel_id, error)

    def _retire_card(self, change: CaseChange, channel_id: str, card_ts: str) -> list[str]:
        """The case moved teams: mark its old card and say so in the old thread."""
        team_name = self.desk.team(change.case.team_key).name
        try:
            self.slack.update(channel_id, card_ts, moved_card(change.case, team_name))
            self.slack.post(
                channel_id, thread_update(change.case, change.events, self.desk), thread_ts=card_ts
            )
        except SlackDeliveryError as error:
            return [f"I could not mark the old card as moved ({error.error})."]
        return []

    def _post_in_thread(self, case: Case, content: SlackMessage, problems: list[str]) -> None:
        if not (case.channel_id and case.card_ts):
            return
        try:
            self.slack.post(case.channel_id, content, thread_ts=case.card_ts)
        except SlackDeliveryError as error:
            problems.append(f"I could not post in the case thread ({error.error}).")

    def refresh_cards(self, case_ids: list[int]) -> None:
        """Re-render cards after a change made outside a flow (an SLA breach)."""
        for case_id in case_ids:
            problems: list[str] = []
            with self.db.read_only() as session:
                case = session.get(Case, case_id)
            if case is not None:
                self._sync_card(CaseChange(case=case, events=[]), problems)
            for problem in problems:
                log.warning("case #%s: %s", case_id, problem)
