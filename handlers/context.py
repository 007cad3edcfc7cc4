"""Typed access to what the app middleware puts in the Bolt context."""

from __future__ import annotations

from slack_bolt import BoltContext

from bot.runtime.casedesk import Casedesk


def casedesk(context: BoltContext) -> Casedesk:
    return context["casedesk"]  # type: ignore[no-any-return]
