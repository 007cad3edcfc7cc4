"""`python -m bot sandbox`: the real bot, wired to an embedded Slack stand-in, with a web page
where people use it as Slack users would.

Everything a person does on the page is delivered to the unchanged bot exactly as Slack would:
signed HTTP requests to `/slack/events` (slash commands, button clicks, modal submissions,
Events API messages). The bot answers through the stand-in's Web API at `SLACK_API_URL`. The
bot's clock is a ManualClock the page can move; moving it runs the scheduler's jobs, so SLA
alerts and summaries appear as time passes.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import secrets
import signal
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot import migrate
from bot.clock import ManualClock
from bot.db import DatabaseUrlError, connect_database
from bot.desk import ConfigError, DeskConfig, load_desk_config
from bot.runtime.assembly import Casedesk, build_app, build_casedesk
from bot.runtime.server import BackgroundServer, make_wsgi_app
from bot.runtime.settings import Settings
from bot.sandbox.signed import SignedRequests
from bot.sandbox.slack_api import Reply, SlackStandIn, StreamingReply
from bot.sandbox.workspace import Persona, channel_directory, personas
from bot.slack.gateway import make_web_client

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CLOCK_STEP = timedelta(minutes=15)
SANDBOX_TOKEN = "xoxb-sandbox"
SSE_KEEPALIVE_SECONDS = 15.0


class SandboxError(Exception):
    """The sandbox cannot start; the message says why and what to do."""


class Sandbox:
    """The page's actions, turned into what Slack would send the bot."""

    def __init__(
        self,
        *,
        desk: DeskConfig,
        clock: ManualClock,
        slack: SlackStandIn,
        casedesk: Casedesk,
        requests: SignedRequests,
    ) -> None:
        self.desk = desk
        self.clock = clock
        self.slack = slack
        self.casedesk = casedesk
        self.requests = requests
        self.people: list[Persona] = personas(desk)
        self.channels = channel_directory(desk)
        self._clock_lock = threading.Lock()
        for person in self.people:
            slack.users[person.user_id] = {"real_name": person.name, "name": person.handle}
        # User groups named in app.yaml exist in the stand-in, with the team's listed people.
        for team in desk.teams.values():
            people = [m for m in team.agents + team.managers if not m.startswith("S")]
            for group in (m for m in team.agents + team.managers if m.startswith("S")):
                slack.usergroups.setdefault(group, people)

    # What people do

    def type_text(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """The composer: `/case ...` is a slash command, anything else a message."""
        text = text.strip()
        if not text:
            return {"ok": False, "error": "Type something first."}
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command != "/case":
                return {"ok": False, "error": f"{command} is not a command here; try /case help"}
            key = self.requests.next_id("cmd")
            self._expect_response(key, user, channel)
            trigger = self._trigger(user)
            result = self.requests.slash_command(
                user=user,
                channel=channel,
                text=rest,
                response_url=self.slack.response_url(key),
                trigger_id=trigger,
            )
            return {"ok": result.status == 200, "status": result.status}
        message = self.slack.post_as_user(channel, user, text, thread_ts=thread_ts)
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": message["ts"],
            "channel_type": "im" if channel.startswith("D") else "channel",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        result = self.requests.event(event)
        return {"ok": result.status == 200, "status": result.status}

    def click(self, user: str, payload: dict[str, Any]) -> dict[str, Any]:
        action = {
            "type": "button",
            "action_id": str(payload.get("action_id", "")),
            "value": str(payload.get("value", "")),
        }
        trigger = self._trigger(user)
        if payload.get("home"):
            view = self.slack.home_views.get(user, {})
            result = self.requests.block_action(
                user=user, action=action, trigger_id=trigger, view=view
            )
            return {"ok": result.status == 200}
        channel = str(payload.get("channel", ""))
        key = self.requests.next_id("click")
        replace = str(payload["message_ts"]) if payload.get("ephemeral") else None
        self._expect_response(key, user, channel, replace_ts=replace)
        result = self.requests.block_action(
            user=user,
            action=action,
            trigger_id=trigger,
            channel=channel,
            message_ts=str(payload.get("message_ts", "")),
            response_url=self.slack.response_url(key),
        )
        return {"ok": result.status == 200}

    def submit(self, user: str, view_id: str, values: dict[str, str]) -> dict[str, Any]:
        view = self.slack.views.get(view_id)
        if view is None or view_id in self.slack.closed_views:
            return {"ok": False, "error": "That form is closed."}
        result = self.requests.view_submission(
            user=user, view=view, values=values, trigger_id=self._trigger(user)
        )
        answer = result.json() if result.body.strip().startswith("{") else None
        if isinstance(answer, dict) and answer.get("response_action") == "errors":
            return {"ok": False, "errors": answer.get("errors", {})}
        self.slack.close_view(view_id)
        return {"ok": result.status == 200}

    def open_home(self, user: str) -> dict[str, Any]:
        event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
        return {"ok": self.requests.event(event).status == 200}

    def advance(self, minutes: int) -> dict[str, Any]:
        """Move the clock in steps, running the scheduler's jobs at each, as time would."""
        if not 0 < minutes <= 60 * 24 * 14:
            return {"ok": False, "error": "Advance between 1 minute and 14 days."}
        with self._clock_lock:
            remaining = timedelta(minutes=minutes)
            while remaining > timedelta(0):
                step = min(CLOCK_STEP, remaining)
                self.clock.advance(step)
                remaining -= step
                self.run_jobs()
        return {"ok": True, "now": self.clock.now().isoformat()}

    def run_jobs(self) -> None:
        for job in self.casedesk.jobs:
            try:
                job.run()
            except Exception:  # keep the sandbox going; the log shows what broke
                log.exception("job %s failed in the sandbox", job.name)

    # What the page reads

    def state(self, user: str) -> dict[str, Any]:
        slack = self.slack
        names = {person.user_id: person.name for person in self.people}
        channels = [*self.channels, *self._direct_channels(user)]
        messages = {channel["id"]: slack.messages(channel["id"]) for channel in channels}
        replies = {
            channel["id"]: {
                message["ts"]: slack.thread(channel["id"], message["ts"])
                for message in messages[channel["id"]]
                if message.get("reply_count")
            }
            for channel in channels
        }
        return {
            "version": slack.version,
            "now": self.clock.now().isoformat(),
            "people": [person.as_json() for person in self.people],
            "names": names,
            "teams": {key: team.name for key, team in self.desk.teams.items()},
            "channels": channels,
            "messages": messages,
            "replies": replies,
            "ephemerals": slack.ephemerals(user),
            "modal": slack.open_view_of(user),
            "home": slack.home_views.get(user),
        }

    def _direct_channels(self, user: str) -> list[dict[str, str]]:
        """The bot's DMs with this person (Slack delivers posts to a user ID there)."""
        ids = [c for c in self.slack.channel_ids() if c in (user, f"D{user}")]
        return [{"id": c, "name": "Casedesk (DM)", "kind": "dm"} for c in ids]

    # Plumbing

    def _trigger(self, user: str) -> str:
        trigger = self.requests.next_id("trigger")
        self.slack.trigger_users[trigger] = user
        return trigger

    def _expect_response(
        self, key: str, user: str, channel: str, *, replace_ts: str | None = None
    ) -> None:
        self.slack.response_contexts[key] = {
            "user": user,
            "channel": channel,
            "replace_ts": replace_ts,
        }


class SandboxPage:
    """The HTTP routes of the page, served next to the stand-in's Web API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> StreamingReply | Reply | None:
        parts = urlsplit(path)
        route = parts.path
        if method == "GET" and route in ("/", "/index.html"):
            return _file(STATIC / "index.html")
        if method == "GET" and route.startswith("/static/"):
            return _file(STATIC / Path(route).name)
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
        sandbox, user = self.sandbox, str(data.get("user", ""))
        handlers = {
            "type": lambda: sandbox.type_text(
                user, str(data.get("channel", "")), str(data.get("text", "")), data.get("thread_ts")
            ),
            "click": lambda: sandbox.click(user, data),
            "submit": lambda: sandbox.submit(
                user, str(data.get("view_id", "")), dict(data.get("values") or {})
            ),
            "close": lambda: _closed(sandbox, str(data.get("view_id", ""))),
            "home": lambda: sandbox.open_home(user),
            "advance": lambda: sandbox.advance(int(data.get("minutes", 0))),
        }
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


def start_sandbox(
    *, config_path: str | Path, host: str, port: int, database_url: str | None, clock: ManualClock
) -> tuple[Sandbox, SlackStandIn, BackgroundServer, Casedesk]:
    """Start the stand-in (and page) and the bot; returns them running."""
    try:
        desk = load_desk_config(config_path)
    except ConfigError as error:
        problems = "\n  ".join(error.problems)
        raise SandboxError(
            f"{error.source} is not a usable desk configuration:\n  {problems}"
        ) from None
    slack = SlackStandIn(host=host, port=port, time_source=lambda: clock.now().timestamp())
    try:
        slack.start()
    except OSError as error:
        raise SandboxError(
            f"cannot listen on {host}:{port} ({error.strerror}); is another sandbox running? "
            "Choose another port with --port"
        ) from None
    url = database_url or f"sqlite:///{tempfile.mkdtemp(prefix='casedesk-sandbox-')}/sandbox.db"
    try:
        database = connect_database(url)
    except DatabaseUrlError as error:
        slack.stop()
        raise SandboxError(f"--database: {error}") from None
    migrate.upgrade(database)
    secret = secrets.token_hex(16)
    settings = Settings(
        SLACK_BOT_TOKEN=SANDBOX_TOKEN,
        SLACK_SIGNING_SECRET=secret,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=url,
        SLACK_CHANNEL_INTERVAL=0,
    )
    client = make_web_client(SANDBOX_TOKEN, base_url=slack.base_url, timeout=5, max_retries=1)
    casedesk = build_casedesk(settings, desk=desk, db=database, clock=clock, client=client)
    bot = BackgroundServer(
        make_wsgi_app(build_app(casedesk), database, signing_secret=secret)
    ).start()
    requests = SignedRequests(bot.url, secret)
    sandbox = Sandbox(desk=desk, clock=clock, slack=slack, casedesk=casedesk, requests=requests)
    slack.routes = SandboxPage(sandbox)
    return sandbox, slack, bot, casedesk


def run_sandbox(
    *, config_path: str | Path, host: str, port: int, database_url: str | None, seed: bool
) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = ManualClock(start - timedelta(days=7) if seed else start)
    sandbox, slack, bot, casedesk = start_sandbox(
        config_path=config_path, host=host, port=port, database_url=database_url, clock=clock
    )
    stop = threading.Event()

    def on_signal(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if seed:
            from bot.sandbox.seeding import seed_week

            print("Seeding a week of cases…", flush=True)
            seed_week(sandbox, until=start)
        print(f"Casedesk sandbox: open {slack.url} in your browser. Ctrl+C stops it.", flush=True)
        scheduler = casedesk.scheduler()
        scheduler.start()
        stop.wait()
        scheduler.shutdown()
    finally:
        print("Stopping…", flush=True)
        bot.stop()
        slack.stop()
        casedesk.executor.shutdown(wait=True)
        casedesk.db.dispose()
