"""Assembly: build the services from settings, and the Bolt app that serves them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

import handlers
from bot.case_sync import CaseSync
from bot.cases import CaseService
from bot.clock import Clock, SystemClock
from bot.core import Core
from bot.csat import CsatService
from bot.db import Database
from bot.desk import DeskConfig, load_desk_config
from bot.executor import TrackingExecutor
from bot.flows import CaseFlows
from bot.insights import InsightFlows
from bot.leader import LeaderLease
from bot.outbox import OutboxDeliverer
from bot.roster import Roster
from bot.scheduler import Job, JobScheduler
from bot.settings import Settings
from bot.sla import SlaPolicies
from bot.sla_check import SlaCheck
from bot.sla_tracker import SlaTracker
from bot.slack import SlackGateway, make_web_client, without_failure_retries
from bot.summaries import DAILY, WEEKLY, SummaryService

log = logging.getLogger(__name__)


@dataclass
class Casedesk:
    """Everything a request needs, built once at start-up and handed to listeners through
    the Bolt context (`context["casedesk"]`)."""

    settings: Settings
    desk: DeskConfig
    db: Database
    clock: Clock
    client: WebClient
    slack: SlackGateway
    roster: Roster
    cases: CaseService
    flows: CaseFlows
    insights: InsightFlows
    sla: SlaTracker
    sla_check: SlaCheck
    summaries: SummaryService
    outbox: OutboxDeliverer
    jobs: list[Job]
    executor: TrackingExecutor

    def scheduler(self) -> JobScheduler:
        return JobScheduler(self.jobs, LeaderLease(self.db, self.clock))


def build_casedesk(
    settings: Settings,
    *,
    desk: DeskConfig | None = None,
    db: Database | None = None,
    clock: Clock | None = None,
    client: WebClient | None = None,
) -> Casedesk:
    desk = desk or load_desk_config(settings.SUPPORT_CONFIG)
    db = db or Database(settings.DATABASE_URL)
    clock = clock or SystemClock()
    client = client or make_web_client(settings.SLACK_BOT_TOKEN, base_url=settings.SLACK_API_URL)
    slack = SlackGateway(client)
    roster = Roster(desk, slack, clock)
    sla = SlaTracker(SlaPolicies(desk.sla, desk.calendars))
    cases = CaseService(desk, roster, clock, sla)
    outbox = OutboxDeliverer(
        db,
        SlackGateway(without_failure_retries(client)),
        clock,
        per_channel_interval=settings.SLACK_CHANNEL_INTERVAL,
    )
    summaries = SummaryService(db=db, desk=desk, roster=roster, policies=sla.policies, clock=clock)
    core = Core(db=db, desk=desk, clock=clock, cases=cases, sla=sla, slack=slack)
    sync = CaseSync(core)
    executor = TrackingExecutor(settings.LISTENER_THREADS)
    insights = InsightFlows(core, summaries, run_later=executor.submit)
    flows = CaseFlows(core, sync=sync, csat=CsatService(cases), outbox=outbox, insights=insights)
    sla_check = SlaCheck(
        db=db,
        cases=cases,
        tracker=sla,
        roster=roster,
        clock=clock,
        digest_threshold=sla.policies.config.digest_threshold,
        refresh_cards=sync.refresh_cards,
    )
    return Casedesk(
        settings=settings,
        desk=desk,
        db=db,
        clock=clock,
        client=client,
        slack=slack,
        roster=roster,
        cases=cases,
        flows=flows,
        insights=insights,
        sla=sla,
        sla_check=sla_check,
        summaries=summaries,
        outbox=outbox,
        jobs=define_jobs(sla_check, summaries, outbox, sla.policies.config.check_every),
        executor=executor,
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
        return str(outbox.deliver_due())

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
        listener_executor=casedesk.executor,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.middleware
    def provide_casedesk(context: BoltContext, next: Any) -> Any:
        context["casedesk"] = casedesk
        return next()

    @app.error
    def on_unexpected_error(error: Exception, body: dict[str, Any], respond: Any) -> None:
        log.exception("unhandled error in a listener", exc_info=error)
        if respond is not None and body.get("response_url"):
            try:
                respond(
                    text=":x: Something went wrong on our side; nothing was lost. "
                    "Please try again, and tell your Casedesk admin if it keeps happening.",
                    response_type="ephemeral",
                    replace_original=False,
                )
            except Exception:
                log.exception("could not tell the user about the error")

    handlers.register_all(app)
    return app
