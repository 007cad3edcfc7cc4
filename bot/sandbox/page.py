"""The sandbox's web page: its static files, the workspace state it reads, the live updates it
waits on (server-sent events) and the actions it posts, served next to the stand-in's Web API.

Until it is opened (`--seed` first lives through a week), the page says it is getting ready
and acts on nothing. Message permalinks (`/archives/<channel>/p<ts>`, what the stand-in's
chat.getPermalink hands out in the sandbox) open the page at that message."""

from __future__ import annotations

import json
import mimetypes
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.actions import Sandbox
from bot.sandbox.slack_http import Reply, StreamingReply

STATIC = Path(__file__).parent / "static"
SSE_KEEPALIVE_SECONDS = 15.0

Action = Callable[[], dict[str, Any]]


class SandboxPage:
    """The HTTP routes of the page, served next to the stand-in's Web API."""

    def __init__(self, sandbox: Sandbox, *, ready: bool) -> None:
        self.sandbox = sandbox
        self._ready = threading.Event()
        if ready:
            self._ready.set()

    def open(self) -> None:
        """The workspace is ready to be shown and used."""
        self._ready.set()
        self.sandbox.slack.announce_change()

    def __call__(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> StreamingReply | Reply | None:
        parts = urlsplit(path)
        route = parts.path
        if method == "GET" and (route in ("/", "/index.html") or route.startswith("/archives/")):
            return _file(STATIC / ("index.html" if self._ready.is_set() else "getting-ready.html"))
        if method == "GET" and route.startswith("/static/"):
            return _file(STATIC / Path(route).name)
        if route.startswith("/ui/") and not self._ready.is_set():
            return _json({"ok": False, "error": "The sandbox is getting ready."}, status=503)
        if method == "GET" and route.startswith("/files/"):
            return self._uploaded(Path(route).name)
        if method == "GET" and route == "/ui/state":
            user = parse_qs(parts.query).get("user", [""])[0]
            return _json(self.sandbox.state(user))
        if method == "GET" and route == "/ui/events":
            return (
                200,
                {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
                self._events(),
            )
        if method == "POST" and route.startswith("/ui/"):
            if not _from_the_page(headers):
                return _json({"ok": False, "error": "not from the sandbox page"}, status=403)
            return self._act(route.removeprefix("/ui/"), body)
        return None

    def _act(self, action: str, body: bytes) -> Reply:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return _json({"ok": False, "error": "not JSON"}, status=400)
        if not isinstance(data, dict):
            return _json({"ok": False, "error": "expected an object"}, status=400)
        user = str(data.get("user", ""))
        handlers = _handlers(self.sandbox, user, data)
        handler = handlers.get(action)
        if handler is None:
            return _json({"ok": False, "error": f"unknown action {action}"}, status=404)
        if not user and action not in ("advance", "close"):
            return _json({"ok": False, "error": "choose who you are first"}, status=400)
        return _json(handler())

    def _events(self) -> Any:
        """Server-sent events: a line each time the workspace changes."""
        seen = -1
        while not self.sandbox.slack.stopping:
            version = self.sandbox.slack.wait_for_change(seen, SSE_KEEPALIVE_SECONDS)
            if version == seen:
                yield b": keep-alive\n\n"
                continue
            seen = version
            yield f"data: {version}\n\n".encode()

    def _uploaded(self, file_id: str) -> Reply:
        content = self.sandbox.slack.files.get(file_id)
        if content is None:
            return 404, {"Content-Type": "text/plain"}, b"no such file"
        return 200, {"Content-Type": "image/png", "Cache-Control": "max-age=3600"}, content


def _handlers(sandbox: Sandbox, user: str, data: dict[str, Any]) -> dict[str, Action]:
    """What each `/ui/<action>` does, with what the page sent."""

    def text(key: str) -> str:
        value = data.get(key)
        return "" if value is None else str(value)

    def on_message(added: bool) -> Action:
        return lambda: sandbox.react(user, text("channel"), text("ts"), text("name"), added=added)

    return {
        "type": lambda: sandbox.type_text(
            user, text("channel"), text("text"), text("thread_ts") or None
        ),
        "click": lambda: sandbox.click(user, data),
        "pick": lambda: sandbox.pick(user, data),
        "shortcut": lambda: sandbox.shortcut(
            user, text("channel"), text("ts"), text("callback_id") or None
        ),
        "react": on_message(True),
        "unreact": on_message(False),
        "submit": lambda: sandbox.submit(user, text("view_id"), dict(data.get("values") or {})),
        "close": lambda: _closed(sandbox, text("view_id")),
        "home": lambda: sandbox.open_home(user),
        "advance": lambda: sandbox.advance(int(data.get("minutes", 0))),
    }


def _from_the_page(headers: Any) -> bool:
    """Only the page itself may act: a JSON request (other sites cannot send one without a
    CORS preflight, which this server never grants) from this same host, if it says where."""
    if "application/json" not in str(headers.get("Content-Type", "")):
        return False
    origin = headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == headers.get("Host")


def _closed(sandbox: Sandbox, view_id: str) -> dict[str, Any]:
    sandbox.slack.close_view(view_id)
    return {"ok": True}


def _json(data: Any, status: int = 200) -> Reply:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode()


def _file(path: Path) -> Reply:
    if not path.is_file():
        return 404, {"Content-Type": "text/plain"}, b"not found"
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return (
        200,
        {"Content-Type": f"{kind}; charset=utf-8", "Cache-Control": "no-cache"},
        path.read_bytes(),
    )
