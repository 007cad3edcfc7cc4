"""The Casedesk: every service a request needs, as listeners get it in the Bolt context.

It is built by bot/runtime/assembly.py and read by handlers/context.py; it knows nothing of
the handlers, so they can import it without going through the assembly that registers them.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.cases.flow import CaseFlows
from bot.cases.rules import CaseService
from bot.clock import Clock
from bot.csat.flow import RatingFlows
from bot.db import Database
from bot.desk import DeskConfig
from bot.home.flow import InsightFlows
from bot.inbox import Inbox
from bot.intake.flow import IntakeFlows
from bot.intake.reactions import ReactionFlows
from bot.metrics.summaries import SummaryService
from bot.roster import Roster
from bot.runtime.executor import ListenerPools
from bot.runtime.lease import LeaderLease
from bot.runtime.scheduler import Job, JobScheduler
from bot.runtime.settings import Settings
from bot.sla.check import SlaCheck
from bot.sla.timers import SlaTracker
from bot.slack.gateway import SlackGateway
from bot.slack.outbox import OutboxDeliverer


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
    ratings: RatingFlows
    intake: IntakeFlows
    reactions: ReactionFlows
    insights: InsightFlows
    sla: SlaTracker
    sla_check: SlaCheck
    summaries: SummaryService
    outbox: OutboxDeliverer
    jobs: list[Job]
    executor: ListenerPools
    inbox: Inbox

    def scheduler(self) -> JobScheduler:
        return JobScheduler(self.jobs, LeaderLease(self.db, self.clock))
