"""The requester's survey after close, end to end over signed HTTP against the fake Slack API:
five ratings, recorded, updated and thanked, a comment form, and who is (not) asked and when:
support asks right away, billing never asks and sales asks after half an hour."""

from __future__ import annotations

from conftest import AGENT, BILLING_AGENT, OUTSIDER, REQUESTER
from csat_stats_home_export_helpers import (
    SALES_AGENT,
    desk_config_fixture,  # noqa: F401  (the desk_config fixture)
    the_reply,
)
from fake_slack import FakeSlack
from helpers import MINUTE, Json, all_text, button_elements, run_job
from slack_driver import HttpResult, SlackDriver
from sqlalchemy import select

from bot.clock import ManualClock
from bot.ids import ActionId, BlockId, CallbackId
from bot.runtime.casedesk import Casedesk
from models import CaseAction, CaseEvent, CsatResponse

STARS = ["1 · Poor", "2", "3 · OK", "4", "5 · Great"]


# Helpers: what people see


def surveys(fake: FakeSlack, user: str = REQUESTER) -> list[Json]:
    """Survey DMs, in the DM conversation the app opens with the user."""
    return [m for m in fake.messages(f"D{user}") if m["text"].startswith("How did we do")]


def answers(casedesk: Casedesk) -> list[tuple[int, str, int, str | None]]:
    with casedesk.db.read_only() as session:
        rows = session.execute(
            select(
                CsatResponse.case_id,
                CsatResponse.requester_id,
                CsatResponse.rating,
                CsatResponse.comment,
            ).order_by(CsatResponse.id)
        ).all()
    return [(int(a), str(b), int(c), d) for a, b, c, d in rows]


def events(casedesk: Casedesk, action: CaseAction) -> list[CaseEvent]:
    with casedesk.db.read_only() as session:
        return list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.action == action).order_by(CaseEvent.id)
            )
        )


def open_and_close(slack: SlackDriver, *, team: str = "support", closer: str = AGENT) -> None:
    """The requester opens case #1 in `team`; an agent of that team closes it."""
    slack.command(REQUESTER, f"open team:{team} Printer on fire")
    slack.command(closer, "close 1 Replaced the toner")


def open_comment_form(slack: SlackDriver, fake: FakeSlack) -> Json:
    """The requester clicks the survey's button for a comment: the one form it opens."""
    slack.click(REQUESTER, ActionId.CSAT_COMMENT, "1", channel=f"D{REQUESTER}")
    [form] = fake.opened_views()
    return form


def rate(slack: SlackDriver, rating: int, *, user: str = REQUESTER, case: int = 1) -> HttpResult:
    return slack.click(user, ActionId.CSAT_RATE, f"{case}:{rating}", channel=f"D{user}")


# The survey


def test_closing_a_case_asks_the_requester_how_we_did_with_five_ratings(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)

    [survey] = surveys(fake_slack)
    assert survey["text"] == "How did we do with case #1?"
    assert "Printer on fire" in all_text(survey)
    survey_buttons = button_elements(survey)
    rating_buttons = [b for b in survey_buttons if b["action_id"].startswith(ActionId.CSAT_RATE)]
    assert [b["text"]["text"] for b in rating_buttons] == STARS
    assert [b["value"] for b in rating_buttons] == [f"1:{n}" for n in range(1, 6)]
    assert [b["value"] for b in survey_buttons if b["action_id"] == ActionId.CSAT_COMMENT] == ["1"]
    [asked] = events(casedesk, CaseAction.CSAT_REQUESTED)
    assert (asked.case_id, asked.actor_id) == (1, "scheduler")


def test_a_rating_is_recorded_and_thanked(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)

    reply = the_reply(rate(slack, 4))

    assert reply["text"] == "Thank you! You rated case #1 4/5."
    assert reply["response_type"] == "ephemeral"
    assert answers(casedesk) == [(1, REQUESTER, 4, None)]
    [rated] = events(casedesk, CaseAction.CSAT_RATED)
    assert (rated.actor_id, rated.details) == (REQUESTER, {"rating": 4})


