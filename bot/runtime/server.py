"""HTTP serving: Slack's requests at `POST /slack/events`; `GET /healthz` (liveness),
`GET /readyz` (readiness) and `GET /metrics` (Prometheus) for the operator."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import text

from bot.clock import Clock, SystemClock
from bot.db import Database
from bot.runtime.observability import METRICS_CONTENT_TYPE, metrics_exposition, readiness
from bot.slack.signature import VERIFIED, signature_problem
from handlers.middleware import payload_problem
from handlers.request_inbox import dispatch

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
# Slack signs requests of at most a few hundred kB; anything bigger is not from Slack.
MAX_REQUEST_BYTES = 1024 * 1024

WsgiApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]
_WALL_CLOCK = SystemClock()


def make_wsgi_app(
    app: App, db: Database, *, signing_secret: str, clock: Clock = _WALL_CLOCK
) -> WsgiApp:
    """Slack's requests are verified here, before Bolt (or anything else) reads them: Bolt's
    own verification is off (see build_app), so this is the one place that checks. `clock`
    is the app's (what the outbox's due times are in), for the metrics' ages."""

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _health(db, start_response)
        if path == "/readyz" and method in ("GET", "HEAD"):
            return _ready(db, start_response)
        if path == "/metrics" and method in ("GET", "HEAD"):
            payload = metrics_exposition(db, clock)
            start_response("200 OK", [("Content-Type", METRICS_CONTENT_TYPE)])
            return [payload]
        if path != SLACK_PATH:
            return _plain(start_response, "404 Not Found", "Not found.\n")
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed", "Slack posts to this path.\n")
        return _slack_request(app, signing_secret, environ, start_response)

    return application


def _slack_request(
    app: App, secret: str, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    raw = _read_body(environ)
    problem = signature_problem(
        secret,
        timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
        signature=environ.get("HTTP_X_SLACK_SIGNATURE"),
        body=raw,
        now=time.time(),
    )
    if problem:  # one line, never the body: it is not from Slack and may be huge
        log.warning(
            "refused an unverified request from %s (%d bytes): %s",
            environ.get("REMOTE_ADDR", "?"),
            len(raw),
            problem,
        )
        return _plain(start_response, "401 Unauthorized", "Invalid Slack signature.\n")
    body, problem = _parse_slack_body(raw, environ.get("CONTENT_TYPE", ""))
    if problem:
        log.warning("refused a malformed Slack request: %s", problem)
        return _plain(start_response, "400 Bad Request", f"Malformed Slack request: {problem}.\n")
    try:
        request = BoltRequest(
            # Bolt gets the body as parsed here, as JSON: its own form parsing drops a slash
            # command whose text contains the word "payload".
            body=json.dumps(body),
            query=environ.get("QUERY_STRING", ""),
            headers={**_headers(environ), "content-type": "application/json"},
            context={VERIFIED: True},
        )
    except Exception as error:  # payload_problem should have caught it: say what it missed
        # The type only: the message may quote the body.
        log.warning("refused a Slack request Bolt cannot read: %s", type(error).__name__)
        return _plain(start_response, "400 Bad Request", "Malformed Slack request.\n")
    return _bolt_answer(dispatch(app, request), start_response)


def _bolt_answer(response: BoltResponse, start_response: StartResponse) -> Iterable[bytes]:
    status = HTTPStatus(response.status)
    headers = [
        (name, value)
        for name, values in response.headers.items()
        if name.lower() != "content-length"
        for value in values
    ]
    payload = response.body.encode()
    start_response(
        f"{status.value} {status.phrase}", [*headers, ("Content-Length", str(len(payload)))]
    )
    return [payload]


def _read_body(environ: WSGIEnvironment) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    return stream.read(length) if stream is not None and length > 0 else b""


def _parse_slack_body(raw: bytes, content_type: str) -> tuple[dict[str, Any], str | None]:
    """The body as Slack means it: JSON (Events API), a form with a JSON `payload`
    (interactivity), or a plain form (slash commands); and what is wrong with it, if anything."""
    try:
        text = raw.decode("utf-8")
        if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
            body: Any = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            body = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError, JSONDecodeError too
        return {}, f"the body cannot be read ({type(error).__name__})"
    problem = payload_problem(body)
    return (body, problem) if problem is None else ({}, problem)


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    return {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }


def _health(db: Database, start_response: StartResponse) -> Iterable[bytes]:
    try:
        with db.read_only() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # health must answer, whatever the database does
        log.warning("health check failed: %s", error)
        body = {"ok": False, "database": "unreachable"}
        status = "503 Service Unavailable"
    else:
        body, status = {"ok": True, "database": "ok"}, "200 OK"
    payload = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


def _ready(db: Database, start_response: StartResponse) -> Iterable[bytes]:
    ready, body = readiness(db)
    payload = json.dumps(body).encode()
    status = "200 OK" if ready else "503 Service Unavailable"
    start_response(status, [("Content-Type", "application/json")])
    return [payload]


def _plain(start_response: StartResponse, status: str, body: str) -> Iterable[bytes]:
    payload = body.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [payload]


class BackgroundServer:
    """A waitress server on its own thread: for the sandbox and the end-to-end tests."""

    def __init__(self, application: WsgiApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        from waitress.server import create_server

        self._server: Any = create_server(
            application, host=host, port=port, threads=16, max_request_body_size=MAX_REQUEST_BYTES
        )
        self._thread = threading.Thread(target=self._server.run, name="casedesk-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.effective_host, self._server.effective_port
        return f"http://{host}:{port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close from the server's own loop (woken by its trigger), so it stops at once
        instead of waiting out its select timeout; its 16 request threads end as soon as each
        is idle (closing the server alone would leave them waiting for work for good)."""
        from waitress import wasyncore

        server = self._server
        try:
            server.trigger.pull_trigger(lambda: server.close() or wasyncore.close_all(server._map))
        except OSError:  # the loop already closed its trigger: close from here instead
            server.close()
        self._thread.join(timeout=5)
        server.task_dispatcher.set_thread_count(0)


def listen(application: WsgiApp, *, host: str, port: int, threads: int = 16) -> Any:
    """A waitress server bound to its port (OSError if it cannot be); `.run()` serves until
    interrupted. Binding comes first so a taken port stops the bot before anything else
    starts."""
    from waitress.server import create_server

    return create_server(
        application, host=host, port=port, threads=threads, max_request_body_size=MAX_REQUEST_BYTES
    )
