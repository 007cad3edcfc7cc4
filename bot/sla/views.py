"""SLA warnings, breach alerts and the digest that replaces an alert storm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cases.views.buttons import CLAIM, ESCALATE
from bot.cases.views.card import slack_date
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
    user_text,
)
from bot.text import mention
from bot.timefmt import duration
from models import Case

DIGEST_WORST = 10


@dataclass(frozen=True)
class AlertLine:
    """One decided alert, as the digest lists it."""

    case_id: int
    title: str
    target: str
    kind: str
    due_at: datetime


def warning(
    case: Case, target: str, due_at: datetime, left: timedelta, notify: list[str]
) -> SlackMessage:
    label = TARGET_LABELS[target]
    who = " ".join(mention(member) for member in notify)
    text = (
        f":warning: {who} {label.capitalize()} for case #{case.id} is due {slack_date(due_at)}"
        f" (in {duration(left)} of business time)."
    )
    blocks: list[Block] = [
        section(text),
        actions([ESCALATE.render(case.id, styled=False)]),
    ]
    return message(f"Case #{case.id}: {label} due soon", blocks)


def breach(case: Case, target: str, due_at: datetime, notify: list[str]) -> SlackMessage:
    label = TARGET_LABELS[target]
    who = " ".join(mention(member) for member in notify)
    owner = mention(case.assignee_id) if case.assignee_id else "_unassigned_"
    buttons = []
    if case.assignee_id is None:
        buttons.append(CLAIM.render(case.id))
    buttons.append(ESCALATE.render(case.id))
    # The deliverer fills in the permalink (it is only known once the card exists).
    buttons.append(button("Open case", ActionId.OPEN_LINK, str(case.id), url="https://slack.com"))
    blocks: list[Block] = [
        section(
            f":rotating_light: *SLA breached:* {label} for case #{case.id} was due "
            f"{slack_date(due_at)}. {who}"
        ),
        section(
            f"*#{case.id}* {user_text(case.title, 500)}\n{case.priority.upper()} · "
            f"{case.status.label} · {owner}"
        ),
        actions(buttons),
    ]
    return message(f"SLA breached: {label} for case #{case.id}", blocks)


def digest(lines: list[AlertLine], now: datetime) -> SlackMessage:
    """One message for a run with more alerts for a channel than the storm threshold."""
    breaches = [line for line in lines if line.kind == "breach"]
    warnings = [line for line in lines if line.kind == "warn"]
    worst = sorted(lines, key=lambda line: (line.kind != "breach", line.due_at))[:DIGEST_WORST]
    blocks: list[Block] = [
        header(f"SLA alerts: {len(breaches)} breached, {len(warnings)} due soon"),
    ]
    for line in worst:
        icon = ":rotating_light:" if line.kind == "breach" else ":warning:"
        state = "breached" if line.kind == "breach" else "due"
        blocks.append(
            section(
                f"{icon} *#{line.case_id}* {user_text(line.title, 150)} · "
                f"{TARGET_LABELS[line.target]} {state} {slack_date(line.due_at)}"
            )
        )
    if len(lines) > len(worst):
        blocks.append(
            context(
                [
                    f"…and {len(lines) - len(worst)} more. "
                    "`/case list open` and `/case list escalated` show them all."
                ]
            )
        )
    text = f"SLA alerts: {len(breaches)} breached, {len(warnings)} due soon"
    return message(text, blocks)
