"""Assembly: build the services from settings, and the Bolt app that serves them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest
from slack_sdk import WebClient

import handlers
import handlers.middleware
import handlers.request_inbox
from bot.cases.flow import CaseFlows
from bot.cases.rules import CaseService
from bot.cases.sync import CaseSync
from bot.clock import Clock, SystemClock
from bot.core import Core
from bot.csat.flow import RatingFlows, Surveys
from bot.db import Database
from bot.desk import DeskConfig, load_desk_config
from bot.home.flow import InsightFlows
from bot.inbox import Inbox
from bot.intake.flow import IntakeFlows
from bot.intake.reactions import ReactionFlows
from bot.intake.rules import IntakeService
from bot.metrics.summaries import DAILY, WEEKLY, SummaryService
from bot.roster import Roster
from bot.routing.check import RoutingCheck
from bot.routing.flow import RoutingFlows
from bot.routing.rules import Routing
from bot.runtime import observability
from bot.runtime.casedesk import Casedesk
from bot.runtime.executor import ListenerPools
from bot.runtime.scheduler import Job
from bot.runtime.settings import Settings
from bot.sla.check import SlaCheck
from bot.sla.policies import SlaPolicies
from bot.sla.timers import SlaTracker
from bot.slack.gateway import SlackGateway, make_web_client, without_retries
from bot.slack.outbox import OutboxDeliverer
from bot.slack.signature import VERIFIED
from handlers.acking import tell_it_went_wrong

log = logging.getLogger(__name__)

REPLAY_JOB = "replay-requests"


class _SameTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that the client we
    hand it wins; that client carries the very same token, so the warning says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


BOLT_LOG = logging.getLogger("slack_bolt")
BOLT_LOG.addFilter(_SameTokenNotice())


def build_casedesk(
    settings: Settings,
    *,
    desk: DeskConfig | None = None,
    db: Database | None = None,
    clock: Clock | None = None,
    client: WebClient | None = None,
) -> Casedesk:
    desk = desk or load_desk_config(settings.SUPPORT_CONFIG)
    db = db or Database(settings.DATABASE_URL, pool_size=settings.database_pool_size)
    clock = clock or SystemClock()
    client = client or make_web_client(settings.SLACK_BOT_TOKEN, base_url=settings.SLACK_API_URL)
    core = _core(desk, db, clock, client)
    sync = CaseSync(desk=desk, clock=clock, cases=core.cases, sla=core.sla)
    executor = ListenerPools(work_threads=settings.work_threads)
    outbox = _outbox(settings, core, client, sync, executor)
    summaries = SummaryService(
        db=db, desk=desk, roster=core.roster, policies=core.sla.policies, clock=clock
    )
    insights = InsightFlows(core, summaries, run_later=executor.work.submit)
    surveys = Surveys(desk, clock, core.cases)
    people = RoutingFlows(core, insights)
    flows = CaseFlows(
        core, sync=sync, surveys=surveys, outbox=outbox, insights=insights, people=people
    )
    intake = IntakeFlows(
        core, intake=IntakeService(core.cases), sync=sync, outbox=outbox, insights=insights
    )
    sla_check = _sla_check(core, sync)
    return Casedesk(
        settings=settings,
        desk=desk,
        db=db,
        clock=clock,
        client=client,
        slack=core.slack,
        roster=core.roster,
        cases=core.cases,
        flows=flows,
        ratings=RatingFlows(core, surveys=surveys, outbox=outbox),
        intake=intake,
        reactions=ReactionFlows(core, flows=flows, intake=intake),
        insights=insights,
        sla=core.sla,
        sla_check=sla_check,
        summaries=summaries,
        outbox=outbox,
        jobs=[
            *define_jobs(sla_check, summaries, outbox, core.sla.policies.config.check_every),
            Job(
                "routing-check",
                timedelta(minutes=1),
                lambda: str(RoutingCheck(core, sync=sync, outbox=outbox).run()),
                "Move cases on from silent assignees, give waiting cases to free agents",
            ),
        ],
        executor=executor,
        inbox=core.inbox,
    )


def _core(desk: DeskConfig, db: Database, clock: Clock, client: WebClient) -> Core:
    """What every flow works with."""
    slack = SlackGateway(client)
    roster = Roster(desk, slack, clock)
    sla = SlaTracker(SlaPolicies(desk.sla, desk.calendars))
    cases = CaseService(desk, roster, clock, sla)
    inbox = Inbox(db, clock)
    routing = Routing(desk, roster, cases, clock)
    return Core(
        db=db,
        desk=desk,
        clock=clock,
        roster=roster,
        cases=cases,
        sla=sla,
        slack=slack,
        inbox=inbox,
        routing=routing,
    )


def _outbox(
    settings: Settings, core: Core, client: WebClient, sync: CaseSync, executor: ListenerPools
) -> OutboxDeliverer:
    """The queue of Slack messages, posted through a client of its own that retries nothing
    (the outbox decides itself when to try again)."""
    return OutboxDeliverer(
        core.db,
        SlackGateway(without_retries(client)),
        core.clock,
        cards=sync,
        per_channel_interval=settings.SLACK_CHANNEL_INTERVAL,
        now_pool=executor.deliver,
    )


def _sla_check(core: Core, sync: CaseSync) -> SlaCheck:
    return SlaCheck(
        db=core.db,
        desk=core.desk,
        cases=core.cases,
        tracker=core.sla,
        roster=core.roster,
        clock=core.clock,
        digest_threshold=core.sla.policies.config.digest_threshold,
        cards=sync,
    )


def define_jobs(
    sla_check: SlaCheck,
    summaries: SummaryService,
    outbox: OutboxDeliverer,
    check_every: timedelta,
) -> list[Job]:
    def run_sla_check() -> str:
        decided = sla_check.run()
        return f"{decided}; {outbox.deliver_due()}"

    def summary_job(kind: str) -> Callable[[], str]:
        def post_due_summaries() -> str:
            posted = summaries.post_due(kind)
            return f"{'; '.join(posted) or 'nothing due'}; {outbox.deliver_due()}"

        return post_due_summaries

    def deliver_outbox() -> str:
        report = str(outbox.deliver_due())
        pruned = outbox.prune()
        return report + (f"; {pruned} old row(s) pruned" if pruned else "")

    every_5_minutes = timedelta(minutes=5)
    return [
        Job("sla-check", check_every, run_sla_check, "Decide SLA warnings and breaches, post them"),
        Job("daily-summary", every_5_minutes, summary_job(DAILY), "Post each team's daily summary"),
        Job(
            "weekly-summary",
            every_5_minutes,
            summary_job(WEEKLY),
            "Post each team's weekly summary",
        ),
        Job("deliver-outbox", timedelta(seconds=15), deliver_outbox, "Retry queued Slack messages"),
    ]


def build_app(casedesk: Casedesk) -> App:
    settings = casedesk.settings
    app = App(
        signing_secret=settings.SLACK_SIGNING_SECRET or None,
        client=casedesk.client,  # carries the bot token and the SLACK_API_URL base URL
        # Start-up must not depend on reaching Slack; the token is checked on first use.
        token_verification_enabled=False,
        # The HTTP edge (bot/runtime/server.py) verifies every request before Bolt parses it, and
        # refuses in one log line; Bolt's own check would run after parsing, raise on a
        # malformed timestamp and log whole bodies. Socket Mode needs no signature at all.
        request_verification_enabled=False,
        # A listener only acks and hands its work to the work pool (handlers/acking.py), so it
        # runs on the thread that answers Slack: the answer leaves as soon as it acked, not at
        # the next of Bolt's 10 ms polls of a listener running on another thread.
        process_before_response=True,
        listener_executor=casedesk.executor.lazy,  # Bolt's lazy listeners (none of ours)
        logger=BOLT_LOG,
    )
    app.middleware(observability.note_arrival)  # first: a request's ack latency counts from here
    handlers.middleware.register(app)

    @app.middleware
    def provide_casedesk(context: BoltContext, next: Any) -> Any:
        context["casedesk"] = casedesk
        return next()

    handlers.request_inbox.register(app)  # needs the casedesk in the context
    # Requests are carried out again through the app that serves them (the latest built).
    casedesk.jobs[:] = [job for job in casedesk.jobs if job.name != REPLAY_JOB]
    casedesk.jobs.append(
        Job(
            REPLAY_JOB,
            timedelta(seconds=15),
            lambda: handlers.request_inbox.replay_unfinished(app, casedesk.inbox),
            "Carry out requests a process acknowledged but did not finish",
        )
    )

    @app.error
    def on_unexpected_error(
        error: Exception, request: BoltRequest, body: dict[str, Any], respond: Any
    ) -> None:
        log.exception("unhandled error in a listener", exc_info=error)
        # Only a request known to be from Slack may be answered at the URL it names.
        verified = request.mode == "socket_mode" or request.context.get(VERIFIED) is True
        if verified:
            tell_it_went_wrong(body, respond)

    handlers.register_all(app)
    return app
