"""What an operator watches: `GET /metrics` (Prometheus) and `GET /readyz`.

The process's own counters live in bot/runtime/metrics_registry.py. Here: which kind and name
a Slack request is counted under (recorded at its ack and at the end of its work, never with
a database query), the figures read from the database when Prometheus scrapes (outbox depth
and the age of its oldest due row, cases by team and status, the lease holder: four cheap
queries per scrape, none per request), the exposition, and readiness.

Several workers (gunicorn): with PROMETHEUS_MULTIPROC_DIR set in the environment before the
processes start, each worker writes its figures to files there and any worker's `/metrics`
adds up all of them (prometheus_client's multiprocess mode); the server calls
`worker_exited(pid)` when a worker dies, so its live gauges (the lease) go with it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt import BoltContext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import migrate
from bot.cases.commands import BY_NAME
from bot.clock import Clock
from bot.db import Database
from bot.ids import ActionId, CallbackId
from bot.runtime.metrics_registry import ACK_SECONDS, REQUEST_FAILURES, REQUEST_SECONDS, REQUESTS
from models import Case, CaseStatus, OutboxMessage, SchedulerLease

log = logging.getLogger(__name__)

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
OTHER = "other"
# In the Bolt context: when the request arrived and what it is counted as.
ARRIVAL = "casedesk_arrival"

_ACTION_IDS = frozenset(ActionId)
_CALLBACK_IDS = frozenset(CallbackId)
# Slack's event types (`message`, `reaction_added`): only those listened for are acked.
_EVENT_TYPE = re.compile(r"[a-z_]{1,40}")
# The outbox states a row waits in before it is delivered (the others are final).
_WAITING = ("pending", "sending")


# Requests


@dataclass(frozen=True)
class Arrival:
    kind: str  # command, action, view, event, shortcut (or other)
    name: str  # the subcommand, action id, callback id or event type (or other)
    at: float  # time.perf_counter()


def request_label(body: Mapping[str, Any]) -> tuple[str, str]:
    """The kind and name a Slack request is counted under; names outside what the app
    declares are "other", so a typo in `/case` text never makes a new time series."""
    if "command" in body:
        return "command", _subcommand(body.get("text"))
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else {}
        action_id = first.get("action_id") if isinstance(first, dict) else None
        # `csat_rate:3` is the csat_rate button (one id per rating in one block).
        return "action", _declared(str(action_id or "").split(":")[0], _ACTION_IDS)
    if kind in ("view_submission", "view_closed"):
        return "view", _declared(_field(body.get("view"), "callback_id"), _CALLBACK_IDS)
    if kind in ("message_action", "shortcut"):
        return "shortcut", _declared(str(body.get("callback_id") or ""), _CALLBACK_IDS)
    if kind == "event_callback":
        event_type = _field(body.get("event"), "type")
        return "event", event_type if _EVENT_TYPE.fullmatch(event_type) else OTHER
    return OTHER, OTHER


def _subcommand(text: Any) -> str:
    words = text.split(None, 1) if isinstance(text, str) else []
    if not words:
        return "help"  # empty text shows help
    name = words[0].lower()
    return name if name in BY_NAME else OTHER


def _field(container: Any, key: str) -> str:
    return str(container.get(key) or "") if isinstance(container, dict) else ""


def _declared(name: str, declared: frozenset[str]) -> str:
    return name if name in declared else OTHER


def note_arrival(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> None:
    """Bolt global middleware, registered first: the request's arrival and label."""
    kind, name = request_label(body)
    context[ARRIVAL] = Arrival(kind, name, time.perf_counter())
    next()


def acknowledged(context: Mapping[str, Any]) -> None:
    """The request was acked: counted, and its ack latency observed."""
    arrival = context.get(ARRIVAL)
    if isinstance(arrival, Arrival):
        REQUESTS.labels(arrival.kind, arrival.name).inc()
        ACK_SECONDS.labels(arrival.kind).observe(time.perf_counter() - arrival.at)


def finished(context: Mapping[str, Any], *, failed: bool) -> None:
    """The request's work is over: its whole latency observed (and a failure counted)."""
    arrival = context.get(ARRIVAL)
    if isinstance(arrival, Arrival):
        REQUEST_SECONDS.labels(arrival.kind, arrival.name).observe(time.perf_counter() - arrival.at)
        if failed:
            REQUEST_FAILURES.labels(arrival.kind, arrival.name).inc()


