"""Several processes behind one port: `serve --workers N` (or WORKERS=N), on gunicorn.

The master process binds the port, forks N workers and restarts any that dies; it runs no
Casedesk code. Each worker builds its own Casedesk after the fork (database engine, listener
pools, Bolt app: nothing is shared across the fork) and serves with gunicorn's threaded worker,
THREADS request threads as waitress has for one process. Each worker also runs the scheduler,
gated by the lease like every other process (bot/runtime/lease.py): whichever process of the
whole deployment holds it runs the jobs, and when that worker dies another takes over, so no
worker is special and a restarted one is just another candidate.

SIGTERM to the master stops gracefully: each worker stops accepting, finishes the requests in
flight, then stops its scheduler (giving up the lease at once) and its listener pools.

Prometheus: the workers count into files in PROMETHEUS_MULTIPROC_DIR (a fresh temporary
folder, removed at the end, unless the operator set one), which any worker's `/metrics` adds
up; the master tells the metrics when a worker is gone (`worker_exited`).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gunicorn import glogging  # type: ignore[import-untyped]
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from gunicorn.arbiter import Arbiter  # type: ignore[import-untyped]
from prometheus_client import values
from prometheus_client.metrics import MetricWrapperBase

from bot.runtime import metrics_registry
from bot.runtime.assembly import build_app
from bot.runtime.casedesk import Casedesk
from bot.runtime.observability import worker_exited
from bot.runtime.server import MAX_REQUEST_BYTES, WsgiApp, make_wsgi_app
from bot.runtime.settings import load_settings

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

MAX_WORKERS = 64  # as WORKERS allows
THREADS = 16
# How long a stopping worker may take over the requests in flight (and the master waits).
GRACEFUL_SECONDS = 30
# Behind a reverse proxy that keeps connections open: a few seconds, as gunicorn advises.
KEEPALIVE_SECONDS = 5
METRICS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


class WorkersError(Exception):
    """Serving with workers cannot start; the message says why, in one line."""


@dataclass(frozen=True)
class Served:
    """What one worker serves, and how it stops once its last request is answered."""

    application: WsgiApp
    stop: Callable[[], None]

    @classmethod
    def of(cls, casedesk: Casedesk) -> Served:
        """The desk's Bolt app over HTTP, and its scheduler (if RUN_SCHEDULER) on the lease."""
        settings = casedesk.settings
        app = build_app(casedesk)
        application = make_wsgi_app(app, casedesk.db, signing_secret=settings.SLACK_SIGNING_SECRET)
        scheduler = casedesk.scheduler()
        if settings.RUN_SCHEDULER:
            scheduler.start()

        def stop() -> None:
            scheduler.shutdown()  # the lease is given up at once, for the next holder
            casedesk.executor.shutdown(wait=True)  # what was acknowledged is carried out
            casedesk.db.dispose()

        return cls(application, stop)


