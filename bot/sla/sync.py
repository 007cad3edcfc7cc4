"""SLA alerts that stay true: each alert row keeps what it is (target, due time, whom it
told), so when its case changes the alert is drawn again from the case as it is now (who
took it, only the buttons that still apply) and updated in place, or rewritten before it
goes out. A digest is drawn again from all its cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.sla import views as alerts
from bot.slack.blocks import SlackMessage
from bot.slack.queue import UPDATE, enqueue
from models import Case, OutboxMessage

WARNING, BREACH_ALERT, DIGEST = "sla_warn", "sla_breach", "sla_digest"
ALERT_UPDATE = "sla_alert_update"
URGENT = ("p1", "p2")  # priorities whose breaches a digest also tells the managers of
DIGEST_WINDOW = timedelta(days=2)  # digests older than this are left as they are
_NOT_SENT = ("pending", "sending")


def alert_meta(kind: str, target: str, due_at: datetime, notify: list[str]) -> dict[str, Any]:
    return {"kind": kind, "target": target, "due_at": due_at.isoformat(), "notify": notify}


def digest_meta(lines: list[alerts.AlertLine], notify: list[str]) -> dict[str, Any]:
    return {
        "lines": [
            {
                "case_id": line.case_id,
                "title": line.title,
                "target": line.target,
                "kind": line.kind,
                "due_at": line.due_at.isoformat(),
            }
            for line in lines
        ],
        "notify": notify,
    }


def queue_alert_updates(session: Session, case: Case, now: datetime) -> list[OutboxMessage]:
    """Bring every alert about `case` in step with it; returns the update rows queued."""
    rows = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.case_id == case.id,
            OutboxMessage.kind.in_((WARNING, BREACH_ALERT)),
        )
    ).all()
    queued = [
        update
        for row in rows
        if (meta := row.payload.get("meta"))
        and (update := _redraw(session, row, _single(case, meta), now)) is not None
    ]
    for row in _digests_of(session, case, now):
        lines = _lines(row.payload["meta"])
        cases = {
            other.id: other
            for other in session.scalars(
                select(Case).where(Case.id.in_({line.case_id for line in lines}))
            )
        }
        content = alerts.digest(lines, cases, list(row.payload["meta"].get("notify", [])))
        update = _redraw(session, row, content, now)
        if update is not None:
            queued.append(update)
    return queued


def _single(case: Case, meta: dict[str, Any]) -> SlackMessage:
    due_at = datetime.fromisoformat(str(meta["due_at"]))
    notify = [str(member) for member in meta.get("notify", [])]
    if meta["kind"] == "warn":
        return alerts.warning(case, str(meta["target"]), due_at, notify)
    return alerts.breach(case, str(meta["target"]), due_at, notify)


def _lines(meta: dict[str, Any]) -> list[alerts.AlertLine]:
    return [
        alerts.AlertLine(
            int(line["case_id"]),
            str(line["title"]),
            str(line["target"]),
            str(line["kind"]),
            datetime.fromisoformat(str(line["due_at"])),
        )
        for line in meta.get("lines", [])
    ]


def _digests_of(session: Session, case: Case, now: datetime) -> list[OutboxMessage]:
    """Recent digests listing the case (digests are rare: a storm's worth of alerts)."""
    recent = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.case_id.is_(None),  # with kind: ix_outbox_case_id_kind
            OutboxMessage.kind == DIGEST,
            OutboxMessage.created_at >= now - DIGEST_WINDOW,
        )
    ).all()
    return [
        row
        for row in recent
        if any(
            line.get("case_id") == case.id for line in row.payload.get("meta", {}).get("lines", [])
        )
    ]


def _redraw(
    session: Session, row: OutboxMessage, content: SlackMessage, now: datetime
) -> OutboxMessage | None:
    """A row not out yet is rewritten; a posted one gets an update queued (which supersedes
    the earlier updates of it still waiting: bot/slack/updates.py); a failed one is left
    alone."""
    payload = {**row.payload, "text": content.text, "blocks": content.blocks}
    if row.state in _NOT_SENT and row.op != UPDATE:
        row.payload = payload
        return None
    if row.state != "sent" or not row.sent_ts:
        return None
    link = row.payload.get("link_to")
    return enqueue(
        session,
        kind=ALERT_UPDATE,
        op=UPDATE,
        channel_id=row.channel_id,
        target_ts=row.sent_ts,
        content=content,
        now=now,
        case_id=row.case_id,
        link_to=(str(link[0]), str(link[1])) if link else None,
    )