# The exposition


def multiprocess_directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def metrics_exposition(db: Database, clock: Clock) -> bytes:
    """The Prometheus text: this process's figures (or, in multiprocess mode, every worker's,
    from PROMETHEUS_MULTIPROC_DIR), then the database's, read now."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_directory()
    if directory:
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseFigures(db, clock))
    return generate_latest(registry)


def worker_exited(pid: int) -> None:
    """A worker process is gone: drop its live gauges (is it the leader) from the sums."""
    directory = multiprocess_directory()
    if directory:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


class _ThisProcess:
    """The default registry's metrics, handed on (a registry cannot hold another)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class DatabaseFigures:
    """What the database says when Prometheus asks; `casedesk_database_up` 0 if it cannot."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("casedesk_database_up", "1 if the scrape could read the database")
        try:
            with self.db.read_only() as session:
                figures = [*_outbox(session, self.clock.now()), _cases(session)]
                figures.append(_lease(session, self.clock.now()))
        except Exception as error:  # the scrape answers whatever the database does
            log.warning("metrics: cannot read the database (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures


def _outbox(session: Session, now: datetime) -> list[Metric]:
    depth = GaugeMetricFamily(
        "casedesk_outbox_rows",
        "Slack writes waiting in the outbox, by state (pending, sending)",
        labels=["state"],
    )
    counts = dict(
        session.execute(
            select(OutboxMessage.state, func.count())
            .where(OutboxMessage.state.in_(_WAITING))
            .group_by(OutboxMessage.state)
        ).all()
    )
    for state in _WAITING:
        depth.add_metric([state], counts.get(state, 0))
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(
            OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now
        )
    )
    age = GaugeMetricFamily(
        "casedesk_outbox_oldest_due_age_seconds",
        "How long the oldest outbox row that is due has waited since it was queued (0: none)",
    )
    age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    return [depth, age]


def _cases(session: Session) -> Metric:
    cases = GaugeMetricFamily(
        "casedesk_cases", "Cases by team and status", labels=["team", "status"]
    )
    rows = session.execute(
        select(Case.team_key, Case.status, func.count()).group_by(Case.team_key, Case.status)
    ).all()
    counts = {(team, CaseStatus(status).value): count for team, status, count in rows}
    for team in sorted({team for team, _ in counts}):
        for status in CaseStatus:  # every status of a team, 0 included, for alert rules
            cases.add_metric([team, status.value], counts.get((team, status.value), 0))
    return cases


def _lease(session: Session, now: datetime) -> Metric:
    holder = GaugeMetricFamily(
        "casedesk_scheduler_lease_holder",
        "1 for the process holding each unexpired lease (none: nobody runs the jobs)",
        labels=["lease", "holder"],
    )
    for name, holder_name, expires_at in session.execute(
        select(SchedulerLease.name, SchedulerLease.holder, SchedulerLease.expires_at)
    ).all():
        if expires_at > now:
            holder.add_metric([name, holder_name], 1)
    return holder


# Readiness


def readiness(db: Database) -> tuple[bool, dict[str, Any]]:
    """Ready when the database answers and is migrated to what this code needs; else why not."""
    try:
        current = migrate.current_revision(db)
    except Exception as error:  # readiness must answer, whatever the database does
        log.warning("not ready: the database is unreachable (%s)", type(error).__name__)
        reason = f"the database is unreachable ({type(error).__name__})"
        return False, {"ready": False, "reason": reason}
    head, known = _revisions()
    if current == head:
        return True, {"ready": True, "database": "ok", "revision": current}
    if current is None:
        reason = f"the database is not migrated (needs {head}): run `casedesk db upgrade`"
    elif current in known:
        reason = f"the database is at migration {current}, not {head}: run `casedesk db upgrade`"
    else:
        reason = f"the database is at migration {current}, unknown to this version (newer?)"
    return False, {"ready": False, "reason": reason, "revision": current, "head": head}


@lru_cache(maxsize=1)
def _revisions() -> tuple[str | None, frozenset[str]]:
    """The head migration and every migration this code knows (read once)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(migrate.MIGRATIONS))
    return scripts.get_current_head(), frozenset(r.revision for r in scripts.walk_revisions())
