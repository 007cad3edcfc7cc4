"""Command line: `python -m bot [serve | db upgrade | check-config [path]]`.

Every failure a person can fix ends in one clear line (or one line per config problem) and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot import migrate
from bot.db import Database, DatabaseUrlError, connect_database
from bot.desk import ConfigError, load_desk_config
from bot.metrics.summaries import DAILY, WEEKLY
from bot.runtime.logs import configure_from_settings
from bot.runtime.scheduler import find_job
from bot.runtime.settings import Settings, SettingsError, load_settings
from bot.timefmt import duration

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.runtime.casedesk import Casedesk

log = logging.getLogger("casedesk")


class UsageError(Exception):
    """Something the operator must fix; the message says what."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    # A server logs what it does; a one-shot command prints its result and only warns.
    long_running = handler in (serve, sandbox)
    configure_from_settings(long_running=long_running)
    try:
        return handler(args)
    except SettingsError as error:
        print(f"casedesk: setting {error}", file=sys.stderr)
    except ConfigError as error:
        if len(error.problems) == 1:
            print(f"casedesk: {error.source}: {error.problems[0]}", file=sys.stderr)
        else:
            print(f"casedesk: {error.source} has {len(error.problems)} problems:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
    except UsageError as error:
        print(f"casedesk: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casedesk" if os.path.basename(sys.argv[0]) == "casedesk" else "python -m bot",
        description="Casedesk, a Slack support desk.",
    )
    parser.set_defaults(handler=serve)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    serving = commands.add_parser("serve", help="serve Slack (the default)")
    serving.add_argument("--workers", type=int, help="processes behind the port (default $WORKERS)")
    serving.set_defaults(handler=serve)
    try_it = commands.add_parser(
        "sandbox", help="try the whole desk in a browser, with a Slack stand-in (no workspace)"
    )
    try_it.add_argument("--port", type=int, default=3000, help="the page's port (default 3000)")
    try_it.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    try_it.add_argument("--seed", action="store_true", help="start with a realistic week of cases")
    try_it.add_argument(
        "--config", help="the desk configuration (default: $SUPPORT_CONFIG or app.yaml)"
    )
    try_it.add_argument(
        "--database",
        help="database URL, kept (default: a fresh SQLite file, removed when the run stops)",
    )
    try_it.set_defaults(handler=sandbox)
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(title="db commands", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(
        handler=db_upgrade
    )
    run_job = commands.add_parser("run-job", help="run one job now and exit")
    run_job.add_argument("job", help="sla-check, daily-summary, weekly-summary or deliver-outbox")
    run_job.add_argument("--team", help="summaries: only this team")
    run_job.add_argument(
        "--date", type=_date, help="summaries: the day (weekly: any day of the week), YYYY-MM-DD"
    )
    run_job.add_argument(
        "--force", action="store_true", help="summaries: post again a period already posted"
    )
    run_job.set_defaults(handler=run_job_now)
    commands.add_parser("jobs", help="list the scheduler's jobs").set_defaults(handler=list_jobs)
    export = commands.add_parser("export", help="write a team's cases as CSV or JSON lines")
    export.add_argument("--team", required=True)
    export.add_argument("--from", dest="start", type=_date, required=True, help="YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_date, required=True, help="YYYY-MM-DD, inclusive")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.set_defaults(handler=export_cases)
    seed = commands.add_parser("seed", help="fill the database with realistic demo cases")
    seed.add_argument("--cases", type=int, default=500)
    seed.add_argument("--days", type=int, default=14)
    seed.set_defaults(handler=seed_cases)
    check = commands.add_parser("check-config", help="validate app.yaml and list every problem")
    check.add_argument("path", nargs="?", help="default: $SUPPORT_CONFIG or app.yaml")
    check.set_defaults(handler=check_config)
    _add_manifest_command(commands)
    return parser


def _add_manifest_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    manifest = commands.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument("--url", help="the bot's https address (Slack sends to URL/slack/events)")
    manifest.add_argument("--socket-mode", action="store_true", help="connect over Socket Mode")
    manifest.set_defaults(handler=print_manifest)


def print_manifest(args: argparse.Namespace) -> int:
    from bot.runtime.manifest import ManifestError, manifest_for

    try:
        print(manifest_for(args.url, socket_mode=args.socket_mode), end="")
    except ManifestError as error:
        raise UsageError(str(error)) from None
    return 0


def check_config(args: argparse.Namespace) -> int:
    path = args.path or load_settings().SUPPORT_CONFIG
    desk = load_desk_config(path)
    print(f"{path}: OK ({len(desk.teams)} team(s), default team {desk.default_team!r})")
    return 0


def db_upgrade(_args: argparse.Namespace) -> int:
    settings = load_settings()
    database = open_database(settings)
    migrate.upgrade(database)
    print(f"Database is at revision {migrate.current_revision(database)}.")
    return 0


def run_job_now(args: argparse.Namespace) -> int:
    casedesk = _build(require_slack=True)
    job = find_job(casedesk.jobs, args.job)
    if job is None:
        names = ", ".join(job.name for job in casedesk.jobs)
        raise UsageError(f"there is no job {args.job!r}; jobs: {names}")
    summary_kind = {"daily-summary": DAILY, "weekly-summary": WEEKLY}.get(job.name)
    if summary_kind:  # unlike the scheduler's quiet run, says what it did for each team
        said, delivered = _post_summaries(casedesk, summary_kind, args)
        print(f"{job.name}: {said}")
        return 0 if delivered else 1
    if args.team or args.date or args.force:
        raise UsageError(f"--team, --date and --force are for the summary jobs, not {job.name}")
    print(f"{job.name}: {job.run()}")
    return 0


def _post_summaries(casedesk: Casedesk, kind: str, args: argparse.Namespace) -> tuple[str, bool]:
    """Post on demand: chosen teams, a chosen period, optionally again. Every team's period is
    checked before any is posted, so a refusal leaves nothing half done. Returns what became
    of each, and whether every one is in Slack now (a summary only queued is not)."""
    desk = casedesk.desk
    if not desk.summary.enabled:
        return "summaries are turned off (summary.enabled in app.yaml); nothing posted.", True
    if args.team and args.team not in desk.teams:
        raise UsageError(f"there is no team {args.team!r}; teams: {', '.join(desk.teams)}")
    teams = [desk.team(args.team)] if args.team else list(desk.teams.values())
    service = casedesk.summaries
    periods = [
        (
            team,
            service.period_of(team, kind, args.date)
            if args.date
            else service.due_period(team, kind),
        )
        for team in teams
    ]
    refusal = service.not_over(periods)
    if refusal:
        raise UsageError(refusal)
    return service.post_on_demand(periods, force=args.force, deliver=casedesk.outbox.deliver_due)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None


def list_jobs(_args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from models import Case

    casedesk = _build(require_slack=False)
    with casedesk.db.read_only() as session:
        next_moment = session.scalar(select(func.min(Case.sla_next_check_at)))
    for job in casedesk.jobs:
        print(
            f"{job.name:<16} every {duration(job.every):<8} next run: at start-up, then every "
            f"{duration(job.every)}  {job.description}"
        )
    if next_moment is not None:
        print(f"next SLA warning or breach falls due at {next_moment:%Y-%m-%d %H:%M} UTC")
    return 0


def export_cases(args: argparse.Namespace) -> int:
    from bot.metrics.export import export_cases as write_cases

    desk = load_desk_config(load_settings().SUPPORT_CONFIG)
    if args.team not in desk.teams:  # checked before any database is opened (or created)
        raise UsageError(f"there is no team {args.team!r}; teams: {', '.join(desk.teams)}")
    if args.end < args.start:
        raise UsageError("--to is before --from")
    casedesk = _build(require_slack=False)
    zone = casedesk.summaries.zone(casedesk.desk.team(args.team))
    start = datetime.combine(args.start, time(0), tzinfo=zone)
    end = datetime.combine(args.end + timedelta(days=1), time(0), tzinfo=zone)
    try:
        count = write_cases(
            casedesk.db,
            team_key=args.team,
            start=start,
            end=end,
            now=casedesk.clock.now(),
            fmt=args.format,
            out=sys.stdout,
        )
    except BrokenPipeError:
        # The reader went away (`export ... | head`): nothing is wrong with the export. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a process ended by SIGPIPE
    print(f"exported {count} case(s)", file=sys.stderr)
    return 0


def seed_cases(args: argparse.Namespace) -> int:
    from bot.seed import seed_cases as write_seed

    if args.cases < 1 or args.days < 1:
        raise UsageError("--cases and --days must be at least 1")
    casedesk = _build(require_slack=False)
    written = write_seed(
        casedesk.db,
        casedesk.desk,
        casedesk.clock,
        cases=args.cases,
        days=args.days,
        progress=lambda done: print(f"  {done:,} cases", file=sys.stderr),
    )
    print(f"seeded {written:,} case(s) over {args.days} day(s)")
    return 0


def _build(*, require_slack: bool) -> Casedesk:
    """The desk with its Bolt app, so every job (replay-requests dispatches through the app)
    can be listed and run."""
    from bot.runtime.assembly import build_app, build_casedesk

    settings = load_settings()
    if require_slack:
        settings.require_slack()
    desk = load_desk_config(settings.SUPPORT_CONFIG)
    database = open_database(settings)
    _ensure_schema(database)
    casedesk = build_casedesk(settings, desk=desk, db=database)
    build_app(casedesk)
    return casedesk


def serve(args: argparse.Namespace) -> int:
    """Connect to Slack first (bind the port, or open the Socket Mode connection), and only
    then start the scheduler: a bot that cannot serve must not run jobs before it exits.
    SIGTERM stops as Ctrl-C does: requests in flight finish and the lease is given up."""
    from bot.runtime.assembly import build_app

    workers = load_settings().WORKERS if getattr(args, "workers", None) is None else args.workers
    if workers != 1:  # several processes, on gunicorn
        from bot.runtime.workers import WorkersError, serve_with_workers

        os.environ["WORKERS"] = str(workers)  # what each worker's settings say

        try:
            serve_with_workers(workers, build=lambda: _build(require_slack=True))
        except WorkersError as error:
            raise UsageError(str(error)) from None
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # waitress then finishes, as on ^C
    casedesk = _build(require_slack=True)
    app = build_app(casedesk)
    try:
        if casedesk.settings.SLACK_APP_TOKEN:
            _serve_socket_mode(app, casedesk)
        else:
            _serve_http(app, casedesk)
    finally:
        casedesk.executor.shutdown(wait=True)
    return 0


def _serve_http(app: App, casedesk: Casedesk) -> None:
    from bot.runtime.server import listen, make_wsgi_app

    settings = casedesk.settings
    application = make_wsgi_app(app, casedesk.db, signing_secret=settings.SLACK_SIGNING_SECRET)
    try:
        server = listen(application, host=settings.HOST, port=settings.PORT)
    except OSError as error:
        raise UsageError(
            f"cannot listen on {settings.HOST}:{settings.PORT} ({error.strerror or error}); "
            "set PORT to a free port"
        ) from None
    log.info("Serving Slack on http://%s:%d/slack/events", settings.HOST, settings.PORT)
    with _scheduler_running(casedesk):
        server.run()


def _serve_socket_mode(app: App, casedesk: Casedesk) -> None:
    from bot.runtime.socket_mode import SocketModeError, connect

    log.info("Connecting to Slack over Socket Mode")
    try:
        handler = connect(app, casedesk.settings.SLACK_APP_TOKEN)
    except SocketModeError as error:  # whatever the network or Slack said: one line
        raise UsageError(
            f"cannot connect to Slack over Socket Mode ({error}); "
            "check SLACK_APP_TOKEN and that Slack is reachable"
        ) from None
    log.info("Connected to Slack over Socket Mode")
    try:
        with _scheduler_running(casedesk):
            threading.Event().wait()
    finally:
        handler.close()  # type: ignore[no-untyped-call]


@contextmanager
def _scheduler_running(casedesk: Casedesk) -> Iterator[None]:
    scheduler = casedesk.scheduler()
    if casedesk.settings.RUN_SCHEDULER:
        scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown()


def sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.runner import SandboxError, run_sandbox

    config = args.config or load_settings().SUPPORT_CONFIG
    try:
        run_sandbox(
            config_path=config,
            host=args.host,
            port=args.port,
            database_url=args.database,
            seed=args.seed,
        )
    except SandboxError as error:
        raise UsageError(str(error)) from None
    return 0


def open_database(settings: Settings) -> Database:
    try:
        return connect_database(settings.DATABASE_URL, pool_size=settings.database_pool_size)
    except DatabaseUrlError as error:
        raise SettingsError(f"DATABASE_URL: {error}") from None


def _ensure_schema(database: Database) -> None:
    """SQLite is migrated on start; a shared PostgreSQL is migrated deliberately by an
    operator, so serving refuses to start on an old schema rather than surprise them."""
    if database.is_sqlite:
        migrate.upgrade(database)
        return
    if migrate.current_revision(database) != migrate.head_revision():
        raise UsageError("the database schema is not up to date; run `python -m bot db upgrade`")


if __name__ == "__main__":
    sys.exit(main())
