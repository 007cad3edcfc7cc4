"""A Slack stand-in: the Web API methods Casedesk uses, with Slack's semantics and Block Kit
limits, over a workspace kept in memory. The tests start one per test; the sandbox serves one
to the unchanged bot and to its web page.

Start it, point a real ``slack_sdk.WebClient(base_url=fake.base_url)`` (or a Bolt app built on
one) at it, drive the app, then assert on what was sent (``fake.calls``, ``fake.last(...)``) and
on the resulting workspace state (``fake.messages(...)``, ``fake.thread(...)``, ``home_views``)::

    with SlackStandIn() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.messages("C1")[0]["text"] == "hi"

Besides ``/api/<method>`` it serves the upload URLs handed out by ``files.getUploadURLExternal``
(``/upload/<file_id>``, used by ``files_upload_v2``) and response URLs (``/response/<key>``, used
by Bolt's ``respond()``). ``fail_next`` / ``delay_next`` inject failures and slowness. Block Kit
limits are checked like Slack does. Stdlib only; the fake never needs the Internet.

What people do is done directly: ``post_as_user`` (with files, in threads), ``delete_message``,
``react`` / ``unreact``. The bot is in every channel but those in ``outside_channels``, where
reading, posting and reacting answer ``not_in_channel``; ``unknown_channels`` do not exist.

This module serves and dispatches; the surfaces live next to it: slack_chat.py, slack_views.py,
slack_directory.py (auth, users, usergroups, conversations), slack_files.py and
slack_reactions.py, with the shared core in slack_state.py, failure injection in
slack_faults.py, recorded traffic in slack_recording.py, Block Kit limits in blockkit.py and
HTTP plumbing in slack_http.py.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from bot.sandbox.slack_chat import ChatMethods
from bot.sandbox.slack_directory import DirectoryMethods
from bot.sandbox.slack_faults import Fault, FaultInjection
from bot.sandbox.slack_files import FileMethods
from bot.sandbox.slack_http import (
    Json,
    PageRoutes,
    Reply,
    Served,
    StreamingReply,
    bound_handler,
    json_reply,
    parse_params,
)
from bot.sandbox.slack_reactions import ReactionMethods
from bot.sandbox.slack_recording import Recording
from bot.sandbox.slack_state import RESPONSE_URL, ApiCall, MethodTable, SlackError
from bot.sandbox.slack_views import ViewMethods


class SlackStandIn(
    ChatMethods,
    ViewMethods,
    DirectoryMethods,
    FileMethods,
    ReactionMethods,
    FaultInjection,
    Recording,
    Served,
):
    """A local Slack Web API and workspace. All public attributes may be read or set."""

    def _init_surfaces(self) -> None:
        self._init_chat()
        self._init_views()
        self._init_directory()
        self._init_files()
        self._init_faults()
        self._init_recording()
        self.routes: PageRoutes | None = None  # extra routes (the sandbox's page), tried first
        self.require_token = True
        self._methods: MethodTable = {
            **self._directory_methods(),
            **self._chat_methods(),
            **self._views_methods(),
            **self._files_methods(),
            **self._reactions_methods(),
        }

    # ---- lifecycle

    def start(self) -> Self:
        if self._server is None:
            self._stopping.clear()
            self._server = ThreadingHTTPServer((self.host, self.port), bound_handler(self))
            self._server.daemon_threads = True
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self.release_delays()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    # ---- routing

    def _route(self, method: str, path: str, headers: Any, body: bytes) -> StreamingReply | Reply:
        if self.routes is not None:
            extra = self.routes(method, path, headers, body)
            if extra is not None:
                return extra
        parts = urlsplit(path)
        kind, _, rest = parts.path.lstrip("/").partition("/")
        content_type = headers.get("Content-Type", "")
        if kind == "api":
            params = parse_params(parts.query, content_type, body)
            auth = headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            return self._api(rest, params, token or params.pop("token", None))
        if kind == "upload":
            return self._upload(rest, body)
        if kind == "response":
            return self._response(rest, body)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _api(self, method: str, params: Json, token: str | None) -> Reply:
        with self._lock:
            call = ApiCall(method, params, time.time(), token)
            self.calls.append(call)
            fault: Fault | None = self._pop(self._faults, method)
            fault = fault or self._pace_fault(method, params, call.at)
            delay, release = self._pop(self._delays, method), self._release
            call.failed = fault is not None and not fault.performed
        if delay:
            release.wait(delay)
        with self._lock:
            if fault is None or fault.performed:
                headers: dict[str, str] = {}
                status, body = 200, self._invoke(method, params, token)
            else:
                status, headers, body = fault.answer()
            call.error = body.get("error")
            self._bump()
        if fault is not None and fault.performed:  # done in Slack, but the answer is lost
            if fault.hang:
                release.wait(fault.hang)
            status, headers, body = fault.answer()
        return json_reply(status, body, headers)

    def _invoke(self, method: str, params: Json, token: str | None) -> Json:
        try:
            if self.require_token and not token:
                raise SlackError("not_authed")
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            return {"ok": True, **handler(params)}
        except SlackError as exc:
            return exc.body

    def _response(self, key: str, body: bytes) -> Reply:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = {"_raw": body.decode(errors="replace")}
        with self._lock:
            delay, release = self._pop(self._delays, RESPONSE_URL), self._release
        if delay:
            release.wait(delay)
        with self._lock:
            self.responses.append({**payload, "_key": key})
            context = self.response_contexts.get(key)
            if context is not None and isinstance(payload, dict):
                self._show_response(context, payload)
            self._bump()
        return 200, {"Content-Type": "text/plain"}, b"ok"
