"""What each process counts as it works, for Prometheus (`GET /metrics`).

Counters and histograms only, kept in memory (or, when PROMETHEUS_MULTIPROC_DIR is set, in
prometheus_client's per-process files that any worker's `/metrics` adds up): recording one
is a few microseconds and never touches the database. Figures read from the database when
scraped (outbox, cases, the lease) are in bot/runtime/observability.py.

Labels stay bounded: request names come from the declared subcommands and ids (anything else
is "other"), Slack methods and job names are the code's own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

# Slack wants an ack within 3 s: the buckets are finest where acks should be.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_SLACK_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)

REQUESTS = Counter(
    "casedesk_requests",
    "Slack requests acknowledged, by kind (command, action, view, event, shortcut) and name "
    "(the /case subcommand, action id, view callback id, event type or shortcut id)",
    ["kind", "name"],
)
REQUEST_SECONDS = Histogram(
    "casedesk_request_duration_seconds",
    "From a request's arrival to the end of its work (the reply sent, the change committed)",
    ["kind", "name"],
    buckets=_REQUEST_BUCKETS,
)
REQUEST_FAILURES = Counter(
    "casedesk_request_failures",
    "Requests whose work failed unexpectedly (the person was told to try again)",
    ["kind", "name"],
)
ACK_SECONDS = Histogram(
    "casedesk_ack_duration_seconds",
    "From a request's arrival to its ack (Slack gives up after 3 s)",
    ["kind"],
    buckets=_ACK_BUCKETS,
)
SLACK_CALLS = Counter(
    "casedesk_slack_api_calls",
    "Slack Web API calls by method and outcome (ok, error, 429, timeout)",
    ["method", "outcome"],
)
SLACK_SECONDS = Histogram(
    "casedesk_slack_api_call_duration_seconds",
    "How long Slack Web API calls took, retries by the client included",
    ["method"],
    buckets=_SLACK_BUCKETS,
)
JOB_RUNS = Counter("casedesk_job_runs", "Scheduler job runs (by the lease holder)", ["job"])
JOB_FAILURES = Counter("casedesk_job_failures", "Scheduler job runs that failed", ["job"])
JOB_SECONDS = Histogram(
    "casedesk_job_duration_seconds",
    "How long scheduler job runs took",
    ["job"],
    buckets=_JOB_BUCKETS,
)
JOB_LAST_SUCCESS = Gauge(
    "casedesk_job_last_success_timestamp_seconds",
    "When each job last succeeded (Unix time), in any process",
    ["job"],
    multiprocess_mode="max",
)
LEADER = Gauge(
    "casedesk_scheduler_leader",
    "1 while this process holds the scheduler lease (runs the jobs), else 0",
    multiprocess_mode="liveall",
)

OUTCOMES = ("ok", "error", "429", "timeout")


def slack_call(method: str, outcome: str, seconds: float) -> None:
    SLACK_CALLS.labels(method, outcome).inc()
    SLACK_SECONDS.labels(method).observe(seconds)


def leading(held: bool) -> None:
    """Whether this process holds the scheduler lease, as its last attempt found."""
    LEADER.set(1 if held else 0)


@contextmanager
def job_run(name: str) -> Iterator[None]:
    """Count and time one run of job `name`; a failure is counted and raised on."""
    started = time.perf_counter()
    JOB_RUNS.labels(name).inc()
    try:
        yield
    except BaseException:
        JOB_FAILURES.labels(name).inc()
        raise
    else:
        JOB_LAST_SUCCESS.labels(name).set_to_current_time()
    finally:
        JOB_SECONDS.labels(name).observe(time.perf_counter() - started)
