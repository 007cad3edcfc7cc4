"""The stand-in's HTTP plumbing, independent of the workspace behind it: reply shapes, how
Slack clients encode Web API parameters, and the request handler that hands every request to
a router and writes back its reply (a whole body, or a stream of server-sent events)."""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import parse_qsl

Json = dict[str, Any]
Reply = tuple[int, dict[str, str], bytes]
StreamingReply = tuple[int, dict[str, str], Iterator[bytes]]
# Extra routes (the sandbox's page): (method, path, headers, body) -> reply, or None if not theirs.
PageRoutes = Callable[[str, str, Any, bytes], StreamingReply | Reply | None]

JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")


def json_reply(status: int, body: Json, headers: dict[str, str] | None = None) -> Reply:
    content_type = {"Content-Type": "application/json; charset=utf-8"}
    return status, {**content_type, **(headers or {})}, json.dumps(body).encode()


def parse_params(query: str, content_type: str, body: bytes) -> Json:
    """A Web API call's parameters: query string plus a JSON or form body. Fields Slack takes as
    JSON (blocks, view, ...) are decoded when they arrive form-encoded."""
    params: Json = dict(parse_qsl(query, keep_blank_values=True))
    if body and "application/json" in content_type:
        params.update(json.loads(body))
    elif body and "multipart/" not in content_type:
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # else kept: reported as *_format errors
                params[key] = json.loads(value)
    return params


class Served(ABC):
    """A server on a port of this machine, for the length of a `with` block."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Router(Protocol):
    """What answers the requests: the stand-in."""

    def _route(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> StreamingReply | Reply: ...


class RequestHandler(BaseHTTPRequestHandler):
    fake: Router  # set on the per-server subclass made by bound_handler()

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, *args: Any) -> None:
        pass  # keep pytest output quiet

    def _dispatch(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, headers, payload = self.fake._route(self.command, self.path, self.headers, body)
        except Exception as exc:  # a bug in the fake: make it visible to the client
            status, headers, payload = json_reply(
                500, {"ok": False, "error": f"fake_slack: {exc!r}"}
            )
        try:
            self.send_response(status)
            if not isinstance(payload, bytes):  # a stream (server-sent events)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                for chunk in payload:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                return
            for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up already (timeout tests, a closed page)


def bound_handler(router: Router) -> type[RequestHandler]:
    """A request handler class for one server, answering through ``router``."""
    return type("_BoundHandler", (RequestHandler,), {"fake": router})