def test_rating_again_updates_the_one_answer(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_and_close(slack)
    rate(slack, 4)
    clock.advance(5 * MINUTE)

    reply = the_reply(rate(slack, 2))

    assert reply["text"] == "Updated your rating of case #1 from 4 to 2. Thank you!"
    assert answers(casedesk) == [(1, REQUESTER, 2, None)]
    assert [e.details for e in events(casedesk, CaseAction.CSAT_RATED)] == [
        {"rating": 4},
        {"rating": 2, "previous": 4},
    ]


def test_only_the_requester_can_rate(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)

    reply = the_reply(rate(slack, 5, user=OUTSIDER))

    assert reply["text"] == "Only the requester of case #1 can rate it."
    assert answers(casedesk) == []
    assert events(casedesk, CaseAction.CSAT_RATED) == []


def test_a_rating_with_a_comment_is_given_in_the_comment_form(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)
    form = open_comment_form(slack, fake_slack)
    assert form["callback_id"] == CallbackId.CSAT_COMMENT
    assert form["title"]["text"] == "Rate case #1"

    submitted = slack.submit(
        REQUESTER, form, {BlockId.RATING: "3", BlockId.COMMENT: "Quick, but I had to ask twice"}
    )

    assert submitted.status == 200
    assert answers(casedesk) == [(1, REQUESTER, 3, "Quick, but I had to ask twice")]
    thanked = [m["text"] for m in fake_slack.messages(f"D{REQUESTER}")]
    assert thanked[-1:] == ["Thank you! You rated case #1 3/5."]
    assert "Thank you! You rated case #1 3/5." not in thanked[:-1]


def test_the_comment_form_needs_a_rating(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack)
    form = open_comment_form(slack, fake_slack)

    submitted = slack.submit(REQUESTER, form, {BlockId.COMMENT: "No stars from me"})

    assert submitted.json() == {
        "response_action": "errors",
        "errors": {BlockId.RATING: "Please pick a rating."},
    }
    assert answers(casedesk) == []


def test_a_requester_closing_their_own_case_is_not_asked(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    slack.command(AGENT, "open My own laptop")
    slack.command(AGENT, "close 1 Rebooted it")

    assert surveys(fake_slack, AGENT) == []
    assert events(casedesk, CaseAction.CSAT_REQUESTED) == []


def test_a_team_with_the_survey_turned_off_does_not_ask(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    open_and_close(slack, team="billing", closer=BILLING_AGENT)

    assert surveys(fake_slack) == []
    assert events(casedesk, CaseAction.CSAT_REQUESTED) == []


def test_a_survey_with_a_delay_waits_in_the_outbox_until_it_is_due(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk, clock: ManualClock
) -> None:
    open_and_close(slack, team="sales", closer=SALES_AGENT)
    [asked] = events(casedesk, CaseAction.CSAT_REQUESTED)
    assert asked.details == {"delay_minutes": 30}
    assert surveys(fake_slack) == []

    clock.advance(29 * MINUTE)
    run_job(casedesk, "deliver-outbox")
    assert surveys(fake_slack) == []

    clock.advance(MINUTE)
    run_job(casedesk, "deliver-outbox")
    assert [m["text"] for m in surveys(fake_slack)] == ["How did we do with case #1?"]
    run_job(casedesk, "deliver-outbox")
    assert len(surveys(fake_slack)) == 1


def test_each_rating_button_has_its_own_action_id_and_is_heard(
    slack: SlackDriver, fake_slack: FakeSlack, casedesk: Casedesk
) -> None:
    """Slack refuses a block with two elements of one action_id: one id per rating; the
    plain `csat_rate` of surveys posted before still works (the other tests click it)."""
    open_and_close(slack)
    [survey] = surveys(fake_slack)
    [ratings] = [b for b in survey["blocks"] if b["type"] == "actions" and len(b["elements"]) > 1]

    assert [b["action_id"] for b in ratings["elements"]] == [f"csat_rate:{n}" for n in range(1, 6)]
    three = ratings["elements"][2]
    reply = the_reply(
        slack.click(REQUESTER, three["action_id"], three["value"], channel=survey["channel"])
    )

    assert reply["text"] == "Thank you! You rated case #1 3/5."
    assert answers(casedesk) == [(1, REQUESTER, 3, None)]
