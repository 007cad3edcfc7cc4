"""The buttons that act on one case, each declared once: its action id, label, look, what
pressing it does, and the codec of its `value` (the case number), read back when pressed;
and the card's "Assign to…" picker with the codec of its block id.

Cards, SLA alerts, App Home and summaries all draw them from here, and `handlers/block_actions.py`
listens for every one of them, so a new case button is one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.cases.refusals import Outdated
from bot.ids import ActionId
from bot.slack.blocks import Block, button, plain
from models import MAX_CASE_NUMBER, Case, CaseAction

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
RESUME = CaseButton(
    ActionId.RESUME, "Resume", "primary", lambda flows, press: flows.resume(press.who, press.number)
)

CASE_BUTTONS = (CLAIM, RESUME, ESCALATE, CLOSE, REOPEN)
BY_ACTION_ID = {case_button.action_id.value: case_button for case_button in CASE_BUTTONS}

# The card's row of controls names its case in its block id.
_CARD_BLOCK = "case_card_"


def card_block_id(case_id: int) -> str:
    return f"{_CARD_BLOCK}{case_id}"


def assign_picker(case: Case) -> Block:
    """ "Assign to…": Slack's people picker; a pick outside the team is refused with why."""
    picker: Block = {
        "type": "users_select",
        "action_id": ActionId.ASSIGN,
        "placeholder": plain("Assign to…", 150),
    }
    if case.assignee_id:
        picker["initial_user"] = case.assignee_id
    return picker


def read_assignment(action: dict[str, object]) -> tuple[int, str]:
    """The case and person of a pick in the card's "Assign to…", or Outdated("button")."""
    block_id, user = action.get("block_id"), action.get("selected_user")
    if not (isinstance(block_id, str) and block_id.startswith(_CARD_BLOCK)):
        raise Outdated("button")
    if not isinstance(user, str) or not user:
        raise Outdated("button")
    return read_case_value(block_id.removeprefix(_CARD_BLOCK)), user
