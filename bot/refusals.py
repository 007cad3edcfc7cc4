"""Refusals: what the desk will not do, or input it cannot use, as data.

A refusal says what was refused and why (which case, who holds it, which status, what the
person may do instead) and never how to say it: each feature's views word its refusals
(`bot.cases.views.refusals.describe`), so the same refusal reads right in Slack, on the
sandbox page or in an email. The four kinds below are what callers catch; the features
define the refusals themselves (`bot.cases.refusals`, `bot.csat.answers`).
"""

from __future__ import annotations

import dataclasses


class Refusal(Exception):
    """A refusal or a problem the user caused and can fix; never a bug.

    Subclasses are (non-frozen: context managers set `__traceback__`) dataclasses."""

    def __str__(self) -> str:
        if dataclasses.is_dataclass(self):
            fields = ", ".join(
                f"{field.name}={getattr(self, field.name)!r}" for field in dataclasses.fields(self)
            )
            return f"{type(self).__name__}({fields})"
        return type(self).__name__


class BadInput(Refusal):
    """The command text, a form's input or a button's value could not be used."""


class NotAllowed(Refusal):
    """The person lacks the role the rule asks for."""


class InvalidMove(Refusal):
    """The case is not in a state where this change makes sense."""


class CaseNotFound(Refusal):
    """No case has this number."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number

    def __str__(self) -> str:
        return f"CaseNotFound(number={self.number})"


class AlreadyDone(Refusal):
    """The same request was carried out before; doing it again would do it twice."""
