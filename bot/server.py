"""HTTP serving: Slack's requests at `POST /slack/events`, and `GET /healthz`."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.db import Database

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
# Slack signs requests of at most a few hundred kB; anything bigger is not from Slack.
MAX_REQUEST_BYTES = 1024 * 1024

WsgiApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]


def make_wsgi_app(app: App, db: Database) -> WsgiApp:
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _health(db, start_response)
        if path == SLACK_PATH and method != "POST":
            return _plain(start_response, "405 Method Not Allowed", "Slack posts to this path.\n")
        try:
            return slack(environ, start_response)
        except Exception:  # a signed but malformed body makes Bolt raise while parsing it
            log.warning("refused a request Slack would not send", exc_info=True)
            return _plain(start_response, "400 Bad Request", "Malformed Slack request.\n")

    return application


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
        instead of waiting out its select timeout."""
        from waitress import wasyncore

        server = self._server
        try:
            server.trigger.pull_trigger(lambda: server.close() or wasyncore.close_all(server._map))
        except OSError:  # the loop already closed its trigger: close from here instead
            server.close()
        self._thread.join(timeout=5)


def serve_forever(application: WsgiApp, *, host: str, port: int, threads: int = 16) -> None:
    from waitress import serve

    serve(
        application, host=host, port=port, threads=threads, max_request_body_size=MAX_REQUEST_BYTES
    )
