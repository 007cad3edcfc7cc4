"""Whatever Slack (or someone holding the signing secret) sends, the bot answers without a
server error and without a traceback in its log: fuzzed slash command text, button clicks,
modal submissions and Events API envelopes, all signed and POSTed over HTTP to the real app.

The full run is on SQLite; PostgreSQL (stricter about integers, lengths and NUL) gets a
shorter one of the same strategies."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest import AGENT, MANAGER, REQUESTER, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import Json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_driver import SlackDriver

from bot.cases.commands import USAGE
from bot.ids import ActionId, BlockId, CallbackId

# Examples per kind of request on SQLite; PostgreSQL runs a third of them.
EXAMPLES = 300

USERS = st.sampled_from([REQUESTER, AGENT, MANAGER, "U0STRANGER"])
SMALL_TEXT = st.text(max_size=40)
# Any JSON value: where a field should be an id or an object, any of these may come instead.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SMALL_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
CASE_NUMBERS = st.one_of(
    st.sampled_from(["1", "2", "#1", "0", "-1", str(2**31), str(10**20), "", "1.5", "²"]),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    SMALL_TEXT,
)


# Well-formed requests with fuzzed values


SLASH_TEXT = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda name, number, rest: f"{name} {number} {rest}",
        st.sampled_from(sorted(USAGE)),
        CASE_NUMBERS,
        st.text(max_size=80),
    ),
    st.builds(
        lambda name, rest: f"{name} {rest}", st.sampled_from(sorted(USAGE)), st.text(max_size=80)
    ),
)

LIST_PAGE = st.builds(
    lambda view, offset, team: json.dumps({"view": view, "offset": offset, "team": team}),
    st.sampled_from(["open", "mine", "closed", "unassigned", "nope"]) | JSON_VALUES,
    st.integers(min_value=-(2**70), max_value=2**70) | JSON_VALUES,
    st.sampled_from([None, "support", "billing", "nope"]) | JSON_VALUES,
)
BUTTON_VALUES = {
    ActionId.LIST_MORE: LIST_PAGE,
    ActionId.CSAT_RATE: st.builds(lambda n, r: f"{n}:{r}", CASE_NUMBERS, CASE_NUMBERS),
}


def button(action_id: str) -> st.SearchStrategy[Json]:
    values = BUTTON_VALUES.get(ActionId(action_id), CASE_NUMBERS)
    return st.fixed_dictionaries(
        {"type": st.just("button"), "action_id": st.just(action_id), "value": values}
    )


def block_actions(response_url: str) -> st.SearchStrategy[Json]:
    action_ids = [a.value for a in ActionId]
    return st.fixed_dictionaries(
        {
            "type": st.just("block_actions"),
            "team": st.just({"id": "T1"}),
            "api_app_id": st.just("A1"),
            "user": USERS.map(lambda user: {"id": user, "team_id": "T1"}),
            "actions": st.sampled_from(action_ids).flatmap(button).map(lambda a: [a]),
            "channel": st.just({"id": SUPPORT_CHANNEL}),
            "container": st.just({"type": "message", "channel_id": SUPPORT_CHANNEL}),
            "trigger_id": st.just("trigger-fuzz"),
            "response_url": st.just(response_url),
        }
    )


BLOCK_IDS = st.sampled_from([b.value for b in BlockId])
INPUT = st.one_of(
    st.builds(lambda text: {"type": "plain_text_input", "value": text}, st.text(max_size=60)),
    st.builds(
        lambda value: {"type": "static_select", "selected_option": {"value": value}},
        CASE_NUMBERS | st.sampled_from(["p1", "p9", "support", "billing"]),
    ),
)
STATE_VALUES = st.dictionaries(BLOCK_IDS, st.builds(lambda k, v: {k: v}, BLOCK_IDS, INPUT))
METADATA = st.builds(
    lambda channel, case: json.dumps({"channel": channel, "case": case}),
    st.sampled_from([SUPPORT_CHANNEL, None]) | SMALL_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from([1, 2, None]),
)

VIEW_SUBMISSION = st.fixed_dictionaries(
    {
        "type": st.just("view_submission"),
        "team": st.just({"id": "T1"}),
        "api_app_id": st.just("A1"),
        "trigger_id": st.just("trigger-fuzz"),
        "user": USERS.map(lambda user: {"id": user, "team_id": "T1"}),
        "view": st.fixed_dictionaries(
            {
                "id": st.just("V1"),
                "type": st.just("modal"),
                "callback_id": st.sampled_from([c.value for c in CallbackId]),
                "private_metadata": METADATA | SMALL_TEXT,
                "state": STATE_VALUES.map(lambda values: {"values": values}),
            }
        ),
    }
)

TS = st.sampled_from(["1700000000.000100", "1700000001.000200"])
EVENT = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "app_home_opened", "reaction_added"])},
    optional={
        "user": USERS,
        "channel": st.just(SUPPORT_CHANNEL),
        "ts": TS,
        "thread_ts": TS,
        "subtype": st.sampled_from(["file_share", "message_changed", "bot_message"]),
        "text": st.text(max_size=60),
        "tab": st.sampled_from(["home", "messages"]),
        "bot_id": st.just("B0OTHER"),
    },
)
ENVELOPE = st.fixed_dictionaries(
    {
        "token": st.just("legacy"),
        "team_id": st.just("T1"),
        "api_app_id": st.just("A1"),
        "type": st.just("event_callback"),
        "event_id": st.text(min_size=1, max_size=64),
        "event_time": st.just(1_700_000_000),
        "event": EVENT,
    }
)


# ... and the same with one field anywhere replaced by any JSON value, or left out

DELETE = object()


def key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    return [
        path for key, item in items for path in [(*prefix, key), *key_paths(item, (*prefix, key))]
    ]


def replaced(payload: Json, path: tuple[Any, ...], new: Any) -> Json:
    copy: Json = json.loads(json.dumps(payload))
    parent: Any = copy
    for key in path[:-1]:
        parent = parent[key]
    if new is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return copy


def mutated(payload: Json) -> st.SearchStrategy[Json]:
    return st.sampled_from(key_paths(payload)).flatmap(
        lambda path: (JSON_VALUES | st.just(DELETE)).map(lambda new: replaced(payload, path, new))
    )


def fuzzed(strategy: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
    """Half well-formed (fuzzed values the listeners must cope with), half with one field
    of the wrong shape (the edge must refuse)."""
    return st.one_of(strategy, strategy.flatmap(mutated))


# The run


class Fuzzer:
    """Posts one fuzzed request and checks what the app did with it."""

    def __init__(self, slack: SlackDriver, caplog: pytest.LogCaptureFixture) -> None:
        self.slack, self.caplog = slack, caplog
        self._triggers = itertools.count(1)

    def trigger_id(self) -> str:
        """A new one each time: a repeated trigger_id is a replay, which the bot ignores."""
        return f"trigger-fuzz-{next(self._triggers)}"

    def post(self, body: str, content_type: str) -> None:
        self.caplog.clear()
        result = self.slack.post(body, content_type=content_type)
        assert self.slack.executor.wait_idle(timeout=30), "the app did not finish in time"
        assert result.status < 500, (result, body[:500])
        tracebacks = [
            f"{record.name}: {record.getMessage()}"
            for record in self.caplog.records
            if record.exc_info
        ]
        assert tracebacks == [], body[:500]

    def command(self, user: str, text: str) -> None:
        form = {
            "team_id": "T1",
            "channel_id": SUPPORT_CHANNEL,
            "user_id": user,
            "command": "/case",
            "text": text,
            "response_url": self.slack.fake.response_url("fuzz"),
            "trigger_id": self.trigger_id(),
        }
        self.post(urlencode(form), "application/x-www-form-urlencoded")

    def interaction(self, payload: Json) -> None:
        if payload.get("trigger_id") == "trigger-fuzz":
            payload = {**payload, "trigger_id": self.trigger_id()}
        self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def event(self, envelope: Json) -> None:
        self.post(json.dumps(envelope), "application/json")


@pytest.fixture
def fuzzer(slack: SlackDriver, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> Fuzzer:
    """A desk with a claimed case and a closed one, and a log that keeps everything."""
    caplog.set_level(logging.INFO)
    for title in ("Printer on fire", "VPN down"):
        slack.command(REQUESTER, f"open {title}")
    slack.command(AGENT, "claim 1")
    slack.command(AGENT, "close 2 Restarted the VPN")
    return Fuzzer(slack, caplog)


def examples(request: pytest.FixtureRequest) -> int:
    postgres = request.node.callspec.params.get("database") == "postgres"
    return EXAMPLES // 3 if postgres else EXAMPLES


def fuzz(strategy: st.SearchStrategy[Any], count: int, check: Callable[[Any], None]) -> None:
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(strategy)
    def run(value: Any) -> None:
        check(value)

    run()


def test_fuzzed_slash_command_text_never_gets_a_server_error_or_a_traceback(
    fuzzer: Fuzzer, request: pytest.FixtureRequest
) -> None:
    fuzz(st.tuples(USERS, SLASH_TEXT), examples(request), lambda v: fuzzer.command(*v))


def test_fuzzed_button_clicks_never_get_a_server_error_or_a_traceback(
    fuzzer: Fuzzer, fake_slack: FakeSlack, request: pytest.FixtureRequest
) -> None:
    strategy = fuzzed(block_actions(fake_slack.response_url("fuzz")))
    fuzz(strategy, examples(request), fuzzer.interaction)


def test_fuzzed_modal_submissions_never_get_a_server_error_or_a_traceback(
    fuzzer: Fuzzer, request: pytest.FixtureRequest
) -> None:
    fuzz(fuzzed(VIEW_SUBMISSION), examples(request), fuzzer.interaction)


def test_fuzzed_event_envelopes_never_get_a_server_error_or_a_traceback(
    fuzzer: Fuzzer, request: pytest.FixtureRequest
) -> None:
    fuzz(fuzzed(ENVELOPE), examples(request), fuzzer.event)
