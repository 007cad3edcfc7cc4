"""Parsing the text people type after `/case` (as Slack delivers it, entities escaped)."""

from __future__ import annotations

import pytest

from bot.cases.commands import CaseCommand, parse_case_command
from bot.cases.views.refusals import describe
from bot.refusals import BadInput


def refusal(text: str) -> str:
    with pytest.raises(BadInput) as raised:
        parse_case_command(text)
    return describe(raised.value)


# Case references


@pytest.mark.parametrize("reference", ["42", "#42", "042"])
@pytest.mark.parametrize("name", ["claim", "unassign", "resume", "show"])
def test_a_case_is_written_as_a_number_with_or_without_a_hash(name: str, reference: str) -> None:
    assert parse_case_command(f"{name} {reference}") == CaseCommand(name, number=42)


def test_subcommands_are_case_insensitive_and_extra_spaces_are_ignored() -> None:
    assert parse_case_command("  CLAIM   #42  ") == CaseCommand("claim", number=42)


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("claim abc", "`abc` is not a case number. Usage: `/case claim <case>`"),
        ("close #x Done", "`#x` is not a case number. Usage: `/case close <case> <resolution>`"),
        ("show -1", "`-1` is not a case number. Usage: `/case show <case>`"),
        ("resume 1234567890", "`1234567890` is not a case number. Usage: `/case resume <case>`"),
        ("note @ana hi", "`@ana` is not a case number. Usage: `/case note <case> <text>`"),
    ],
)
def test_a_bad_case_reference_is_refused_with_the_usage(text: str, usage: str) -> None:
    assert refusal(text) == f"{usage} (a case is `42` or `#42`)."


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("claim", "/case claim <case>"),
        ("pending", "/case pending <case> <what we wait for>"),
        ("escalate ", "/case escalate <case> [to <team>] <reason>"),
    ],
)
def test_a_missing_case_reference_asks_which_case_with_the_usage(text: str, usage: str) -> None:
    assert refusal(text) == f"Which case? Usage: `{usage}` (a case is `42` or `#42`)."


# Opening


@pytest.mark.parametrize(
    "text",
    ["open p1 team:billing Printer on fire", "open team:billing p1 Printer on fire"],
)
def test_priority_and_team_options_come_in_any_order(text: str) -> None:
    expected = CaseCommand("open", text="Printer on fire", priority="p1", team="billing")

    assert parse_case_command(text) == expected


def test_options_are_case_insensitive() -> None:
    assert parse_case_command("open P2 TEAM:Billing Refund") == CaseCommand(
        "open", text="Refund", priority="p2", team="billing"
    )


def test_a_title_keeps_the_users_own_spacing() -> None:
    command = parse_case_command("open p3   Printer   on  fire\nsince   Monday")

    assert command.text == "Printer   on  fire\nsince   Monday"


def test_only_the_first_priority_is_an_option_and_the_rest_is_the_title() -> None:
    command = parse_case_command("open p2 p3 team:billing stays in the title")

    assert (command.priority, command.team, command.text) == (
        "p2",
        None,
        "p3 team:billing stays in the title",
    )


def test_open_without_options_or_title_leaves_them_empty_for_the_form() -> None:
    assert parse_case_command("open") == CaseCommand("open")
    assert parse_case_command("open p1") == CaseCommand("open", priority="p1")


# Slack's escaping


def test_slack_entities_are_unescaped_to_what_the_user_typed() -> None:
    command = parse_case_command("open Why did &lt;!channel&gt; ping everyone?")

    assert command.text == "Why did <!channel> ping everyone?"


def test_an_escaped_ampersand_is_unescaped_once_only() -> None:
    assert (
        parse_case_command("note 7 AT&amp;T wrote &amp;lt;b&amp;gt;").text == "AT&T wrote &lt;b&gt;"
    )


# Assigning


