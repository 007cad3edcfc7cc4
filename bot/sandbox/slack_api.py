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
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")
RESPONSE_URL = "response_url"  # delay_next() key for posts to response URLs
Json = dict[str, Any]
Reply = tuple[int, dict[str, str], bytes]
StreamingReply = tuple[int, dict[str, str], Iterator[bytes]]


class SlackError(Exception):
    """Raised inside a method handler; answered as ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.body: Json = {"ok": False, "error": error, **extra}


@dataclass
class ApiCall:
    """One recorded Web API call. ``failed`` marks injected failures (state untouched)."""

    method: str
    params: Json
    at: float
    token: str | None = None
    failed: bool = False
    error: str | None = None  # Slack error code when the answer was not ok


@dataclass
class _Fault:
    status: int | None
    error: str | None
    retry_after: int | None
    performed: bool = False  # the call takes effect, then its answer is lost
    hang: float = 0.0  # ...after being held back this long


# --------------------------------------------------------------------------- Block Kit checks


def _too_long(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, dict):
        value, pointer = value.get("text"), f"{pointer}/text"
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _too_many(items: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(items, list) and len(items) > limit:
        return [f"must be less than {limit + 1} items [json-pointer:{pointer}]"]
    return []


def _check_element(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or element.get("type") != "button":
        return []
    return _too_long(element.get("text"), 75, f"{pointer}/text") + _too_long(
        element.get("value"), 2000, f"{pointer}/value"
    )


def _repeated_action_ids(elements: list[Any], pointer: str) -> list[str]:
    """Slack wants every `action_id` unique within its block."""
    seen: set[str] = set()
    errors = []
    for i, element in enumerate(elements):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if not isinstance(action_id, str):
            continue
        if action_id in seen:
            errors.append(
                f"action_id {action_id!r} is already used in this block "
                f"[json-pointer:{pointer}/{i}/action_id]"
            )
        seen.add(action_id)
    return errors


def _check_block(block: Json, pointer: str) -> list[str]:
    kind = block.get("type")
    errors = _too_long(block.get("block_id"), 255, f"{pointer}/block_id")
    if kind == "header":
        errors += _too_long(block.get("text"), 150, f"{pointer}/text")
    elif kind == "section":
        fields = block.get("fields") or []
        errors += _too_long(block.get("text"), 3000, f"{pointer}/text")
        errors += _too_many(fields, 10, f"{pointer}/fields")
        for i, item in enumerate(fields):
            errors += _too_long(item, 2000, f"{pointer}/fields/{i}")
        errors += _check_element(block.get("accessory"), f"{pointer}/accessory")
    elif kind == "actions":
        elements = block.get("elements") or []
        errors += _too_many(elements, 25, f"{pointer}/elements")
        for i, element in enumerate(elements):
            errors += _check_element(element, f"{pointer}/elements/{i}")
        errors += _repeated_action_ids(elements, f"{pointer}/elements")
    elif kind == "context":
        errors += _too_many(block.get("elements"), 10, f"{pointer}/elements")
    return errors


def validate_blocks(blocks: Any, max_blocks: int = 50) -> list[str]:
    """Return Slack-style error strings for ``blocks`` (empty list when valid)."""
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return ["must be an array of block objects [json-pointer:/blocks]"]
    errors = _too_many(blocks, max_blocks, "/blocks")
    for i, block in enumerate(blocks):
        errors += _check_block(block, f"/blocks/{i}")
    return errors


# --------------------------------------------------------------------------- HTTP plumbing


def _reply(status: int, body: Json, headers: dict[str, str] | None = None) -> Reply:
    content_type = {"Content-Type": "application/json; charset=utf-8"}
    return status, {**content_type, **(headers or {})}, json.dumps(body).encode()


def _parse_params(query: str, content_type: str, body: bytes) -> Json:
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


class _RequestHandler(BaseHTTPRequestHandler):
    fake: SlackStandIn  # set on the per-server subclass created in SlackStandIn.start()

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
            status, headers, payload = _reply(500, {"ok": False, "error": f"fake_slack: {exc!r}"})
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


# --------------------------------------------------------------------------- the fake


class SlackStandIn:
    """A local Slack Web API and workspace. All public attributes may be read or set."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_source: Callable[[], float] | None = None,
    ) -> None:
        self.host, self.port = host, port
        # Message timestamps follow this clock (seconds since the epoch) when given, so the
        # sandbox's messages carry the bot's time; else they count up from a fixed start.
        self.time_source = time_source
        self._last_ts = 0.0
        # Extra routes (the sandbox's page): (method, path, headers, body) -> reply or None.
        self.routes: Callable[[str, str, Any, bytes], StreamingReply | Reply | None] | None = None
        # For the sandbox: who a response URL or trigger id belongs to, so respond() and
        # views.open land with the right person.
        self.response_contexts: dict[str, Json] = {}
        self.trigger_users: dict[str, str] = {}
        self.view_users: dict[str, str] = {}
        self.closed_views: set[str] = set()
        self.version = 0  # bumped on every change, for pages that wait for news
        self.calls: list[ApiCall] = []
        self.responses: list[Json] = []  # bodies POSTed to response URLs, plus "_key"
        self.warnings: list[str] = []
        self.unknown_channels: set[str] = set()
        self.usergroups: dict[str, list[str]] = {}
        self.refuse_usergroups: set[str] = set()
        self.users: dict[str, Json] = {}  # per-user overrides merged into users.info answers
        self.home_views: dict[str, Json] = {}
        self.views: dict[str, Json] = {}  # view id -> latest version
        self.files: dict[str, bytes] = {}  # file id -> uploaded bytes
        self.require_token = True
        self._channels: dict[str, list[Json]] = {}
        self._ephemerals: list[Json] = []
        self._opened: list[str] = []
        self._file_meta: dict[str, Json] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[float]] = {}
        self._release = threading.Event()  # set to answer every held-back request now
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[Json], Json]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ---- lifecycle

    def start(self) -> SlackStandIn:
        if self._server is None:
            self._stopping.clear()
            handler = type("_BoundHandler", (_RequestHandler,), {"fake": self})
            self._server = ThreadingHTTPServer((self.host, self.port), handler)
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

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started")
        return f"http://{self.host}:{self._server.server_address[1]}/"

    @property
    def base_url(self) -> str:
        return f"{self.url}api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}response/{key}"

    # ---- failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (HTTP ``status`` or ok=false)."""
        if retry_after is not None and status is None:
            status = 429
        if status is None and error is None:
            raise ValueError("fail_next() needs status= and/or error=")
        with self._lock:
            queue = self._faults.setdefault(method, [])
            queue.extend(_Fault(status, error, retry_after) for _ in range(times))

    def clear_faults(self) -> None:
        """Slack is healthy again: forget the failures not yet used."""
        with self._lock:
            self._faults.clear()

    def lose_next_answer(
        self, method: str, *, status: int = 500, hang: float = 0.0, times: int = 1
    ) -> None:
        """Let the next ``times`` calls to ``method`` take effect, then lose their answers:
        held back ``hang`` seconds (a client with a shorter timeout gives up), then answered
        with HTTP ``status``. What Slack does when it posts but the answer never arrives."""
        with self._lock:
            queue = self._faults.setdefault(method, [])
            queue.extend(
                _Fault(status, None, None, performed=True, hang=hang) for _ in range(times)
            )

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` answers to ``method`` (a Web API method, or
        ``RESPONSE_URL`` for posts to response URLs) back by ``seconds``."""
        with self._lock:
            self._delays.setdefault(method, []).extend([seconds] * times)

    def release_delays(self) -> None:
        """Answer every request held back now, and forget the delays not yet used."""
        with self._lock:
            self._delays.clear()
            released, self._release = self._release, threading.Event()
        released.set()

    # ---- recorded calls and waiting

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def last(self, method: str) -> ApiCall:
        calls = self.calls_to(method)
        if not calls:
            raise AssertionError(f"no {method} call recorded; {self.describe()}")
        return calls[-1]

    def responses_for(self, key: str) -> list[Json]:
        with self._lock:
            return [copy.deepcopy(r) for r in self.responses if r["_key"] == key]

    def clear(self) -> None:
        """Forget recorded calls, responses and warnings (workspace state is kept)."""
        with self._lock:
            self.calls.clear()
            self.responses.clear()
            self.warnings.clear()

    def describe(self) -> str:
        with self._lock:
            calls = [
                f"{c.method}{' (failed)' if c.failed else ''} {c.params!r:.200}" for c in self.calls
            ]
            responses = [f"{r!r:.200}" for r in self.responses]
        seen = sorted({c.method for c in self.calls})
        lines = [f"methods seen: {seen}", *calls, f"{len(responses)} response(s)", *responses]
        return "\n  ".join(lines)

    def wait_for(self, predicate: Callable[[SlackStandIn], Any], timeout: float = 5.0) -> Any:
        """Poll until ``predicate(self)`` is truthy and return its value.

        AssertionError/LookupError raised by the predicate count as "not yet", so
        ``fake.wait_for(lambda f: f.last("chat.postMessage"))`` works.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = predicate(self)
            except (AssertionError, LookupError):
                result = None
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s; {self.describe()}")
            time.sleep(0.01)

    # ---- workspace accessors (deep copies)

    def messages(self, channel: str) -> list[Json]:
        with self._lock:
            msgs = self._channels.get(channel, [])
            return [copy.deepcopy(m) for m in msgs if m["thread_ts"] in (None, m["ts"])]

    def thread(self, channel: str, thread_ts: str) -> list[Json]:
        with self._lock:
            msgs = self._channels.get(channel, [])
            replies = [m for m in msgs if m["thread_ts"] == thread_ts and m["ts"] != thread_ts]
            return copy.deepcopy(replies)

    def ephemerals(self, user: str | None = None) -> list[Json]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals if user in (None, e["user"])]

    def opened_views(self) -> list[Json]:
        """Views opened by views.open / views.push, in order, as last updated."""
        with self._lock:
            return [copy.deepcopy(self.views[v]) for v in self._opened]

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
            params = _parse_params(parts.query, content_type, body)
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
            fault = self._pop(self._faults, method)
            delay, release = self._pop(self._delays, method), self._release
            call.failed = fault is not None and not fault.performed
        if delay:
            release.wait(delay)
        with self._lock:
            if fault is None or fault.performed:
                headers: dict[str, str] = {}
                status, body = 200, self._invoke(method, params, token)
            else:
                status, headers, body = self._fault_answer(fault)
            call.error = body.get("error")
            self._bump()
        if fault is not None and fault.performed:  # done in Slack, but the answer is lost
            if fault.hang:
                release.wait(fault.hang)
            status, headers, body = self._fault_answer(fault)
        return _reply(status, body, headers)

    @staticmethod
    def _pop(queues: dict[str, list[Any]], method: str) -> Any:
        queue = queues.get(method)
        return queue.pop(0) if queue else None

    @staticmethod
    def _fault_answer(fault: _Fault) -> tuple[int, dict[str, str], Json]:
        if fault.status is None:
            return 200, {}, {"ok": False, "error": fault.error}
        if fault.status == 429:
            retry_after = 1 if fault.retry_after is None else fault.retry_after
            return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        return fault.status, {}, {"ok": False, "error": fault.error or "internal_error"}

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

    def _upload(self, file_id: str, body: bytes) -> Reply:
        with self._lock:
            if file_id not in self._file_meta:
                return 404, {"Content-Type": "text/plain"}, b"unknown upload"
            self.files[file_id] = body
        return 200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()

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

    def _show_response(self, context: Json, payload: Json) -> None:
        """What Slack does with a response URL post: a message for everyone (in_channel),
        a replacement of the ephemeral message clicked, or a new ephemeral message."""
        channel, user = context["channel"], context["user"]
        if payload.get("response_type") == "in_channel":
            self._add_message(channel, payload)
            return
        replaced = next((e for e in self._ephemerals if e["ts"] == context.get("replace_ts")), None)
        if payload.get("replace_original") and replaced is not None:
            replaced.update(text=payload.get("text", ""), blocks=payload.get("blocks"))
            return
        self._ephemerals.append(
            {
                "ts": self._next_ts(),
                "channel": channel,
                "user": user,
                "text": payload.get("text", ""),
                "blocks": payload.get("blocks"),
                "thread_ts": None,
            }
        )

    # ---- what people do (the sandbox's page)

    def post_as_user(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> Json:
        """A person writes in a channel or thread; returns the message."""
        with self._lock:
            message = self._add_message(channel, {"text": text, "thread_ts": thread_ts})
            message.update(user=user, bot_id=None)
            self._bump()
            return copy.deepcopy(message)

    def open_view_of(self, user: str) -> Json | None:
        """The modal this user has open, if any (the latest opened, not yet closed)."""
        with self._lock:
            for view_id in reversed(self._opened):
                if self.view_users.get(view_id) == user and view_id not in self.closed_views:
                    return copy.deepcopy(self.views[view_id])
        return None

    def close_view(self, view_id: str) -> None:
        with self._lock:
            self.closed_views.add(view_id)
            self._bump()

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the workspace changed after version `seen` (or timeout)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.version != seen or self._stopping.is_set(), timeout=timeout
            )
            return self.version

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def channel_ids(self) -> list[str]:
        with self._lock:
            return list(self._channels)

    def _bump(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    # ---- helpers for method handlers

    def _next_ts(self) -> str:
        if self.time_source is None:
            micros = next(self._ts_counter) * 100
            return f"{1_700_000_000 + micros // 1_000_000}.{micros % 1_000_000:06d}"
        # Strictly increasing, as Slack's are within a channel.
        self._last_ts = max(self.time_source(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):07d}"

    def _channel(self, params: Json, key: str = "channel") -> str:
        channel = params.get(key)
        if not channel or channel in self.unknown_channels:
            raise SlackError("channel_not_found")
        return str(channel)

    @staticmethod
    def _require(params: Json, *keys: str) -> None:
        missing = [k for k in keys if not params.get(k)]
        if missing:
            messages = [f"[ERROR] missing required field: {k}" for k in missing]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})

    def _check_content(self, params: Json, *, required: bool = True) -> None:
        blocks = params.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            errors = validate_blocks(blocks)
            if errors:
                raise SlackError("invalid_blocks", errors=errors)
            if not params.get("text"):
                self.warnings.append("missing_text_fallback")
        elif required and not params.get("text") and not params.get("attachments"):
            raise SlackError("no_text")

    def _find(self, channel: str, ts: Any) -> Json | None:
        return next((m for m in self._channels.get(channel, []) if m["ts"] == ts), None)

    def _add_message(self, channel: str, params: Json, **extra: Any) -> Json:
        thread_ts = params.get("thread_ts") or None
        message: Json = {
            "type": "message",
            "ts": self._next_ts(),
            "channel": channel,
            "text": params.get("text", ""),
            "blocks": params.get("blocks"),
            "attachments": params.get("attachments"),
            "thread_ts": thread_ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "metadata": params.get("metadata"),
            **extra,
        }
        parent = self._find(channel, thread_ts) if thread_ts else None
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        self._channels.setdefault(channel, []).append(message)
        return message

    def _store_view(self, view: Any, view_id: str | None = None) -> Json:
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["bad view"]})
        errors = validate_blocks(view.get("blocks", []), max_blocks=100)
        if errors:
            messages = [f"[ERROR] {e}" for e in errors]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        view_id = view_id or self._new_id("V")
        stored: Json = {
            "state": {"values": {}},
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "bot_id": BOT_ID,
            "hash": self._new_id("H"),
        }
        self.views[view_id] = stored
        return copy.deepcopy(stored)

    # ---- method handlers (called with the lock held; return the body minus "ok")

    def _auth_test(self, params: Json) -> Json:
        return {
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team_id": TEAM_ID,
            "user": "casedesk",
            "team": "Test",
            "url": "https://test.slack.com/",
        }

    def _chat_post_message(self, params: Json) -> Json:
        channel = self._channel(params)
        self._check_content(params)
        message = self._add_message(channel, params)
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_update(self, params: Json) -> Json:
        channel = self._channel(params)
        message = self._find(channel, params.get("ts"))
        if message is None:
            raise SlackError("message_not_found")
        self._check_content(params, required=False)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, params: Json) -> Json:
        channel = self._channel(params)
        self._require(params, "user")
        self._check_content(params)
        ephemeral = {
            "ts": self._next_ts(),
            "channel": channel,
            "user": params["user"],
            "text": params.get("text", ""),
            "blocks": params.get("blocks"),
            "thread_ts": params.get("thread_ts"),
        }
        self._ephemerals.append(ephemeral)
        return {"message_ts": ephemeral["ts"]}

    def _chat_get_permalink(self, params: Json) -> Json:
        channel = self._channel(params)
        self._require(params, "message_ts")
        ts = str(params["message_ts"])
        link = f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        message = self._find(channel, ts)
        if message and message["thread_ts"] not in (None, ts):
            link += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _chat_delete(self, params: Json) -> Json:
        channel = self._channel(params)
        message = self._find(channel, params.get("ts"))
        if message is None:
            raise SlackError("message_not_found")
        self._channels[channel].remove(message)
        return {"channel": channel, "ts": message["ts"]}

    def _views_open(self, params: Json) -> Json:  # views.open and views.push
        self._require(params, "trigger_id", "view")
        view = self._store_view(params["view"])
        self._opened.append(view["id"])
        user = self.trigger_users.get(str(params["trigger_id"]))
        if user:
            self.view_users[view["id"]] = user
        return {"view": view}

    def _views_update(self, params: Json) -> Json:
        view_id = params.get("view_id") or next(
            (
                v["id"]
                for v in self.views.values()
                if params.get("external_id") and v.get("external_id") == params["external_id"]
            ),
            None,
        )
        if view_id not in self.views:
            raise SlackError("not_found")
        if params.get("hash") and params["hash"] != self.views[view_id]["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._store_view(params.get("view"), view_id)}

    def _views_publish(self, params: Json) -> Json:
        self._require(params, "user_id", "view")
        view = self._store_view(params["view"])
        self.home_views[str(params["user_id"])] = view
        return {"view": view}

    def _users_info(self, params: Json) -> Json:
        user_id = str(params.get("user", ""))
        if user_id not in self.users and not user_id.startswith(("U", "W")):
            raise SlackError("user_not_found")
        user: Json = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "tz": "Europe/Berlin",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "is_bot": user_id == BOT_USER_ID,
            "deleted": False,
        }
        user.update(self.users.get(user_id, {}))
        user.setdefault(
            "profile",
            {
                "real_name": user["real_name"],
                "display_name": user["name"],
                "email": f"{user['name']}@example.com",
            },
        )
        return {"user": user}

    def _usergroups_users_list(self, params: Json) -> Json:
        group = str(params.get("usergroup", ""))
        if group in self.refuse_usergroups:
            raise SlackError("missing_scope", needed="usergroups:read", provided="chat:write")
        if group not in self.usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _conversations_open(self, params: Json) -> Json:
        if params.get("channel"):
            return {"channel": {"id": self._channel(params)}, "already_open": True}
        users = params.get("users") or ""
        ids = users if isinstance(users, list) else [u for u in str(users).split(",") if u]
        if not ids:
            raise SlackError("users_list_not_supplied")
        channel_id = f"D{ids[0]}" if len(ids) == 1 else "G" + "".join(sorted(ids))
        return {"channel": {"id": channel_id}, "no_op": False, "already_open": False}

    def _conversations_history(self, params: Json) -> Json:
        channel = self._channel(params)
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        limit = int(params.get("limit") or 100)
        top = [m for m in self.messages(channel) if oldest < float(m["ts"]) <= latest]
        top.reverse()
        return {
            "messages": top[:limit],
            "has_more": len(top) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, params: Json) -> Json:
        channel = self._channel(params)
        message = self._find(channel, params.get("ts"))
        if message is None:
            raise SlackError("thread_not_found")
        root_ts = message["thread_ts"] or message["ts"]
        root = self._find(channel, root_ts)
        replies = self.thread(channel, root_ts)
        return {"messages": ([copy.deepcopy(root)] if root else []) + replies, "has_more": False}

    def _files_get_upload_url(self, params: Json) -> Json:
        self._require(params, "filename", "length")
        file_id = self._new_id("F")
        self._file_meta[file_id] = {
            "id": file_id,
            "name": params["filename"],
            "title": params["filename"],
            "size": int(params["length"]),
        }
        return {"upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: Json) -> Json:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        if any(e.get("id") not in self.files for e in entries):
            raise SlackError("file_not_found")
        files = []
        for entry in entries:
            meta = self._file_meta[entry["id"]]
            meta["title"] = entry.get("title") or meta["title"]
            files.append(copy.deepcopy(meta))
        channels = [params["channel_id"]] if params.get("channel_id") else []
        channels += [c for c in str(params.get("channels") or "").split(",") if c]
        share = {"text": params.get("initial_comment", ""), "thread_ts": params.get("thread_ts")}
        for channel in [self._channel({"channel": c}) for c in channels]:
            self._add_message(channel, share, files=copy.deepcopy(files))
        return {"files": files}
