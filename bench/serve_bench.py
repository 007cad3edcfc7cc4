"""Casedesk served as in production, against a bare Bolt app served the same way.

Each runs in its own process behind waitress with 16 threads: `python -m bot serve` (its 16
work threads, as deployed), and a Bolt app whose `/case` listener acks and replies with a fixed
text (a 64-thread listener executor, as the issue set it); both talk to a Slack stand-in in this
process. Closed loop:
N users each send a signed `/case` command and wait for its reply at the response URL before
the next. Each row runs both apps one after the other over 50,000 seeded cases, on SQLite and
PostgreSQL (TEST_DATABASE_URL or --database-url; skipped with a line when unreachable): replies
a second, ratio bot / bare, reply p50 / p99, ack p99, server CPU a reply, cores the rest of the
machine used; then each command's queries (counted on a bot built the same way in this
process), the issue's table and its targets missed. The machine is shared: read the ratios.

    python bench/serve_bench.py                  # the full table, about 8 minutes
    python bench/serve_bench.py --quick          # 5,000 cases, 16 and 64 users, about 2 minutes
    python bench/serve_bench.py --workers 2      # both on gunicorn, 2 processes (PostgreSQL)
    python bench/serve_bench.py --commands show,open --users 16 --profile /tmp/profiles
        # py-spy records the bot in those rows (--gil, and --idle for waits)
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import harness
from harness import SECRET, TOKEN, Replies, Run
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import event

from bot.cases.views.replies import SOMETHING_WENT_WRONG
from bot.clock import SystemClock
from bot.db import Database
from bot.desk import DeskConfig, load_desk_config
from bot.runtime.assembly import build_app, build_casedesk
from bot.runtime.server import BackgroundServer, listen, make_wsgi_app
from bot.runtime.settings import Settings
from bot.sandbox.slack_api import SlackStandIn

COMMANDS = ("help", "show", "list", "open")
FAILED = SOMETHING_WENT_WRONG.encode()
# The desk of its own (app.yaml is edited by people): two teams, business hours, new support
# cases assigned round robin (each open locks its team's turn).
DESK = """
default_team: support
teams:
  support: {name: Support, channel: C0SUPPORT, agents: [U0AGENT1, U0AGENT2],
            managers: [U0MANAGER], assignment: {mode: round_robin}}
  billing: {name: Billing, channel: C0BILLING, agents: [U0BILLING1], managers: [U0MANAGER]}
calendars:
  office: {timezone: Europe/Berlin, hours: {weekdays: ["09:00-12:30", "13:30-18:00"]},
           holidays: {country: DE}}
sla:
  teams:
    support: {default: {first_response: 4h, resolution: 24h, calendar: office},
              p1: {first_response: 15m, resolution: 4h, calendar: 24x7}}
    billing: {default: {first_response: 8h, resolution: 40h, calendar: office}}
