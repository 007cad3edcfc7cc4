"""An incident in a help channel: a burst of messages captured as cases, against Slack's pace.

A help channel with `intake.auto` gets `--messages` (500) top-level messages from `--people`
(100) people within `--within` seconds (60), each delivered to the real app as Slack does
(signed Events API requests over HTTP, on waitress, several at a time). Each person writes
every few seconds, so their first message opens a case and the next ones join it. The Slack
stand-in keeps Slack's pace for posting, one message per second per channel (429 with
Retry-After beyond it); the app's own scheduler runs, as in production.

It prints how many messages became cases or joined one (none twice, none lost), the acks
(p50, p99, max; Slack wants them within 3 s), and how long until every reply the burst
caused (the "Case #N is open" answers in the help channel, the cards and their first posts
in the team channel) was delivered, against the floor Slack's pace sets.

    python bench/intake_bench.py [--messages 500] [--people 100] [--within 60] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from harness import on_each_database, parser
from sqlalchemy import func, select

from bot import migrate
from bot.clock import SystemClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.runtime.assembly import build_app, build_casedesk
from bot.runtime.casedesk import Casedesk
from bot.runtime.server import BackgroundServer, make_wsgi_app
from bot.runtime.settings import Settings
from bot.sandbox.signed import SignedRequests
from bot.sandbox.slack_api import SlackStandIn
from models import Case, CaseMessage, OutboxMessage

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
HELP, TEAM = "C0HELP", "C0SUPPORT"
DESK = f"""
default_team: support
teams:
  support:
    name: Support
    channel: {TEAM}
    agents: [U0AGENT]
    managers: [U0MANAGER]
    routes_from: [{HELP}]
    intake: {{auto: true}}
"""
SLACK_ACK_LIMIT = 3.0


def build(fake: SlackStandIn, db: Database) -> tuple[Casedesk, BackgroundServer]:
    settings = Settings(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=db.url,
        SLACK_CHANNEL_INTERVAL=1.0,
    )
    desk = parse_desk_config(DESK, source="bench desk")
    casedesk = build_casedesk(settings, desk=desk, db=db, clock=SystemClock())
    server = BackgroundServer(make_wsgi_app(build_app(casedesk), db, signing_secret=SECRET))
    return casedesk, server.start()


def burst(url: str, fake: SlackStandIn, args: argparse.Namespace) -> list[float]:
    """Deliver the messages on schedule; returns each delivery's time to its ack."""
    signed = SignedRequests(url, SECRET)
    gap = args.within / args.messages
    started = time.perf_counter()

    def deliver(n: int) -> float:
        time.sleep(max(0.0, started + n * gap - time.perf_counter()))
        author = f"U0PERSON{n % args.people:04d}"
        message = fake.post_as_user(HELP, author, f"Checkout is down for me ({n})")
        event = {
            "type": "message",
            "channel": HELP,
            "user": author,
            "text": message["text"],
            "ts": message["ts"],
            "channel_type": "channel",
            "event_ts": message["ts"],
        }
        sent = time.perf_counter()
        result = signed.event(event)
        assert result.status == 200, result
        return time.perf_counter() - sent

    with ThreadPoolExecutor(max_workers=32) as pool:
        return list(pool.map(deliver, range(args.messages)))


def outstanding(db: Database) -> int:
    with db.read_only() as session:
        waiting = OutboxMessage.state.in_(("pending", "sending"))
        return int(session.scalar(select(func.count()).where(waiting)) or 0)


def counts(db: Database) -> tuple[int, int]:
    with db.read_only() as session:
        cases = int(session.scalar(select(func.count()).select_from(Case)) or 0)
        messages = int(session.scalar(select(func.count()).select_from(CaseMessage)) or 0)
    return cases, messages


def bench(args: argparse.Namespace, name: str, db: Database) -> None:
    migrate.upgrade(db)
    with SlackStandIn() as fake:
        fake.posts_per_second_per_channel = 1.0  # Slack's pace for chat.postMessage
        casedesk, server = build(fake, db)
        scheduler = casedesk.scheduler()
        scheduler.start()
        try:
            started = time.perf_counter()
            acks = sorted(burst(server.url, fake, args))
            burst_over = time.perf_counter() - started
            casedesk.executor.wait_idle(120)
            while outstanding(db) and time.perf_counter() - started < args.timeout:
                time.sleep(0.5)
            delivered = time.perf_counter() - started
            left = outstanding(db)
        finally:
            scheduler.shutdown()
            server.stop()
            casedesk.executor.shutdown(wait=True)
        report(name, args, fake, db, acks, burst_over, delivered, left)


def report(
    name: str,
    args: argparse.Namespace,
    fake: SlackStandIn,
    db: Database,
    acks: list[float],
    burst_over: float,
    delivered: float,
    left: int,
) -> None:
    cases, kept = counts(db)
    answers = [
        m for m in fake.messages(HELP) for r in fake.thread(HELP, m["ts"]) if r.get("bot_id")
    ]
    cards = fake.messages(TEAM)
    team_posts = len(cards) + sum(len(fake.thread(TEAM, card["ts"])) for card in cards)
    floor = max(len(answers), team_posts) - 1  # one post a second in the busiest channel
    print(f"{name}: {args.messages} messages from {args.people} people in {burst_over:.0f} s")
    print(
        f"  captured   {kept} of {args.messages} messages: {cases} cases, "
        f"{kept - cases} joined their author's case; {len(answers)} 'case is open' answers"
    )
    late = sum(1 for ack in acks if ack > SLACK_ACK_LIMIT)
    print(
        f"  acks       p50 {statistics.median(acks) * 1000:.0f} ms   "
        f"p99 {acks[int(len(acks) * 0.99) - 1] * 1000:.0f} ms   max {acks[-1] * 1000:.0f} ms   "
        f"{late} over Slack's 3 s"
    )
    print(
        f"  delivered  every reply {delivered:.0f} s after the first message "
        f"({left} still queued); at Slack's pace its busiest channel needs {floor} s"
    )
    problems = []
    if kept != args.messages:
        problems.append(f"{args.messages - kept} message(s) neither opened nor joined a case")
    if len(answers) != cases:
        problems.append(f"{len(answers)} answers for {cases} cases")
    if late:
        problems.append(f"{late} ack(s) over 3 s")
    print("  OK" if not problems else "  PROBLEMS: " + "; ".join(problems))


def main() -> None:
    options = parser(__doc__)
    options.add_argument("--messages", type=int, default=500)
    options.add_argument("--people", type=int, default=100)
    options.add_argument("--within", type=float, default=60.0, help="seconds of the burst")
    options.add_argument("--timeout", type=float, default=900.0, help="give up delivering after")
    args = options.parse_args()
    on_each_database(args, lambda name, db: bench(args, name, db))


if __name__ == "__main__":
    main()
