"""The tests' Socket Mode: Slack's side of it, on this machine.

Plugged into the Web API stand-in (tests/fake_slack.py), ``apps.connections.open`` hands out a
one-time ``ws://127.0.0.1:PORT/link/?ticket=...&app_id=A1`` URL, as Slack hands out a
``wss://wss-primary.slack.com/link/?ticket=...`` one; a websocket server (the ``websockets``
package) at that address takes each ticket once, says ``hello`` and then delivers envelopes as
Slack does. The shapes are Slack's, as slack_sdk's ``SocketModeRequest`` reads them::

    {"type": "hello", "num_connections": 1, "debug_info": {...}, "connection_info": {...}}
    {"envelope_id": "<uuid>", "type": "slash_commands" | "interactive" | "events_api",
     "payload": <what Slack would POST over HTTP, as JSON>,
     "accepts_response_payload": <bool>}          (events_api adds retry_attempt, retry_reason)
    {"type": "disconnect", "reason": "refresh_requested", "debug_info": {...}}

and the app acks each envelope on the same socket with ``{"envelope_id": ...}``, adding
``"payload"`` where it answers in the ack (a modal's errors). Every ack is recorded with how long
it took; whatever else the app sends, or an ack of an unknown envelope, is kept in ``problems``.

``close_link`` ends the current connection as Slack does (a close frame), ``cut_link`` as a
broken network does (the TCP connection just ends), and ``ask_to_reconnect`` sends Slack's
``disconnect`` message (``refresh_requested``), which Slack sends before it retires a
connection."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from fake_slack import FakeSlack
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from bot.sandbox.signed import APP_ID, TEAM_ID
from bot.sandbox.slack_http import Served

Json = dict[str, Any]

APP_TOKEN = "xapp-1-A1-1-test-app-token"
ACK_DEADLINE = 3.0  # seconds Slack waits for an ack before it gives up on (or retries) it


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: Json | None  # what the app answered in the ack, if anything
    seconds: float  # from the envelope's delivery to its ack


class Link:
    """One websocket connection of the app's."""

    def __init__(self, websocket: ServerConnection, ticket: str) -> None:
        self.websocket = websocket
        self.ticket = ticket
        self.closed = threading.Event()

    @property
    def open(self) -> bool:
        return not self.closed.is_set()


