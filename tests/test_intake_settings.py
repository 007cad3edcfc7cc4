"""`teams.<key>.intake` in app.yaml: which emoji opens a case, whether a help channel's
messages open cases by themselves, how follow-ups group, and what counts as only thanks."""

from __future__ import annotations

from datetime import timedelta

from conftest import DESK_YAML
from desk_config_helpers import problems_in, support_with

from bot.desk import DEFAULT_PLEASANTRIES, parse_desk_config


def with_intake(settings: str) -> str:
    return support_with("intake", settings)


def test_a_team_opens_cases_from_ticket_reactions_and_not_by_itself_unless_asked() -> None:
    intake = parse_desk_config(DESK_YAML).team("support").intake

    assert (intake.emoji, intake.auto, intake.group_within) == (
        "ticket",
        False,
        timedelta(minutes=3),
    )
    assert intake.ignore == list(DEFAULT_PLEASANTRIES)


def test_an_intake_emoji_may_be_written_with_colons_and_a_help_channel_opened_to_all() -> None:
    intake = (
        parse_desk_config(
            with_intake("emoji: ':sos:', auto: true, group_within: 10m, ignore: [merci]")
        )
        .team("support")
        .intake
    )

    assert (intake.emoji, intake.auto, intake.group_within, intake.ignore) == (
        "sos",
        True,
        timedelta(minutes=10),
        ["merci"],
    )


def test_a_custom_emoji_name_is_fine_but_a_bad_duration_or_flag_is_named_by_its_key() -> None:
    assert parse_desk_config(with_intake("emoji: our-custom_ticket")).team("support")

    problems = problems_in(with_intake("emoji: 'two words', auto: sometimes, group_within: soon"))

    assert any(
        p.startswith("teams.support.intake.emoji: 'two words' is not an emoji") for p in problems
    )
    assert any(p.startswith("teams.support.intake.auto:") for p in problems)
    assert any(p.startswith("teams.support.intake.group_within:") for p in problems)


def test_an_unknown_intake_key_is_a_spelling_mistake() -> None:
    assert problems_in(with_intake("emoij: ticket")) == [
        "teams.support.intake.emoij: unknown key (check the spelling)"
    ]
