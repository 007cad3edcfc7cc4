"""The `sla-check` job: decide warnings and breaches exactly once, queue them in the outbox.

One pass reads only the cases whose `sla_next_check_at` has come (an indexed range query),
decides each alert under a unique key (case, target, kind, due time) so concurrent passes and
processes cannot decide it twice, records it in the case's audit trail, and queues the Slack
messages in the same transaction. Delivery happens after commit (see `bot.slack.outbox`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from bot.cases.changes import SCHEDULER, CaseChange
from bot.cases.rules import CaseService
from bot.cases.sync import CaseSync
from bot.cases.views.card import thread_update
from bot.clock import Clock
from bot.db import Database
from bot.desk import DeskConfig
from bot.roster import Roster
from bot.sla import views as alerts
from bot.sla.sync import DIGEST, URGENT, alert_meta, digest_meta
from bot.sla.timers import (
    BREACH,
    WARN,
    AlertKey,
    AlertPoint,
    SlaTracker,
    alert_key,
    alert_points,
    next_check,
)
from bot.slack.blocks import SlackMessage
from bot.slack.queue import enqueue
from bot.sqlfuncs import insert_unless_exists
from models import Case, CaseAction, SlaAlert

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class _Queued:
    """A message decided in this pass, before storm control picks message or digest."""

    channel_id: str
    thread_ts: str | None
    content: SlackMessage
    line: alerts.AlertLine
    case_id: int
    link_to: tuple[str, str] | None = None
    # Never folded into a digest (the escalation's own announcement, which mentions managers).
    always: bool = False
    meta: dict[str, Any] | None = None  # what the alert is, to draw it again as the case changes
    managers: tuple[str, ...] = ()  # whom a digest mentions for it (an urgent breach)


@dataclass
class SlaCheckReport:
    warnings: int = 0
    breaches: int = 0
    escalated: int = 0
    digests: int = 0
    breached_cases: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.warnings} warning(s), {self.breaches} breach(es)"
        if self.escalated:
            text += f", {self.escalated} escalated"
        if self.digests:
            text += f", {self.digests} digest(s)"
        return text


class SlaCheck:
    def __init__(
        self,
        *,
        db: Database,
        desk: DeskConfig,
        cases: CaseService,
        tracker: SlaTracker,
        roster: Roster,
        clock: Clock,
        digest_threshold: int,
        cards: CaseSync,
    ) -> None:
        self.db = db
        self.desk = desk
        self.cases = cases
        self.tracker = tracker
        self.roster = roster
        self.clock = clock
        self.digest_threshold = digest_threshold
        self.cards = cards

    def run(self) -> SlaCheckReport:
        now = self.clock.now()
        report = SlaCheckReport()
        failed: set[int] = set()  # cases that broke are skipped for the rest of this pass
        while True:
            with self.db.unit_of_work() as session:
                seen = self._decide_batch(session, now, report, failed)
            if seen < BATCH:
                break
        return report

    def _decide_batch(
        self, session: Session, now: datetime, report: SlaCheckReport, failed: set[int]
    ) -> int:
        due = select(Case).where(Case.sla_next_check_at <= now)
        if failed:
            due = due.where(Case.id.not_in(failed))
        due_cases = session.scalars(
            due.order_by(Case.sla_next_check_at, Case.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        decided = self.tracker.alerted(session, [case.id for case in due_cases])
        queued: list[_Queued] = []
        for case in due_cases:
            try:
                with session.begin_nested():
                    queued += self._decide_case(session, case, decided[case.id], now, report)
            except Exception:  # one broken case must not stop the alerts of all the others
                log.exception("sla-check failed for case %s", case.id)
                failed.add(case.id)
        self._queue(session, queued, now, report)
        return len(due_cases)

    def _decide_case(
        self,
        session: Session,
        case: Case,
        alerted: set[AlertKey],
        now: datetime,
        report: SlaCheckReport,
    ) -> list[_Queued]:
        if self.tracker.policy_for(case) is None:
            # Its policy was removed from app.yaml since the times were stored: no SLA now.
            self.tracker.refresh(session, case, now)
            return []
        points = [
            point
            for point in alert_points(case)
            if point.moment <= now and alert_key(point) not in alerted
        ]
        breached_targets = {point.target for point in points if point.kind == BREACH}
        queued: list[_Queued] = []
        for point in points:
            alerted.add(alert_key(point))
            if not self._decide(session, case, point, now):
                continue  # another pass decided it first
            if point.kind == WARN and point.target in breached_targets:
                continue  # caught up after downtime: only the breach is worth saying
            queued += self._announce(session, case, point, now, report)
        case.sla_next_check_at = next_check(case, alerted)
        return queued

    def _decide(self, session: Session, case: Case, point: AlertPoint, now: datetime) -> bool:
        """Record the alert under its unique key; False if another pass already had."""
        return insert_unless_exists(
            session,
            cast(Table, SlaAlert.__table__),
            {
                "case_id": case.id,
                "target": point.target,
                "kind": point.kind,
                "due_at": point.due_at,
                "decided_at": now,
            },
            unique=["case_id", "target", "kind", "due_at"],
        )

    def _announce(
        self, session: Session, case: Case, point: AlertPoint, now: datetime, report: SlaCheckReport
    ) -> list[_Queued]:
        team = self.desk.team(case.team_key)
        line = alerts.AlertLine(case.id, case.title, point.target, point.kind, point.due_at)
        thread = (case.channel_id, case.card_ts) if case.channel_id and case.card_ts else None
        action = CaseAction.SLA_WARNING if point.kind == WARN else CaseAction.SLA_BREACHED
        self.cases.record_system_event(
            session,
            case=case,
            action=action,
            refresh_sla=False,  # an alert changes no clock; the pass sets the next check itself
            target=point.target,
            due_at=point.due_at.isoformat(),
        )
        self.cards.queue_card_update(session, case)  # the card shows the warning or breach
        if point.kind == WARN:
            report.warnings += 1
            notify = [case.assignee_id] if case.assignee_id else list(team.agents)
            meta = alert_meta(point.kind, point.target, point.due_at, notify)
            content = alerts.warning(case, point.target, point.due_at, notify)
            where = thread or (team.alerts_channel, None)
            return [_Queued(where[0], where[1], content, line, case.id, meta=meta)]
        report.breaches += 1
        report.breached_cases.append(case.id)
        notify = [case.assignee_id] if case.assignee_id else list(team.managers)
        meta = alert_meta(point.kind, point.target, point.due_at, notify)
        content = alerts.breach(case, point.target, point.due_at, notify)
        urgent = tuple(team.managers) if case.priority in URGENT else ()
        queued = [
            _Queued(
                team.alerts_channel,
                None,
                content,
                line,
                case.id,
                thread,
                meta=meta,
                managers=urgent,
            )
        ]
        if thread is not None:
            queued.append(_Queued(thread[0], thread[1], content, line, case.id, thread, meta=meta))
        policy = self.tracker.policy_for(case)
        if policy is not None and policy.on_breach == "escalate":
            change = self._escalate_breached(session, case, point.target)
            report.escalated += 1
            if thread is not None:
                content = thread_update(change.case, change.events, self.desk)
                queued.append(_Queued(thread[0], thread[1], content, line, case.id, always=True))
        return queued

    def _escalate_breached(self, session: Session, case: Case, target: str) -> CaseChange:
        """`on_breach: escalate`: the desk escalates the case because `target` breached
        (data, worded by the audit trail: bot/cases/views/audit.py)."""
        return self.cases.escalate(session, number=case.id, actor=SCHEDULER, breached=target)

    def _queue(
        self, session: Session, queued: list[_Queued], now: datetime, report: SlaCheckReport
    ) -> None:
        """Queue each channel's messages, or one digest where a channel would get a storm."""
        by_channel: dict[str, list[_Queued]] = defaultdict(list)
        for item in queued:
            by_channel[item.channel_id].append(item)
        for channel_id, items in by_channel.items():
            alerts_only = [item for item in items if not item.always]
            if len(alerts_only) > self.digest_threshold:
                self._queue_digest(session, channel_id, alerts_only, now)
                report.digests += 1
                items = [item for item in items if item.always]
            for item in items:
                enqueue(
                    session,
                    kind=f"sla_{item.line.kind}",
                    channel_id=channel_id,
                    thread_ts=item.thread_ts,
                    content=item.content,
                    now=now,
                    case_id=item.case_id,
                    link_to=item.link_to,
                    meta=item.meta,
                )

    def _queue_digest(
        self, session: Session, channel_id: str, items: list[_Queued], now: datetime
    ) -> None:
        lines = list({item.line: None for item in items})  # one line per alert
        notify = sorted({manager for item in items for manager in item.managers})
        cases = {
            case.id: case
            for case in session.scalars(
                select(Case).where(Case.id.in_({line.case_id for line in lines}))
            )
        }
        content = alerts.digest(lines, cases, notify)
        meta = digest_meta(lines, notify)
        enqueue(session, kind=DIGEST, channel_id=channel_id, content=content, now=now, meta=meta)