"""


def command_texts(command: str, cases: int) -> harness.Texts:
    """What each user types for `command`: `show N` of a random seeded case, `open` with a
    title of its own (the same open again soon would be taken as a retry)."""
    if command == "show":
        draws = random.Random(7)
        return lambda _user, _n: f"show {draws.randint(1, cases)}"
    if command == "open":
        return lambda user, n: f"open Printer {user} on fire, take {n} {time.monotonic_ns()}"
    return lambda _user, _n: {"help": "help", "list": "list open"}[command]


def label(command: str) -> str:
    return {"show": "show N", "list": "list open"}.get(command, command)


@dataclass(frozen=True)
class Row:
    command: str
    users: int
    bare: Run
    bot: Run


@contextmanager
def servers(
    fake: SlackStandIn, db: Database, args: argparse.Namespace
) -> Iterator[dict[str, tuple[str, int]]]:
    """The bare app and the bot, each in its own process: {name: (url, pid)}."""
    ports = {"bare": harness.free_port(), "bot": harness.free_port()}
    argv = {
        "bare": [sys.executable, __file__, "--serve-bare", str(ports["bare"])],
        "bot": [sys.executable, "-m", "bot", "serve"],
    }
    if args.workers > 1:  # both on gunicorn: N processes of 16 threads each
        argv["bot"] += ["--workers", str(args.workers)]
        argv["bare"] = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k"]
        argv["bare"] += ["gthread", "--threads", "16", "-b", f"127.0.0.1:{ports['bare']}"]
        argv["bare"] += ["--chdir", str(Path(__file__).parent), "serve_bench:bare_wsgi()"]
    env = {
        **{"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "DATABASE_URL": db.url},
        **{"SLACK_API_URL": fake.base_url, "SUPPORT_CONFIG": str(args.logs / "desk.yaml")},
        **{"HOST": "127.0.0.1", "PORT": str(ports["bot"])},
        "RUN_SCHEDULER": "false",  # its jobs over 50,000 cases would be noise in the figures
        **dict(setting.split("=", 1) for setting in args.bot_env),
    }
    with ExitStack() as stack:
        yield {
            app: (
                f"http://127.0.0.1:{port}",
                stack.enter_context(
                    harness.served(argv[app], env=env, port=port, log=args.logs / f"{app}.log")
                ),
            )
            for app, port in ports.items()
        }


def bench(args: argparse.Namespace, name: str, db: Database, results: dict[str, list[Row]]) -> None:
    args.database_name = name
    desk = load_desk_config(args.logs / "desk.yaml")
    harness.seed_once(name, db, desk, cases=args.cases, days=args.days)
    rows: list[Row] = []
    with SlackStandIn() as fake, servers(fake, db, args) as apps:
        replies = Replies(fake)
        for command in args.commands:
            for url, _ in apps.values():  # warm up: connections, caches, auth.test
                harness.closed_loop(
                    url, replies, users=1, texts=command_texts(command, args.cases),
                    seconds=0.3, warm_up=0, judge=bool,
                )  # fmt: skip
            for users in args.users:
                args.users_now = users
                rows.append(run_row(args, command, apps, replies))
                print_row(name, rows[-1], header=len(rows) == 1)
        queries = count_queries(args, db, desk, fake, replies)
    print_queries(name, queries)
    results[name] = rows


def run_row(
    args: argparse.Namespace, command: str, apps: dict[str, tuple[str, int]], replies: Replies
) -> Row:
    order = ["bare", "bot"] if len(args.done) % 2 == 0 else ["bot", "bare"]
    args.done.append(command)
    runs: dict[str, Run] = {}
    for app in order:
        url, pid = apps[app]
        texts = command_texts(command, args.cases)
        with profiling(args, command, pid if app == "bot" else None):
            runs[app] = harness.measured(
                url, pid, replies, users=args.users_now, texts=texts, seconds=args.seconds,
                warm_up=args.warm_up, judge=lambda body: FAILED not in body,
            )  # fmt: skip
        time.sleep(0.3)  # what the last run left (cards still posting) settles
    return Row(command, args.users_now, runs["bare"], runs["bot"])


@contextmanager
def profiling(args: argparse.Namespace, command: str, pid: int | None) -> Iterator[None]:
    """With --profile, py-spy records the bot over the measured window (raw collapsed stacks,
    which speedscope opens): with --gil, what holds the interpreter (the process is bound by
    it); with --idle, every thread, waiting or not."""
    if args.profile is None or pid is None:
        yield
        return
    args.profile.mkdir(parents=True, exist_ok=True)
    base = args.profile / f"{command}-{args.users_now}u-{args.database_name}"
    spy = Path(sys.executable).with_name("py-spy")  # installed in the venv
    record = [str(spy if spy.exists() else "py-spy"), "record", "--pid", str(pid)]
    record += ["--rate", "200", "--format", "raw", "--nonblocking", "--subprocesses"]
    record += ["--duration", str(max(int(args.seconds), 1))]
    spies: list[subprocess.Popen[bytes]] = []

    def start() -> None:  # after the warm-up
        for kind, extra in (("gil", ["--gil"]), ("wall", ["--idle"])):
            out = ["-o", f"{base}.{kind}.txt"]
            spies.append(subprocess.Popen([*record, *extra, *out], stdout=subprocess.DEVNULL))

    timer = threading.Timer(args.warm_up, start)
    timer.start()
    try:
        yield
    finally:
        timer.join()
        for process in spies:
            process.wait(timeout=60)
        print(f"  profiles: {base}.gil.txt, {base}.wall.txt")


# ---- queries per request, counted on a bot built the same way in this process

# Per command: queries on the ack's path, after it, commits, connection checkouts (each a
# new connection when the pool has none idle), Slack Web API calls.
Counts = dict[str, tuple[float, ...]]


def count_queries(
    args: argparse.Namespace, db: Database, desk: DeskConfig, fake: SlackStandIn, replies: Replies
) -> Counts:
    """What one request of each command costs, over sequential requests; the ack's path is
    what runs on waitress's and Bolt's ack threads."""
    counted: collections.Counter[str] = collections.Counter()

    def on_query(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):  # SQLite's, sent as statements (bot/db.py)
            return
        thread = threading.current_thread().name
        counted["work" if thread.startswith(("casedesk-work", "casedesk-deliver")) else "ack"] += 1

    def bump(kind: str) -> Callable[..., None]:
        return lambda *_args: counted.update([kind])

    more = dict(setting.split("=", 1) for setting in args.bot_env)  # as the bot's process
    settings = Settings(
        SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake.base_url, **more
    )
    casedesk = build_casedesk(settings, desk=desk, db=db, clock=SystemClock())
    server = BackgroundServer(make_wsgi_app(build_app(casedesk), db, signing_secret=SECRET))
    hooks = {"before_cursor_execute": on_query, "commit": bump("commit")}
    hooks["checkout"] = bump("checkout")
    for name, hook in hooks.items():
        for engine in db.engines:
            event.listen(engine, name, hook)
    found: Counts = {}
    try:
        server.start()
        for command in args.commands:
            for seconds in (0.2, args.count_seconds):  # a warm-up, then the count
                casedesk.executor.wait_idle(30)
                counted.clear()
                calls = len(fake.calls)
                samples, _, _ = harness.closed_loop(
                    server.url, replies, users=1, texts=command_texts(command, args.cases),
                    seconds=seconds, warm_up=0, judge=bool,
                )  # fmt: skip
                casedesk.executor.wait_idle(30)
            n = len(samples)
            kinds = ("ack", "work", "commit", "checkout")
            found[command] = (*(counted[k] / n for k in kinds), (len(fake.calls) - calls) / n)
    finally:
        for name, hook in hooks.items():
            for engine in db.engines:
                event.remove(engine, name, hook)
        server.stop()
        casedesk.executor.shutdown()
    return found


# ---- the tables


def ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def print_row(name: str, row: Row, *, header: bool) -> None:
    if header:
        print(
            f"\n[{name}] {'command':<9} {'users':>5} | {'bot/s':>6} {'bare/s':>6} {'ratio':>5} | "
            f"{'bot reply p50/p99':>17} {'bare p50/p99':>13} | {'ack p99 bot/bare':>16} | "
            f"{'CPU ms/req bot/bare':>19} | {'rest':>5} | failed"
        )
    bot, bare = row.bot, row.bare
    print(
        f"[{name}] {label(row.command):<9} {row.users:>5} | {ms(bot.figures.per_second):>6} "
        f"{ms(bare.figures.per_second):>6} {ratio(bot, bare):>5.2f} | "
        f"{ms(bot.figures.reply_p50_ms):>8} / {ms(bot.figures.reply_p99_ms):<6} "
        f"{ms(bare.figures.reply_p50_ms):>5} / {ms(bare.figures.reply_p99_ms):<5} | "
        f"{ms(bot.figures.ack_p99_ms):>7} / {ms(bare.figures.ack_p99_ms):<6} | "
        f"{bot.server_ms:>9.1f} / {bare.server_ms:<7.1f} | {max(bot.rest, bare.rest):>5.2f} | "
        f"{bot.figures.failed + bare.figures.failed}",
        flush=True,
    )


def ratio(bot: Run, bare: Run) -> float:
    return bot.figures.per_second / max(bare.figures.per_second, 1e-9)


def print_queries(name: str, counts: Counts) -> None:
    print(f"[{name}] a request, counted on sequential requests:")
    for command, (ack, work, commits, checkouts, calls) in counts.items():
        print(
            f"[{name}]   {label(command):<9} {ack + work:5.1f} queries ({ack:.1f} before the "
            f"ack, {work:.1f} after), {commits:.1f} commits, {checkouts:.1f} connection "
            f"checkouts, {calls:.1f} Slack API calls"
        )


def misses(row: Row) -> list[str]:
    """The issue's targets (stated for PostgreSQL at 16 and 64 users) this row misses."""
    bot, bare, faster = row.bot.figures, row.bare.figures, ratio(row.bot, row.bare)
    reads, opens = row.command in ("show", "list"), row.command == "open"
    checks = [
        (reads and faster < 0.6, "throughput < 0.6x"),
        (reads and bot.reply_p50_ms > 1.5 * bare.reply_p50_ms, "p50 > 1.5x bare"),
        (opens and faster < 0.3, "throughput < 0.3x"),
        (opens and row.users >= 64 and bot.reply_p99_ms > 250, "p99 > 250 ms"),
        (bot.ack_p99_ms > 1.25 * bare.ack_p99_ms, "ack p99 > 1.25x bare"),
    ]
    return [what for missed, what in checks if missed] if row.users >= 16 else []


