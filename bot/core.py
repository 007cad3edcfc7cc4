"""What every flow works with: the database, the desk, the clock, who is on which team, the
case rules, the SLA clocks and Slack."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.rules import CaseService
from bot.clock import Clock
from bot.db import Database
from bot.desk import DeskConfig
from bot.roster import Roster
from bot.sla.timers import SlaTracker
from bot.slack.gateway import SlackGateway


@dataclass(frozen=True)
class Core:
    db: Database
    desk: DeskConfig
    clock: Clock
    roster: Roster
    cases: CaseService
    sla: SlaTracker
    slack: SlackGateway


class Flow:
    """Base of the flows: the core's parts as plain attributes."""

    def __init__(self, core: Core) -> None:
        self.db = core.db
        self.desk = core.desk
        self.clock = core.clock
        self.roster = core.roster
        self.cases = core.cases
        self.sla = core.sla
        self.slack = core.slack
