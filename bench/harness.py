"""What the benchmark scripts share: the command line, the scratch databases, a bare Bolt app
to measure against, servers in processes of their own, and closed-loop load over HTTP."""

from __future__ import annotations

import argparse
import http.client
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import App
from sqlalchemy import func, select

from bot import migrate
from bot.clock import SystemClock
from bot.db import Database, DatabaseUrlError, connect_database, scratch_schema, use_schema
from bot.desk import DeskConfig
from bot.sandbox.signed import HttpResult, SignedRequests
from bot.sandbox.slack_api import SlackStandIn
from bot.sandbox.slack_http import Reply
from bot.seed import seed_cases
from bot.slack.gateway import make_web_client
from models import Case

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
BARE_REPLY = "Case #1: Printer on fire"


def parser(description: str | None, *, postgres_from_env: bool = False) -> argparse.ArgumentParser:
    """Options every benchmark takes; each script adds its own sizes. With `postgres_from_env`
    PostgreSQL is on by default when TEST_DATABASE_URL is set."""
    options = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument(
        "--postgres",
        "--database-url",
        dest="postgres",
        default=os.environ.get("TEST_DATABASE_URL") if postgres_from_env else None,
        help="a PostgreSQL URL; a scratch schema is made and dropped"
        + (" (default: TEST_DATABASE_URL)" if postgres_from_env else ""),
    )
    options.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    options.add_argument(
        "--keep",
        metavar="NAME",
        help="keep the seeded data (PostgreSQL schema NAME, SQLite file NAME.db in the temp "
        "folder) so a later run with the same NAME skips seeding",
    )
    return options


def on_each_database(args: argparse.Namespace, bench: Callable[[str, Database], None]) -> None:
    """Run `bench` on a fresh SQLite file, then on a scratch PostgreSQL schema if asked (and
    reachable: otherwise one line says why it is skipped)."""
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(tempfile.gettempdir(), f"{args.keep}.db") if args.keep else None
            sqlite = Database(f"sqlite:///{path or Path(folder, 'bench.db')}")
            bench("sqlite", sqlite)
            sqlite.dispose()
    if args.postgres:
        try:
            connect_database(args.postgres).dispose()
        except DatabaseUrlError as error:
            print(f"postgres: skipped, {error}")
            return
        # A kept schema outlives the run: seeding a million cases takes minutes, timing the
        # queries over them seconds.
        kept = nullcontext(use_schema(args.postgres, args.keep)) if args.keep else None
        with kept or scratch_schema(args.postgres, prefix="casedesk_bench") as url:
            postgres = Database(url)
            bench("postgres", postgres)
            postgres.dispose()


def already_seeded(db: Database, cases: int, *, grows: bool = False) -> bool:
    """True when a kept database holds exactly `cases` cases (another size is reseeded); with
    `grows` (the benchmark opens cases of its own), at least `cases`."""
    with db.read_only() as session:
        held = int(session.scalar(select(func.count()).select_from(Case)) or 0)
    if held not in (0, cases) and not (grows and held > cases):
        raise SystemExit(f"the kept database holds {held:,} cases, not {cases:,}: drop it first")
    return held >= cases if grows else held == cases


def seed_once(name: str, db: Database, desk: DeskConfig, *, cases: int, days: int) -> None:
    """Migrate and seed `cases` cases over `days` days, unless a kept database has them (it
    may have more: the benchmark opened cases of its own)."""
    migrate.upgrade(db)
    if already_seeded(db, cases, grows=True):
        print(f"[{name}] reusing the {cases:,} cases seeded by an earlier run", flush=True)
        return
    started = time.perf_counter()
    seed_cases(db, desk, SystemClock(), cases=cases, days=days)
    vacuum_analyze(db)
    print(f"[{name}] seeded {cases:,} cases in {time.perf_counter() - started:.0f} s", flush=True)