def print_summary(results: dict[str, list[Row]]) -> None:
    """The issue's table: latencies are PostgreSQL's where it ran, else SQLite's."""
    pg = {(r.command, r.users): r for r in results.get("postgres", [])}
    lite = {(r.command, r.users): r for r in results.get("sqlite", [])}
    print(
        "\n| command | users | PostgreSQL: bot / bare throughput | bot reply p50 / p99 | "
        "ack p99 bot / bare | SQLite: bot / bare throughput | targets missed (PostgreSQL) |"
    )
    print("|---|---|---|---|---|---|---|")  # fmt: skip
    for key in dict.fromkeys([*pg, *lite]):
        main, other = pg.get(key), lite.get(key)
        shown = main or other
        assert shown is not None
        bot, bare = shown.bot.figures, shown.bare.figures
        opened = f" ({ms(bot.per_second)} cases/s)" if key[0] == "open" else ""
        print(
            f"| `{label(key[0])}` | {key[1]} | "
            + (f"{ratio(main.bot, main.bare):.2f}{opened}" if main else "-")
            + f" | {ms(bot.reply_p50_ms)} / {ms(bot.reply_p99_ms)} ms"
            + f" | {ms(bot.ack_p99_ms)} / {ms(bare.ack_p99_ms)} ms | "
            + (f"{ratio(other.bot, other.bare):.2f}" if other else "-")
            + f" | {(', '.join(misses(main)) or 'met') if main and key[1] >= 16 else '-'} |"
        )