def serve_with_workers(workers: int, *, build: Callable[[], Casedesk]) -> None:
    """Serve with `workers` processes, each serving the Casedesk `build()` makes in it after
    the fork, until the master is stopped (SIGTERM, SIGINT). What the workers need is checked
    first, here, so a problem is one line from the master rather than N workers failing."""
    if not 1 < workers <= MAX_WORKERS:
        raise WorkersError(f"--workers {workers}: give a number of processes from 1 to 64")
    settings = load_settings()
    if settings.DATABASE_URL.startswith("sqlite"):
        raise WorkersError("SQLite allows one process; use PostgreSQL for --workers 2 or more")
    if settings.SLACK_APP_TOKEN:
        raise WorkersError(
            "--workers serves HTTP; Socket Mode (SLACK_APP_TOKEN is set) runs as one process"
        )
    # Settings, app.yaml, the database and its schema, as a worker will find them; the master
    # then lets its database go: each worker opens its own.
    build().db.dispose()
    try:
        listener = _bind(settings.HOST, settings.PORT)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise WorkersError(
            f"cannot listen on {settings.HOST}:{settings.PORT} ({reason}); set PORT to a free port"
        ) from None
    log.info(
        "Serving Slack on http://%s:%d/slack/events with %d workers",
        settings.HOST,
        settings.PORT,
        workers,
    )
    _run(listener, workers, build)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket the workers share (OSError if the port cannot be had)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def _run(listener: socket.socket, workers: int, build: Callable[[], Casedesk]) -> None:
    master = os.getpid()
    directory = None
    if not os.environ.get(METRICS_DIRECTORY):
        directory = tempfile.mkdtemp(prefix="casedesk-metrics-")
        os.environ[METRICS_DIRECTORY] = directory
    try:
        _Gunicorn(listener, workers=workers, build=build).run()
    finally:
        # A worker leaves through here too (gunicorn ends it with SystemExit): only the
        # master tidies up.
        if directory is not None and os.getpid() == master:
            os.environ.pop(METRICS_DIRECTORY, None)
            shutil.rmtree(directory, ignore_errors=True)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn embedded: its settings from here, never from its command line or GUNICORN_*."""

    def __init__(
        self, listener: socket.socket, *, workers: int, build: Callable[[], Casedesk]
    ) -> None:
        self._fd = listener.detach()  # gunicorn owns the socket from here on
        self._workers = workers
        self._build = build
        self._served: Served | None = None
        super().__init__(prog="casedesk")

    def load_config(self) -> None:
        settings: dict[str, Any] = {
            "bind": [f"fd://{self._fd}"],
            "workers": self._workers,
            "worker_class": "gthread",
            "threads": THREADS,
            "graceful_timeout": GRACEFUL_SECONDS,
            "keepalive": KEEPALIVE_SECONDS,
            "proc_name": "casedesk",
            "logger_class": _Lines,
            "accesslog": None,  # a line per request is no event
            "post_fork": self._post_fork,
            "worker_exit": self._worker_exit,
            "child_exit": self._child_exit,
        }
        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self) -> WsgiApp:
        """In the worker, after the fork: its own Casedesk, and its scheduler."""
        try:
            self._served = Served.of(self._build())
        except Exception as error:  # the master checked everything it could: say it in one line
            log.error("worker %d cannot start: %s", os.getpid(), error)
            sys.exit(Arbiter.WORKER_BOOT_ERROR)  # the master then stops, saying so
        return _limited(self._served.application)

    def _post_fork(self, _arbiter: Any, _worker: Any) -> None:
        _count_in_files()

    def _worker_exit(self, _arbiter: Any, _worker: Any) -> None:
        """In the worker, once its requests in flight are answered."""
        if self._served is not None:
            self._served.stop()
            self._served = None

    def _child_exit(self, _arbiter: Any, worker: Any) -> None:
        """In the master: a worker is gone (stopped, crashed or killed)."""
        worker_exited(worker.pid)


class _Lines(glogging.Logger):  # type: ignore[misc]
    """gunicorn's own lines (workers booting, exiting, killed) through Casedesk's logging, so
    they are formatted as LOG_FORMAT says, like every other line."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True


def _count_in_files() -> None:
    """prometheus_client decides where a metric keeps its values when the metric is made, and
    Casedesk's were made at import, before PROMETHEUS_MULTIPROC_DIR was set. A new worker
    points them at its own files in that folder before it counts anything. (When the operator
    set the folder before starting, they already are.)"""
    if values.ValueClass is not values.MutexValue:
        return
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    for metric in vars(metrics_registry).values():
        if isinstance(metric, MetricWrapperBase):
            if metric._is_parent():  # type: ignore[no-untyped-call]
                metric._metrics.clear()  # children are made again, in files, when next used
            else:
                metric._metric_init()  # type: ignore[no-untyped-call]


def _limited(application: WsgiApp) -> WsgiApp:
    """Bodies Slack never sends are refused before they are read (waitress does it itself)."""

    def limited(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = str(environ.get("CONTENT_LENGTH") or "0")
        if length.isdigit() and int(length) > MAX_REQUEST_BYTES:
            start_response("413 Content Too Large", [("Content-Type", "text/plain")])
            return [b"The request is too large.\n"]
        return application(environ, start_response)

    return limited
