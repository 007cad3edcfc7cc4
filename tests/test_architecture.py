"""The shape of the house, checked: the domain speaks in outcomes and only views speak Slack;
every refusal has its words; modules and functions stay small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.csat.views  # noqa: F401  (registers the CSAT refusals' words)
from bot.cases.views.refusals import describe
from bot.refusals import Refusal

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"

# Speaking Slack is these modules' job: the Slack adapter and Block Kit primitives, the text
# helpers, the views, the runtime that wires Bolt, and the sandbox's stand-in for Slack.
SLACK_SPEAKERS = ("bot/slack/", "bot/text.py", "bot/runtime/", "bot/sandbox/", "bot/migrations/")
# Flows carry out a use case end to end (core.py is what they share), and listeners parse,
# call and answer: both may hand outcomes to views, but word nothing themselves.
FLOWS = ("flow.py", "reactions.py", "sync.py", "check.py", "summaries.py", "core.py")
MRKDWN_ESCAPES = ("<@", "<#", "<!")
WORDING_HELPERS = {"mention", "escape", "escaped_fit"}
BLOCK_BUILDERS = {
    "section",
    "context",
    "actions",
    "button",
    "header",
    "divider",
    "message",
    "fields_section",
    "mrkdwn",
    "plain",
    "user_text",
    "slack_date",
}
WORDING_MODULES = {"bot.text", "bot.slack.blocks"}


def _is_view(relative: str) -> bool:
    return "/views/" in relative or relative.endswith("views.py")


def _modules(kind: str) -> list[str]:
    found = []
    paths = [
        *BOT.rglob("*.py"),
        *(ROOT / "models").rglob("*.py"),
        *(ROOT / "handlers").rglob("*.py"),
    ]
    for path in sorted(paths):
        relative = path.relative_to(ROOT).as_posix()
        if _is_view(relative) or relative.startswith(SLACK_SPEAKERS):
            continue
        is_flow = path.name in FLOWS or relative.startswith("handlers/")
        if (kind == "flow") == is_flow:
            found.append(relative)
    return found


def _problems(relative: str, *, flow: bool) -> list[str]:
    return _problems_in((ROOT / relative).read_text(), relative, flow=flow)


def _problems_in(source: str, relative: str, *, flow: bool) -> list[str]:
    tree = ast.parse(source, relative)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in WORDING_MODULES:
                    problems.append(f"imports {alias.name} whole")
                if not flow and "views" in alias.name.split("."):
                    problems.append(f"imports the views ({alias.name})")
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module == "bot.text" and names & WORDING_HELPERS:
                problems.append(f"imports {sorted(names & WORDING_HELPERS)} from bot.text")
            if node.module == "bot.slack.blocks" and names & BLOCK_BUILDERS:
                problems.append(f"builds Block Kit ({sorted(names & BLOCK_BUILDERS)})")
            if {f"{node.module}.{name}" for name in names} & WORDING_MODULES:
                problems.append(f"imports {sorted(names)} from {node.module} whole")
            if not flow and ("views" in node.module.split(".") or names & {"views"}):
                problems.append(f"imports the views ({node.module})")
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and any(escape in text for escape in MRKDWN_ESCAPES):
            problems.append(f"writes Slack markup: {text!r}")
    return [f"{relative}:{problem}" for problem in problems]


@pytest.mark.parametrize("relative", _modules("domain"))
def test_the_domain_speaks_in_outcomes_and_never_in_slack_markup(relative: str) -> None:
    assert _problems(relative, flow=False) == []


@pytest.mark.parametrize("relative", _modules("flow"))
def test_flows_hand_outcomes_to_views_and_word_nothing_themselves(relative: str) -> None:
    assert _problems(relative, flow=True) == []


def test_the_check_catches_markup_mentions_blocks_and_views_in_the_domain() -> None:
    bad = (
        "from bot.text import mention\n"
        "from bot.slack.blocks import section\n"
        "from bot.cases.views.card import case_card\n"
        "TOLD = f'Ask <@{holder}>'\n"
        "import bot.text\n"
        "from bot.slack import blocks\n"
        "import bot.sla.views\n"
    )
    assert len(_problems_in(bad, "bot/cases/rules.py", flow=False)) == 7
    assert len(_problems_in(bad, "bot/cases/flow.py", flow=True)) == 5  # flows may use views


def test_the_check_sees_the_domain_it_guards() -> None:
    domain = _modules("domain")
    for module in ("bot/cases/rules.py", "bot/sla/policies.py", "bot/csat/answers.py"):
        assert module in domain
    assert "models/case.py" in domain
    flows = _modules("flow")
    assert "bot/cases/flow.py" in flows
    assert "handlers/block_actions.py" in flows


def _all_subclasses(kind: type[Refusal]) -> list[type[Refusal]]:
    found = []
    for sub in kind.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def test_every_refusal_has_words() -> None:
    unworded = []
    for refusal in _all_subclasses(Refusal):
        implementation = describe.dispatch(refusal)
        if implementation is describe.dispatch(Refusal):
            unworded.append(refusal.__name__)
    # The four kinds are what callers catch; each refusal raised is one of their subclasses.
    assert sorted(unworded) == ["BadInput", "InvalidMove", "NotAllowed"]


LIMITS = {"handlers": 20}


def _sources() -> list[Path]:
    folders = ("bot", "handlers", "models", "tests", "bench")
    return [
        path
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_module_is_past_400_lines() -> None:
    long = {
        path.relative_to(ROOT).as_posix(): lines
        for path in _sources()
        if not path.name.startswith("test_") and (lines := len(path.read_text().splitlines())) > 400
    }
    assert long == {}


def test_no_function_is_past_60_lines_and_no_listener_past_20() -> None:
    long = []
    for path in _sources():
        relative = path.relative_to(ROOT)
        limit = LIMITS.get(relative.parts[0], 60)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    long.append(f"{relative.as_posix()}:{node.name} ({lines} lines)")
    assert long == []
