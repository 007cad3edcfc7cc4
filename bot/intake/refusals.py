"""What intake will not do with a message, as data (worded in bot/intake/views.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.refusals import AlreadyDone, BadInput, InvalidMove, NotAllowed


@dataclass
class AlreadyACase(AlreadyDone):
    """This message is a case already (its own, or one it joined)."""

    case_id: int
    permalink: str | None = None


@dataclass
class FromABot(InvalidMove):
    """A bot or app wrote the message: it is not anyone's request."""

    channel_id: str


@dataclass
class NotInChannel(InvalidMove):
    """The bot cannot read the channel, so it cannot answer there either."""

    channel_id: str


@dataclass
class MessageGone(InvalidMove):
    """The message was deleted (or cannot be found) before the case was opened."""

    channel_id: str


@dataclass
class CouldNotRead(InvalidMove):
    """Slack did not answer when asked for the message (an outage): nothing was opened."""

    channel_id: str
    error: str


@dataclass
class NothingToOpen(BadInput):
    """The message says nothing a case could be called (no text, no file)."""

    channel_id: str


@dataclass
class OnlyAssigneeResolves(NotAllowed):
    """The resolve reaction closes a case only for its assignee or a manager of its team
    (`assignee_id` None: nobody has it yet); other agents close it with `/case close`."""

    team_name: str
    case_id: int
    assignee_id: str | None
    emoji: str