def vacuum_analyze(db: Database) -> None:
    """Fresh statistics (and on PostgreSQL the visibility map) after a bulk load, as autovacuum
    would leave them on a live database (index-only scans depend on the visibility map)."""
    if db.is_sqlite:
        with db.engine.begin() as connection:  # our SQLite engine begins explicitly: commit
            connection.exec_driver_sql("ANALYZE")
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")  # cannot run inside a transaction


def bare_bolt(api_url: str, *, listener_threads: int = 64) -> App:
    """The baseline: a Bolt app whose `/case` acks and answers at the response URL with a
    fixed text, on a listener executor as big as Casedesk's work pool."""
    app = App(
        signing_secret=SECRET,
        client=make_web_client(TOKEN, base_url=api_url),
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(listener_threads, thread_name_prefix="bare"),
    )

    @app.command("/case")
    def answer(ack: Any, respond: Any) -> None:
        ack()
        respond(text=BARE_REPLY, response_type="ephemeral")

    return app


# ---- closed-loop load: each user sends a command and waits for its reply before the next


@dataclass
class _Awaited:
    done: threading.Event = field(default_factory=threading.Event)
    at: float = 0.0
    body: bytes = b""


class Replies:
    """Posts to the stand-in's response URLs whose key starts with `bench-`, taken before the
    stand-in records them (its records grow without end), for the load to wait on."""

    def __init__(self, fake: SlackStandIn) -> None:
        self._fake = fake
        self._awaited: dict[str, _Awaited] = {}
        self._lock = threading.Lock()
        fake.routes = self._route
        # The stand-in listens with socketserver's backlog of 5: under load, replies' new
        # connections overflow it and wait out a SYN retry (1 s), as no Slack would make them.
        fake._server.socket.listen(1024)  # type: ignore[union-attr]

    def url(self, key: str) -> str:
        with self._lock:
            self._awaited[key] = _Awaited()
        return self._fake.response_url(key)

    def wait(self, key: str, timeout: float) -> tuple[float, bytes] | None:
        """When the reply for `key` arrived (perf_counter) and its body; None on timeout."""
        with self._lock:
            awaited = self._awaited[key]
        arrived = awaited.done.wait(timeout)
        with self._lock:
            del self._awaited[key]
        return (awaited.at, awaited.body) if arrived else None

    def _route(self, method: str, path: str, _headers: Any, body: bytes) -> Reply | None:
        key = path.rpartition("/")[2]
        if method != "POST" or not path.startswith("/response/bench-"):
            return None
        with self._lock:
            awaited = self._awaited.get(key)
        if awaited is not None and not awaited.done.is_set():  # the first reply counts
            awaited.at, awaited.body = time.perf_counter(), body
            awaited.done.set()
        return 200, {"Content-Type": "text/plain"}, b"ok"