@pytest.mark.parametrize(
    ("target", "user_id"),
    [("<@U123|ana>", "U123"), ("<@U0AGENT2>", "U0AGENT2"), ("<@W0ENT|ent>", "W0ENT"),
     ("U0AGENT1", "U0AGENT1"), ("@U0AGENT1", "U0AGENT1")],
)  # fmt: skip
def test_assign_takes_a_slack_mention_or_a_user_id(target: str, user_id: str) -> None:
    assert parse_case_command(f"assign #42 {target}") == CaseCommand(
        "assign", number=42, user_id=user_id
    )


def test_assign_to_a_name_slack_did_not_resolve_says_who_it_could_not_tell() -> None:
    assert refusal("assign 42 bob") == (
        "Whom should case #42 go to? `/case assign <case> @user`, picking the person from "
        "Slack's @-autocomplete (I could not tell who `bob` is)."
    )


def test_assign_without_a_person_asks_whom() -> None:
    assert refusal("assign 42") == (
        "Whom should case #42 go to? `/case assign <case> @user`, picking the person from "
        "Slack's @-autocomplete."
    )


# Escalating


def test_escalate_to_a_team_with_a_reason() -> None:
    assert parse_case_command("escalate 42 to Billing Customer is a key account") == CaseCommand(
        "escalate", number=42, team="billing", text="Customer is a key account"
    )


def test_escalate_with_a_team_option_and_a_reason() -> None:
    assert parse_case_command("escalate #42 team:billing Refund needed") == CaseCommand(
        "escalate", number=42, team="billing", text="Refund needed"
    )


def test_escalate_without_a_team_keeps_the_whole_reason() -> None:
    assert parse_case_command("escalate 42 Customer is a key account") == CaseCommand(
        "escalate", number=42, text="Customer is a key account"
    )


def test_escalate_to_a_team_without_a_reason_leaves_the_reason_for_the_form() -> None:
    assert parse_case_command("escalate 42 to billing") == CaseCommand(
        "escalate", number=42, team="billing"
    )


@pytest.mark.parametrize("team", ["to billing", "team:billing"])
def test_an_escalation_reason_keeps_the_users_own_spacing(team: str) -> None:
    command = parse_case_command(f"escalate 42 {team} Down   since 09:00\nsee logs")

    assert (command.team, command.text) == ("billing", "Down   since 09:00\nsee logs")


# Texts after the case number


@pytest.mark.parametrize(
    ("name", "text"),
    [("close", "Reset   the password"), ("pending", "Invoice number"), ("reopen", "Still broken"),
     ("note", "Called <@U0REQUESTER>")],
)  # fmt: skip
def test_the_text_after_the_case_number_is_kept_as_typed(name: str, text: str) -> None:
    assert parse_case_command(f"{name} #42 {text}") == CaseCommand(name, number=42, text=text)


def test_text_may_start_on_a_new_line_after_the_case_number() -> None:
    command = parse_case_command("note 42\nCalled the customer\nThey will send logs")

    assert (command.number, command.text) == (42, "Called the customer\nThey will send logs")


# Listing


@pytest.mark.parametrize(
    ("text", "view", "team"),
    [
        ("list", "open", None),
        ("list mine", "mine", None),
        ("list Unassigned team:billing", "unassigned", "billing"),
        ("list team:Billing closed", "closed", "billing"),
        ("list team:support", "open", "support"),
    ],
)
def test_list_takes_a_view_and_a_team_in_any_order(text: str, view: str, team: str | None) -> None:
    assert parse_case_command(text) == CaseCommand("list", view=view, team=team)


# Help


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP me please"])
def test_empty_text_and_help_give_the_help(text: str) -> None:
    assert parse_case_command(text) == CaseCommand("help")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("clam", "claim"), ("Esclate", "escalate"), ("reopne", "reopen"), ("asign", "assign")],
)
def test_an_unknown_subcommand_gives_the_help_with_a_did_you_mean(typed: str, meant: str) -> None:
    assert parse_case_command(f"{typed} 42") == CaseCommand(
        "help", text=typed.lower(), suggestion=meant
    )


def test_an_unknown_subcommand_unlike_any_gives_the_help_without_a_guess() -> None:
    assert parse_case_command("xyzzy 42") == CaseCommand("help", text="xyzzy")
