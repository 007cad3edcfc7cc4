"""`teams.<key>.intake` in app.yaml: which emoji opens a case, whether a help channel's
messages open cases by themselves, how follow-ups group, and what counts as only thanks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DESK_YAML

from bot.desk import DEFAULT_PLEASANTRIES, ConfigError, parse_desk_config


def with_intake(intake: str) -> str:
    """The test desk, its support team given `intake: {intake}`."""
    return DESK_YAML.replace(
        "    default_priority: p3\n", f"    default_priority: p3\n    intake: {{{intake}}}\n", 1
    )


def problems_in(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_desk_config(text, source="app.yaml")
    return raised.value.problems


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
