"""Ephemeral replies to the person who asked: confirmations, errors, help, list and show."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.cases.guards import Audience
from bot.cases.queries import CasePage
from bot.cases.refusals import Outdated
from bot.cases.views.audit import describe_event
from bot.cases.views.card import STATUS_EMOJI, case_card, state_line
from bot.desk import DeskConfig
from bot.ids import ActionId
from bot.sla.policies import TARGET_LABELS, ClockStep, SlaPolicy, Timer
from bot.slack.blocks import (
    SECTION_LIMIT,
    Block,
    SlackMessage,
    actions,
    button,
    context,
    divider,
    header,
    message,
    section,
    slack_date,
    user_text,
)
from bot.text import mention
from bot.timefmt import ago, business_duration
from models import Case, CaseEvent

if TYPE_CHECKING:
    from bot.slack.outbox import DeliveryReport

PAGE_SIZE = 10

# A bug, not the person's doing: what they are told where Slack gave a way to tell them.
SOMETHING_WENT_WRONG = (
    ":x: Something went wrong on our side; nothing was lost. "
    "Please try again, and tell your Casedesk admin if it keeps happening."
)

# What each kind of queued Slack write means to the person who acted.
_SOON = {
    "card": "the card will appear",
    "card_update": "the card will be brought up to date",
    "case_thread": "the thread will be told",
    "card_moved": "the old card will be marked as moved",
    "moved_thread": "the old thread will be told",
    "csat_survey": "the survey will go out",
}
_FAILED = {
    "card": "I could not post the case card in <#{channel}> ({error}). "
    "The case is saved; its card will be posted with the next change.",
    "card_update": "I could not update the case card ({error}).",
    "case_thread": "I could not post in the case thread ({error}).",
    "card_moved": "I could not mark the old card as moved ({error}).",
    "moved_thread": "I could not post in the old case thread ({error}).",
    "csat_survey": "I could not send the satisfaction survey ({error}).",
}


def notice(text: str) -> SlackMessage:
    """A one-line reply: a confirmation or a refusal (already mrkdwn)."""
    return message(_strip_mrkdwn(text), [section(text)])


def form_not_opened(error: str | None) -> SlackMessage:
    """A modal could not be opened: no trigger (so no form here), or Slack refused."""
    if error is None:
        return notice("I could not open a form here. Please type the whole command instead.")
    return notice(f"I could not open the form ({error}). Please try again.")


_AUDIENCES = {
    Audience.ANYONE: "For everyone",
    Audience.REQUESTER_OR_TEAM: "For the requester and the team",
    Audience.TEAM: "For the team's agents and managers",
}


def help_message(
    usages: Sequence[tuple[Audience, str]], unknown: str = "", suggestion: str | None = None
) -> SlackMessage:
    """`/case help`: every subcommand's usage, by whom it is for."""
    blocks: list[Block] = []
    if unknown:
        hint = f" Did you mean `/case {suggestion}`?" if suggestion else ""
        blocks.append(section(f"I don't know `/case {user_text(unknown, 100)}`.{hint}"))
    blocks.append(section("*Casedesk* runs support cases right here in Slack."))
    for audience, heading in _AUDIENCES.items():
        lines = [f"`{usage}`" for who, usage in usages if who is audience]
        if lines:
            blocks.append(section(f"*{heading}*\n" + "\n".join(lines)))
    blocks.append(context(["A case is `42` or `#42`. Priorities are `p1` (urgent) to `p4` (low)."]))
    return message("Casedesk help: " + "; ".join(usage for _, usage in usages), blocks)


def case_details(
    case: Case, events: list[CaseEvent], desk: DeskConfig, now: datetime, permalink: str | None
) -> SlackMessage:
    """`/case show`: the card, everything the card leaves out, and the latest events."""
    card = case_card(case, desk, now, full_title_below=True)
    blocks = [block for block in card.blocks if block["type"] != "actions"]
    if len(case.title) > 140:
        blocks.append(section(f"*Title:* {user_text(case.title, SECTION_LIMIT - 20)}"))
    if case.description:
        blocks.append(section(f"*Description:*\n{user_text(case.description, SECTION_LIMIT - 20)}"))
    if permalink:
        blocks.append(context([f"<{permalink}|Open the case thread>"]))
    if events:
        blocks.append(divider())
        blocks.append(section("*Latest activity*"))
        blocks += [
            context([f"{slack_date(event.at)} · {describe_event(event, desk)}"]) for event in events
        ]
    return message(card.text, blocks)


