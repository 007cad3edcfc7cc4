"""How fast the bot acknowledges slash commands, against a bare Bolt app served the same way.

Both run in this process behind the same waitress server and answer signed `/case` commands
from the same load: Casedesk carries out `/case show 1` (the inbox keeps the request, the
work pool reads the case and answers at the response URL of a local Slack stand-in); the bare
app acks and answers at the response URL. The script prints, for each, the requests per second
over the run and the median and 99th percentile time to the HTTP answer (the ack), and the
ratios Casedesk / bare. The machine is noisy: read the ratios, run it twice.

    python bench/ack_bench.py [--requests 600] [--concurrency 16] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness import SECRET, TOKEN, bare_bolt, on_each_database, parser
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import migrate
from bot.cases.changes import Actor
from bot.cases.rules import CaseService
from bot.clock import SystemClock
from bot.db import Database
from bot.desk import parse_desk_config
from bot.roster import Roster
from bot.runtime.assembly import build_app, build_casedesk
from bot.runtime.server import BackgroundServer, make_wsgi_app
from bot.runtime.settings import Settings
from bot.sandbox.signed import SignedRequests
from bot.sandbox.slack_api import SlackStandIn
from bot.sla.policies import SlaPolicies
from bot.sla.timers import SlaTracker
from models import EventSource

DESK = """
default_team: support
teams:
  support: {name: Support, channel: C0SUPPORT, agents: [U0AGENT], managers: [U0MANAGER]}
"""


def casedesk_app(fake: SlackStandIn, db: Database) -> tuple[Any, Callable[[float], bool]]:
    settings = Settings(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=db.url,
    )
    desk = parse_desk_config(DESK, source="bench desk")
    casedesk = build_casedesk(settings, desk=desk, db=db, clock=SystemClock())
    app = build_app(casedesk)
    return make_wsgi_app(app, db, signing_secret=SECRET), casedesk.executor.wait_idle


def load(url: str, fake: SlackStandIn, total: int, concurrency: int) -> dict[str, float]:
    signed = SignedRequests(url, SECRET)

    def one(n: int) -> float:
        started = time.perf_counter()
        result = signed.slash_command(
            user="U0AGENT",
            channel="C0SUPPORT",
            text="show 1",
            response_url=fake.response_url(f"r{n}"),
            trigger_id=signed.next_id("trigger"),
        )
        assert result.status == 200, result
        return time.perf_counter() - started

    for n in range(20):  # warm both up: connections, Bolt's auth.test, the roster
        one(-n)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        acks = sorted(pool.map(one, range(total)))
    elapsed = time.perf_counter() - started
    return {
        "per_second": total / elapsed,
        "p50_ms": statistics.median(acks) * 1000,
        "p99_ms": acks[int(len(acks) * 0.99) - 1] * 1000,
    }


def bench(args: argparse.Namespace, name: str, db: Database) -> None:
    migrate.upgrade(db)
    with SlackStandIn() as fake:
        desk = parse_desk_config(DESK, source="bench desk")
        roster, tracker = (
            Roster(desk, _NoGroups(), SystemClock()),
            SlaTracker(SlaPolicies(desk.sla, desk.calendars)),
        )
        cases = CaseService(desk, roster, SystemClock(), tracker)
        with db.unit_of_work() as session:
            cases.open(session, actor=Actor("U0REQ", EventSource.COMMAND), title="Printer on fire")
        application, idle = casedesk_app(fake, db)
        figures = {}
        servers = {
            "bare Bolt": SlackRequestHandler(bare_bolt(fake.base_url)),
            "Casedesk": application,
        }
        for label, wsgi in servers.items():
            server = BackgroundServer(wsgi).start()
            try:
                url = server.url
                figures[label] = load(url, fake, args.requests, args.concurrency)
                idle(60)
            finally:
                server.stop()
    bare, ours = figures["bare Bolt"], figures["Casedesk"]
    print(f"{name}: {args.requests} commands, {args.concurrency} at a time")
    for label, row in figures.items():
        print(
            f"  {label:<10} {row['per_second']:7.0f} req/s   ack p50 {row['p50_ms']:6.1f} ms"
            f"   p99 {row['p99_ms']:6.1f} ms"
        )
    print(
        f"  ratio      {ours['per_second'] / bare['per_second']:7.2f} x throughput"
        f"   p50 {ours['p50_ms'] / bare['p50_ms']:5.2f} x"
        f"   p99 {ours['p99_ms'] / bare['p99_ms']:5.2f} x"
    )


class _NoGroups:
    def usergroup_members(self, group_id: str) -> list[str]:
        return []


def main() -> None:
    options = parser(__doc__)
    options.add_argument("--requests", type=int, default=600)
    options.add_argument("--concurrency", type=int, default=16)
    args = options.parse_args()
    on_each_database(args, lambda name, db: bench(args, name, db))


if __name__ == "__main__":
    main()
