"""SQLAlchemy 2 typed models. Importing this package registers every table on `Base.metadata`."""

from models.base import Base, UTCDateTime
from models.case import (
    MAX_CASE_NUMBER,
    OPEN_STATUSES,
    Case,
    CaseMessage,
    CaseSource,
    CaseStatus,
    CaseThread,
)
from models.csat import CsatResponse
from models.event import CaseAction, CaseEvent, EventSource, ProcessedSlackEvent, SlackRequest
from models.routing import AgentAway, TeamTurn
from models.scheduling import OutboxMessage, SchedulerLease, SlaAlert
from models.summary_posts import SummaryPost

__all__ = [
    "MAX_CASE_NUMBER",
    "OPEN_STATUSES",
    "AgentAway",
    "Base",
    "Case",
    "CaseAction",
    "CaseEvent",
    "CaseMessage",
    "CaseSource",
    "CaseStatus",
    "CaseThread",
    "CsatResponse",
    "EventSource",
    "OutboxMessage",
    "ProcessedSlackEvent",
    "SchedulerLease",
    "SlaAlert",
    "SlackRequest",
    "SummaryPost",
    "TeamTurn",
    "UTCDateTime",
]
