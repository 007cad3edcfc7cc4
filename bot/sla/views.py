"""SLA warnings, breach alerts and the digest that replaces an alert storm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.cases.views.buttons import CLAIM, ESCALATE
from bot.cases.views.card import state_line
from bot.ids import ActionId
from bot.sla.policies import TARGET_LABELS
from bot.slack.blocks import (
    Block,
    SlackMessage,
    actions,
    button,
    context,
    header,
    message,
    section,
    slack_date,
    user_text,
)
from bot.text import mention
from models import Case

# A digest lists this many cases, each with its Claim button (Block Kit allows 50 blocks).
DIGEST_CASES = 40


@dataclass(frozen=True)
class AlertLine:
    """One decided alert, as the digest lists it."""

    case_id: int
    title: str
    target: str
    kind: str
    due_at: datetime


def warning(case: Case, target: str, due_at: datetime, notify: list[str]) -> SlackMessage:
    """A target due soon; drawn again from the case whenever it changes."""
    label = TARGET_LABELS[target]
    who = " ".join(mention(member) for member in notify)
    text = f":warning: {who} {label.capitalize()} for case #{case.id} is due {slack_date(due_at)}."
    blocks: list[Block] = [section(text), section(_state_line(case))]
    if not case.is_closed:
        blocks.append(actions([ESCALATE.render(case.id, styled=False)]))
    return message(f"Case #{case.id}: {label} due soon", blocks)


def breach(case: Case, target: str, due_at: datetime, notify: list[str]) -> SlackMessage:
    """A target missed; drawn again from the case whenever it changes, so it says who took
    the case and offers only the buttons that still apply."""
    label = TARGET_LABELS[target]
    who = " ".join(mention(member) for member in notify)
    buttons = []
    if case.assignee_id is None and not case.is_closed:
        buttons.append(CLAIM.render(case.id))
    if not case.is_closed:
        buttons.append(ESCALATE.render(case.id))
    # The deliverer fills in the permalink (it is only known once the card exists).
    buttons.append(button("Open case", ActionId.OPEN_LINK, str(case.id), url="https://slack.com"))
    blocks: list[Block] = [
        section(
            f":rotating_light: *SLA breached:* {label} for case #{case.id} was due "
            f"{slack_date(due_at)}. {who}"
        ),
        section(_state_line(case)),
        actions(buttons),
    ]
    return message(f"SLA breached: {label} for case #{case.id}", blocks)


def _state_line(case: Case) -> str:
    return f"*#{case.id}* {user_text(case.title, 500)}\n{state_line(case)}"


def digest(lines: list[AlertLine], cases: dict[int, Case], notify: list[str]) -> SlackMessage:
    """One message for a run with more alerts for a channel than the storm threshold: each
    case with its Claim button while nobody has it, drawn again as its cases change."""
    breaches = [line for line in lines if line.kind == "breach"]
    warnings = [line for line in lines if line.kind == "warn"]
    worst = sorted(lines, key=lambda line: (line.kind != "breach", line.due_at))[:DIGEST_CASES]
    title = f"SLA alerts: {len(breaches)} breached, {len(warnings)} due soon"
    blocks: list[Block] = [header(title)]
    if notify:
        blocks.append(section(" ".join(mention(member) for member in notify)))
    blocks += [_digest_line(line, cases.get(line.case_id)) for line in worst]
    if len(lines) > len(worst):
        blocks.append(
            context(
                [
                    f"…and {len(lines) - len(worst)} more. "
                    "`/case list open` and `/case list escalated` show them all."
                ]
            )
        )
    return message(title, blocks)


def _digest_line(line: AlertLine, case: Case | None) -> Block:
    icon = ":rotating_light:" if line.kind == "breach" else ":warning:"
    state = "breached" if line.kind == "breach" else "due"
    text = (
        f"{icon} *#{line.case_id}* {user_text(line.title, 150)} · "
        f"{TARGET_LABELS[line.target]} {state} {slack_date(line.due_at)}"
    )
    claim = None
    if case is not None:
        text += f"\n{state_line(case)}"
        if case.assignee_id is None and not case.is_closed:
            claim = CLAIM.render(case.id, styled=False)
    return section(text, accessory=claim)
