"""Typed access to what the app middleware puts in the Bolt context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import BoltContext

if TYPE_CHECKING:
    from bot.runtime.assembly import Casedesk


def casedesk(context: BoltContext) -> Casedesk:
    return context["casedesk"]  # type: ignore[no-any-return]
