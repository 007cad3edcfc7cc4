"""The buttons that act on one case, each declared once: its action id, label, look, what
pressing it does, and the codec of its `value` (the case number), read back when pressed.

Cards, thread posts, SLA alerts, App Home and summaries all draw them from here, and
`handlers/actions.py` listens for every one of them, so a new case button is one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.cases.refusals import Outdated
from bot.ids import ActionId
from bot.slack.blocks import Block, button
from models import MAX_CASE_NUMBER, CaseAction

if TYPE_CHECKING:
    from bot.cases.flow import CaseFlows
    from bot.requester import Requester
    from bot.slack.blocks import SlackMessage


def write_case_value(case_id: int) -> str:
    return str(case_id)


def read_case_value(raw: object) -> int:
    """The case a button's value names, or Outdated("button")."""
    try:
        number = int(raw) if isinstance(raw, str) else 0
    except ValueError:
        number = 0
    if not 0 < number <= MAX_CASE_NUMBER:
        raise Outdated("button")
    return number


@dataclass(frozen=True)
class Press:
    """Someone pressed a case button."""

    who: Requester
    number: int
    trigger_id: str | None


@dataclass(frozen=True)
class CaseButton:
    action_id: ActionId
    label: str
    style: str | None
    press: Callable[[CaseFlows, Press], SlackMessage | None]

    def render(self, case_id: int, *, label: str | None = None, styled: bool = True) -> Block:
        style = self.style if styled else None
        return button(label or self.label, self.action_id, write_case_value(case_id), style=style)


def _asks_first(action: CaseAction) -> Callable[[CaseFlows, Press], SlackMessage | None]:
    """A change that needs words (a reason, a resolution): its modal opens first."""
    return lambda flows, press: flows.open_case_modal(
        press.who, press.number, action, press.trigger_id
    )


CLAIM = CaseButton(
    ActionId.CLAIM, "Claim", "primary", lambda flows, press: flows.claim(press.who, press.number)
)
ESCALATE = CaseButton(ActionId.ESCALATE, "Escalate", "danger", _asks_first(CaseAction.ESCALATED))
CLOSE = CaseButton(ActionId.CLOSE, "Close", None, _asks_first(CaseAction.CLOSED))
REOPEN = CaseButton(ActionId.REOPEN, "Reopen", None, _asks_first(CaseAction.REOPENED))

CASE_BUTTONS = (CLAIM, ESCALATE, CLOSE, REOPEN)
BY_ACTION_ID = {case_button.action_id.value: case_button for case_button in CASE_BUTTONS}