# ---- the command line


def bare_wsgi() -> SlackRequestHandler:
    """The bare app (its WSGI app: gunicorn's factory with --workers)."""
    return SlackRequestHandler(harness.bare_bolt(os.environ["SLACK_API_URL"]))


def main() -> None:
    options = harness.parser(__doc__, postgres_from_env=True)
    options.add_argument("--cases", type=int, help="cases to seed (50,000; 5,000 with --quick)")
    options.add_argument("--days", type=int, default=60, help="spread over this many days")
    options.add_argument("--users", help="comma-separated (1,16,64; 16,64 with --quick)")
    options.add_argument("--commands", default=",".join(COMMANDS), help="of help,show,list,open")
    options.add_argument("--seconds", type=float, help="measured a run (6; 1.5 with --quick)")
    options.add_argument("--quick", action="store_true", help="a smaller, shorter run")
    many = "serve both with N processes on gunicorn (`serve --workers N`; PostgreSQL only)"
    options.add_argument("--workers", type=int, default=1, metavar="N", help=many)
    options.add_argument("--profile", type=Path, metavar="DIR", help="record the bot with py-spy")
    more = "a setting for the bot's process, e.g. SLACK_CHANNEL_INTERVAL=0 (repeatable)"
    options.add_argument("--bot-env", action="append", default=[], metavar="NAME=VALUE", help=more)
    options.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.serve_bare:  # the bare app's process: waitress with 16 threads, as the bot's
        listen(bare_wsgi(), host="127.0.0.1", port=args.serve_bare).run()
        return
    quick = args.quick
    args.cases = args.cases or (5_000 if quick else 50_000)
    users = (args.users or ("16,64" if quick else "1,16,64")).split(",")
    if not all(u.strip().isdigit() for u in users):
        options.error(f"--users takes numbers separated by commas, not {args.users!r}")
    args.users = [int(u) for u in users]
    args.commands = [c.strip() for c in args.commands.split(",")]
    args.seconds = args.seconds or (1.5 if quick else 6.0)
    args.warm_up, args.count_seconds, args.done = (0.5, 1.5, []) if quick else (1.0, 3.0, [])
    if unknown := set(args.commands) - set(COMMANDS):
        options.error(f"unknown command(s) {', '.join(sorted(unknown))}; of {', '.join(COMMANDS)}")
    if any("=" not in setting for setting in args.bot_env):
        options.error("--bot-env takes NAME=VALUE")
    if min(args.cases, *args.users, args.workers) < 1 or args.seconds <= 0:
        options.error("--cases, --users, --workers and --seconds must be positive")
    results: dict[str, list[Row]] = {}
    started, load = time.monotonic(), Path("/proc/loadavg").read_text().split()[:3]
    args.logs = Path(tempfile.mkdtemp(prefix="serve_bench-"))
    (args.logs / "desk.yaml").write_text(DESK)
    print(f"load average at start: {' '.join(load)} ({os.cpu_count()} cores); logs in {args.logs}")
    if args.workers > 1 and not args.skip_sqlite:
        print("sqlite: skipped, the bot serves SQLite from one process only (--workers)")
        args.skip_sqlite = True
    if not args.postgres:
        print("postgres: skipped, no URL (set TEST_DATABASE_URL or pass --database-url)")
    harness.on_each_database(args, lambda name, db: bench(args, name, db, results))
    if results:
        print_summary(results)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\n{time.monotonic() - started:.0f} s; load average at the end: {' '.join(load)}")


if __name__ == "__main__":
    main()