@dataclass(frozen=True)
class ListPage:
    """The value of a list's "Next" button: which list, and where the next page starts."""

    view: str
    team: str | None
    offset: int

    def write(self) -> str:
        return json.dumps({"view": self.view, "team": self.team, "offset": self.offset})

    @classmethod
    def read(cls, raw: object) -> ListPage:
        """The page a "Next" button asks for, or Outdated("list")."""
        try:
            page = json.loads(raw if isinstance(raw, str) else "{}")
            team = page.get("team")
            return cls(str(page["view"]), str(team) if team else None, int(page["offset"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Outdated("list") from None


_LIST_TITLES = {
    "open": "Open cases",
    "mine": "Your open cases",
    "unassigned": "Unassigned cases",
    "escalated": "Escalated cases",
    "pending": "Pending cases",
    "closed": "Closed cases",
}


def case_list(
    page: CasePage, *, view: str, team_key: str | None, desk: DeskConfig, now: datetime
) -> SlackMessage:
    scope = f" in {user_text(desk.team(team_key).name, 100)}" if team_key else ""
    title = _LIST_TITLES.get(view, f"{view.capitalize()} cases") + scope
    if not page.cases:
        more = "" if page.offset == 0 else " on this page"
        nothing = (
            "You have no open cases" if view == "mine" else f"No {title[0].lower()}{title[1:]}"
        )
        return notice(f"{nothing}{scope if view == 'mine' else ''}{more}.")
    first, last = page.offset + 1, page.offset + len(page.cases)
    shown = f"{first}–{last}" if last > first else f"{first}"
    blocks: list[Block] = [header(f"{title} ({shown})")]
    blocks += [section(_list_line(case, now)) for case in page.cases]
    if page.has_more:
        value = ListPage(view, team_key, page.offset + PAGE_SIZE).write()
        blocks.append(actions([button(f"Next {PAGE_SIZE}", ActionId.LIST_MORE, value)]))
    text = f"{title}: " + ", ".join(f"#{case.id}" for case in page.cases)
    return message(text, blocks)


def sla_explanation(
    case: Case, policy: SlaPolicy | None, timers: dict[str, Timer], now: datetime
) -> SlackMessage:
    if policy is None:
        return notice(f"Case #{case.id} has no SLA: its team and priority have no policy.")
    blocks: list[Block] = [
        header(f"SLA clocks of case #{case.id}"),
        context(
            [
                f"{case.priority.upper()} in {user_text(case.team_key, 64)} · calendar "
                f"`{policy.calendar.name}` · warn at {policy.warn_at:.0%} · on breach: "
                f"{policy.on_breach}"
            ]
        ),
    ]
    for target, timer in timers.items():
        state = _timer_state(timer, now)
        steps = "\n".join(
            f"• {slack_date(step.at)} {step.kind}: {step_cause(step)}" for step in timer.steps
        )
        blocks.append(
            section(
                f"*{TARGET_LABELS[target].capitalize()}* · target "
                f"{business_duration(timer.budget)} · used {business_duration(timer.used)} · "
                f"{state}\n{steps}"
            )
        )
    return message(f"SLA clocks of case #{case.id}", blocks)


def step_cause(step: ClockStep) -> str:
    """Why an SLA clock started, paused or stopped, and by whom where it matters."""
    return f"{step.cause} by {mention(step.by)}" if step.by else step.cause


def _timer_state(timer: Timer, now: datetime) -> str:
    if timer.met_at is not None and not timer.running:
        return f"stopped {slack_date(timer.met_at)}"
    if timer.due_at is None:
        return f"paused, {business_duration(timer.left)} left"
    if timer.due_at <= now:
        return f"*breached* (was due {slack_date(timer.due_at)})"
    return f"{business_duration(timer.left)} left, due {slack_date(timer.due_at)}"


def _list_line(case: Case, now: datetime) -> str:
    escalation = f" · :rotating_light: L{case.escalation_level}" if case.escalation_level else ""
    return (
        f"{STATUS_EMOJI[case.status]} *#{case.id}* {user_text(case.title, 120)}\n"
        f"{state_line(case)}{escalation} · active {ago(case.last_activity_at, now)}"
    )


def _strip_mrkdwn(text: str) -> str:
    return text.replace("*", "").replace("`", "")


def delivery_note(report: DeliveryReport | None) -> str:
    """What the person who acted should know about Slack after their change was saved:
    nothing when everything went out, else what is late or could not be done."""
    if report is None:
        return (
            "\n:hourglass_flowing_sand: Saved. Slack is slow to answer; the card and the "
            "thread will catch up as soon as it does."
        )
    late = [unsent for unsent in report.unsent.values() if unsent.retrying and not unsent.waiting]
    waiting = [unsent for unsent in report.unsent.values() if unsent.waiting]
    failed = [unsent for unsent in report.unsent.values() if not unsent.retrying]
    lines = [
        _FAILED.get(unsent.kind, "I could not tell Slack ({error}).").format(
            channel=unsent.channel_id, error=unsent.error
        )
        for unsent in failed
    ]
    if late:
        soon = list(dict.fromkeys(_SOON.get(unsent.kind, "Slack will catch up") for unsent in late))
        lines.append(
            f"Saved. Slack is not answering right now ({late[0].error}), so "
            f"{_and(soon)} as soon as it does."
        )
    elif waiting:
        soon = list(
            dict.fromkeys(_SOON.get(unsent.kind, "Slack will catch up") for unsent in waiting)
        )
        lines.append(
            f"Saved. The case's card is not in Slack yet, so {_and(soon)} once it is posted."
        )
    return "".join(f"\n:warning: {line}" for line in lines)


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