class SocketModeStandIn(Served):
    def __init__(self, slack: FakeSlack, *, host: str = "127.0.0.1") -> None:
        self.slack = slack
        self.host = host
        self.links: list[Link] = []  # every connection the app made, oldest first
        self.problems: list[str] = []
        self.refuse_handshakes = False  # answer every connection's handshake 401
        self._changed = threading.Condition()
        self._tickets: set[str] = set()  # handed out and not used yet
        self._delivered: dict[str, float] = {}  # envelope id -> time.monotonic() when sent
        self._acks: dict[str, Ack] = {}
        self._server: Server | None = None
        self._port = 0
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> Self:
        self._server = serve(
            self._serve, self.host, 0, process_request=self._take_ticket, compression=None
        )
        self._port = int(self._server.socket.getsockname()[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        # The Web API method the app calls, with its app-level token, to get a URL to connect
        # to. The stand-in's method table has no public way in: this is the one plug.
        with self.slack._lock:
            self.slack._methods["apps.connections.open"] = self._open_connection
        return self

    def stop(self) -> None:
        """Stop serving; apps.connections.open still hands out URLs, now to a closed port."""
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    # ---- what Slack delivers

    def slash_command(
        self, user: str, text: str, *, channel: str, response_url: str, trigger_id: str
    ) -> str:
        """A `/case` command: its envelope id."""
        payload = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": "/case",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        return self.deliver("slash_commands", payload, accepts_response_payload=True)

    def interactive(self, payload: Json) -> str:
        """A click, a shortcut or a modal submission (`payload` as Slack POSTs it); only a
        submission may be answered in its ack (errors, an update, a push)."""
        answerable = payload.get("type") == "view_submission"
        return self.deliver("interactive", payload, accepts_response_payload=answerable)

    def event(self, event: Json, *, event_id: str | None = None) -> str:
        """An Events API delivery of `event`."""
        kind = str(event.get("type"))
        payload = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{kind}-{TEAM_ID}-{event.get('channel', '')}",
        }
        return self.deliver(
            "events_api",
            payload,
            accepts_response_payload=False,
            retry_attempt=0,
            retry_reason="",
        )

    def deliver(self, kind: str, payload: Json, **fields: Any) -> str:
        """Send one envelope on the app's open connection; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": kind, **fields}
        link = self.current_link()
        with self._changed:
            self._delivered[envelope_id] = time.monotonic()
        link.websocket.send(json.dumps(envelope))
        return envelope_id

    def ask_to_reconnect(self) -> None:
        """Slack's notice that this connection is about to be retired."""
        notice = {
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "applink-test"},
        }
        self.current_link().websocket.send(json.dumps(notice))

    def close_link(self, code: int = 1001, reason: str = "going away") -> Link:
        """End the current connection with a close frame, as Slack does."""
        link = self.current_link()
        link.websocket.close(code, reason)
        link.closed.wait(5)
        return link

    def cut_link(self) -> Link:
        """End the current connection as a broken network does: no close frame."""
        link = self.current_link()
        link.websocket.close_socket()
        link.closed.wait(5)
        return link

    # ---- what the app did

    def wait_connected(self, count: int = 1, timeout: float = 60) -> Link:
        """Wait until the app has opened `count` connections in all, the last one still open."""

        def connected() -> bool:
            return len(self.links) >= count and self.links[-1].open

        with self._changed:
            if not self._changed.wait_for(connected, timeout=timeout):
                raise AssertionError(
                    f"the app made {len(self.links)} connection(s) within {timeout}s, "
                    f"not {count}; open: {[link.open for link in self.links]}"
                )
            return self.links[-1]

    def current_link(self) -> Link:
        with self._changed:
            for link in reversed(self.links):
                if link.open:
                    return link
        raise AssertionError("the app has no open Socket Mode connection")

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> Ack:
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise AssertionError(
                    f"envelope {envelope_id} was not acknowledged within {timeout}s; "
                    f"problems: {self.problems}"
                )
            return self._acks[envelope_id]

    # ---- the server

    def _open_connection(self, params: Json) -> Json:  # apps.connections.open, lock held
        ticket = uuid.uuid4().hex
        with self._changed:
            self._tickets.add(ticket)
        return {"url": f"ws://{self.host}:{self._port}/link/?ticket={ticket}&app_id={APP_ID}"}

    def _take_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        """Each URL connects once; any other is refused in the handshake."""
        ticket = _ticket(request.path)
        with self._changed:
            if self.refuse_handshakes:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "refused\n")
            if ticket in self._tickets:
                self._tickets.discard(ticket)
                return None
            self.problems.append(f"a connection with an unknown or used ticket: {request.path}")
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid ticket\n")

    def _serve(self, websocket: ServerConnection) -> None:
        link = Link(websocket, _ticket(websocket.request.path if websocket.request else ""))
        try:
            with self._changed:
                open_links = 1 + sum(1 for each in self.links if each.open)
            websocket.send(json.dumps(_hello(open_links)))  # always the first message
            with self._changed:
                self.links.append(link)  # only now can envelopes be delivered on it
                self._changed.notify_all()
            for message in websocket:
                self._receive(message)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                link.closed.set()
                self._changed.notify_all()

    def _receive(self, message: str | bytes) -> None:
        received = time.monotonic()
        try:
            answer = json.loads(message)
        except ValueError:
            answer = None
        with self._changed:
            envelope_id = answer.get("envelope_id") if isinstance(answer, dict) else None
            if not isinstance(answer, dict) or set(answer) - {"envelope_id", "payload"}:
                self.problems.append(f"not an ack: {message!r:.300}")
            elif envelope_id not in self._delivered:
                self.problems.append(f"an ack of an envelope never sent: {message!r:.300}")
            elif envelope_id in self._acks:
                self.problems.append(f"an envelope acknowledged twice: {message!r:.300}")
            else:
                seconds = received - self._delivered[envelope_id]
                self._acks[envelope_id] = Ack(envelope_id, answer.get("payload"), seconds)
            self._changed.notify_all()


def _ticket(path: str) -> str:
    return (parse_qs(urlsplit(path).query).get("ticket") or [""])[0]


def _hello(num_connections: int) -> Json:
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": "applink-test",
            "build_number": 1,
            "approximate_connection_time": 18060,
        },
        "connection_info": {"app_id": APP_ID},
    }
