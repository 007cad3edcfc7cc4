"""Errors the user can act on. Each carries the message shown to them (Slack mrkdwn)."""

from __future__ import annotations


class CasedeskError(Exception):
    """A refusal or a problem the user caused and can fix; never a bug."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CaseNotFound(CasedeskError):
    def __init__(self, number: int) -> None:
        super().__init__(f"There is no case #{number}. `/case list` shows the open ones.")
        self.number = number


class NotAllowed(CasedeskError):
    """The actor lacks the role the rule asks for; the message names the rule."""


class InvalidMove(CasedeskError):
    """The case is not in a state where this change makes sense."""


class BadInput(CasedeskError):
    """The command text or form input could not be understood."""


class AlreadyDone(CasedeskError):
    """The same request was carried out before; doing it again would do it twice."""

    def __init__(self) -> None:
        super().__init__("That was done already.")