class KeptAlive(SignedRequests):
    """Signed requests over one kept-alive connection, as a busy Slack sends them."""

    def __init__(self, app_url: str, signing_secret: str) -> None:
        super().__init__(app_url, signing_secret)
        parts = urlsplit(app_url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._connection: http.client.HTTPConnection | None = None

    def http(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> HttpResult:
        try:
            if self._connection is None:
                self._connection = http.client.HTTPConnection(*self._address, timeout=30)
            self._connection.request(method, path, body, headers)
            response = self._connection.getresponse()
            return HttpResult(response.status, response.read().decode())
        except (http.client.HTTPException, OSError) as error:  # failed; the next reconnects
            self._connection = None
            return HttpResult(0, repr(error))


@dataclass
class Sample:
    sent: float
    acked: float
    replied: float | None  # None: no reply in time
    ok: bool  # answered 200 and replied with no failure


# What a user sends: (user number, request number) -> the command's text.
Texts = Callable[[int, int], str]
# Whether a reply's body is a success.
Judge = Callable[[bytes], bool]


def closed_loop(
    app_url: str,
    replies: Replies,
    *,
    users: int,
    texts: Texts,
    seconds: float,
    warm_up: float,
    judge: Judge,
    channel: str = "C0SUPPORT",
) -> tuple[list[Sample], float, float]:
    """`users` users send signed `/case` commands for `warm_up + seconds`, each waiting for
    the reply at its response URL before sending the next. Returns every sample and the
    measured window (start, end) in perf_counter time."""
    start = time.perf_counter() + warm_up
    end = start + seconds
    run = f"{time.monotonic_ns():x}"

    def user(number: int) -> list[Sample]:
        signed, samples, n = KeptAlive(app_url, SECRET), [], 0
        while time.perf_counter() < end:
            key = f"bench-{run}-{number}-{n}"
            response_url = replies.url(key)
            sent = time.perf_counter()
            answer = signed.slash_command(
                user=f"U0BENCH{number:03d}",
                channel=channel,
                text=texts(number, n),
                response_url=response_url,
                trigger_id=signed.next_id("trigger"),
            )
            acked = time.perf_counter()
            reply = replies.wait(key, timeout=30) if answer.status == 200 else None
            ok = reply is not None and judge(reply[1])
            samples.append(Sample(sent, acked, reply[0] if reply else None, ok))
            n += 1
        return samples

    with ThreadPoolExecutor(users, thread_name_prefix="bench-user") as pool:
        every = [s for found in pool.map(user, range(users)) for s in found]
    return every, start, end


@dataclass(frozen=True)
class Figures:
    per_second: float  # replies that arrived in the window, a second
    reply_p50_ms: float
    reply_p99_ms: float
    ack_p50_ms: float
    ack_p99_ms: float
    failed: int  # in the window: no 200, no reply in time, or a failure replied


def figures(samples: list[Sample], start: float, end: float) -> Figures:
    replied = [s for s in samples if s.replied is not None and start <= s.replied <= end]
    inside = [s for s in samples if s.sent >= start and s.acked <= end]
    replies = sorted(s.replied - s.sent for s in inside if s.replied is not None)
    acks = sorted(s.acked - s.sent for s in inside)
    return Figures(
        per_second=len(replied) / (end - start),
        reply_p50_ms=percentile(replies, 0.5) * 1000,
        reply_p99_ms=percentile(replies, 0.99) * 1000,
        ack_p50_ms=percentile(acks, 0.5) * 1000,
        ack_p99_ms=percentile(acks, 0.99) * 1000,
        failed=sum(1 for s in inside if not s.ok),
    )


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest rank; NaN for no values."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass(frozen=True)
class Run:
    figures: Figures
    replies: int  # over the whole run, warm-up included
    server_ms: float  # the server's CPU time a reply
    rest: float  # cores the rest of the machine used meanwhile (a database server included)


def measured(url: str, pid: int, replies: Replies, **load: Any) -> Run:
    """`closed_loop(url, replies, **load)` against the server process `pid`, with the CPU it
    (and its workers) and the rest of the machine (all but it and this process) spent."""
    ours, server, busy = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(pid), machine_busy()
    samples, start, end = closed_loop(url, replies, **load)
    after = resource.getrusage(resource.RUSAGE_SELF)
    server = cpu_seconds(pid) - server
    mine = after.ru_utime + after.ru_stime - ours.ru_utime - ours.ru_stime
    answered = sum(1 for s in samples if s.replied is not None)
    return Run(
        figures(samples, start, end),
        answered,
        server * 1000 / max(answered, 1),
        max(machine_busy() - busy - server - mine, 0) / (load["seconds"] + load["warm_up"]),
    )


# ---- servers in processes of their own, and the CPU they and the machine spend


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(argv: list[str], *, env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """Run a server process (its output to `log`) until the block ends; yields its pid once
    its port accepts connections."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            argv, env={**os.environ, **env}, cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace").strip().splitlines()[-5:]
                raise SystemExit(f"{argv[1:3]} did not start: " + " | ".join(tail))
            time.sleep(0.1)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process `pid` and its children (workers) used so far."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):  # a process that ended meanwhile
            fields = stat.read_text().rpartition(")")[2].split()
            if stat.parent.name == str(pid) or fields[1] == str(pid):
                total += sum(int(tick) for tick in fields[11:15])  # and their children's
    return total / _TICK


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot, over every core."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / _TICK
