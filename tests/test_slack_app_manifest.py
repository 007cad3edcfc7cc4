"""`python -m bot manifest`: the Slack app is created from a manifest generated from what the app
registers and calls. Every listener the served Bolt app has is in it, it asks for nothing the app
does not listen to, it is valid against the manifest schema Slack documents, and a listener,
Web API method or event the generator does not know stops it with a message naming it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers import run_bot
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener import Listener

from bot.ids import ActionId, CallbackId
from bot.runtime.assembly import build_app
from bot.runtime.casedesk import Casedesk
from bot.runtime.manifest import (
    ManifestError,
    bot_scopes,
    build_manifest,
    events_url,
    manifest_yaml,
    registered_listeners,
)

EVENTS_URL = "https://desk.example.com/slack/events"


def _text(max_length: int, min_length: int = 1) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def _url(max_length: int = 3500) -> dict[str, Any]:
    return {"type": "string", "pattern": r"^https?://", "maxLength": max_length}


def _strict(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
    }


def _names(max_items: int) -> dict[str, Any]:
    items = {"type": "string", "maxLength": 50}
    return {"type": "array", "items": items, "maxItems": max_items, "uniqueItems": True}


BOOLEAN = {"type": "boolean"}

# The manifest fields and types Slack documents (docs.slack.dev/reference/app-manifest), for the
# parts of a manifest an app like this one uses: unknown fields are errors, as they are to Slack.
SLASH_COMMAND = _strict(
    {
        "command": {**_text(32, 2), "pattern": "^/"},
        "url": _url(3000),
        "description": _text(2000),
        "usage_hint": _text(1000),
        "should_escape": BOOLEAN,
    },
    "command",
    "description",
)
SHORTCUT = _strict(
    {
        "name": _text(24),
        "type": {"enum": ["message", "global"]},
        "callback_id": _text(255),
        "description": _text(150),
    },
    "name",
    "type",
    "callback_id",
    "description",
)
FEATURES = _strict(
    {
        "app_home": _strict(
            {
                "home_tab_enabled": BOOLEAN,
                "messages_tab_enabled": BOOLEAN,
                "messages_tab_read_only_enabled": BOOLEAN,
            }
        ),
        "bot_user": _strict({"display_name": _text(80), "always_online": BOOLEAN}, "display_name"),
        "shortcuts": {"type": "array", "items": SHORTCUT, "minItems": 1, "maxItems": 10},
        "slash_commands": {"type": "array", "items": SLASH_COMMAND, "minItems": 1, "maxItems": 50},
        "unfurl_domains": {"type": "array", "items": _text(255), "minItems": 1, "maxItems": 5},
    }
)
SCOPES = {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 255}
OAUTH_CONFIG = _strict(
    {
        "redirect_urls": {"type": "array", "items": {"type": "string", "maxLength": 2500}},
        "scopes": _strict({"bot": SCOPES, "user": SCOPES}),
        "token_management_enabled": BOOLEAN,
    }
)
SETTINGS = _strict(
    {
        "allowed_ip_address_ranges": {"type": "array", "items": {"type": "string"}},
        "event_subscriptions": _strict(
            {"request_url": _url(), "bot_events": _names(100), "user_events": _names(100)}
        ),
        "incoming_webhooks": _strict({"incoming_webhooks_enabled": BOOLEAN}),
        "interactivity": _strict(
            {"is_enabled": BOOLEAN, "request_url": _url(), "message_menu_options_url": _url()},
            "is_enabled",
        ),
        "org_deploy_enabled": BOOLEAN,
        "socket_mode_enabled": BOOLEAN,
        "token_rotation_enabled": BOOLEAN,
    }
)
# Without Socket Mode, Slack needs a request URL for each command, for events and interactivity.
NEEDS_REQUEST_URLS = {
    "properties": {
        "features": {"properties": {"slash_commands": {"items": {"required": ["url"]}}}},
        "settings": {
            "properties": {
                "event_subscriptions": {"required": ["request_url"]},
                "interactivity": {
                    "if": {"properties": {"is_enabled": {"const": True}}},
                    "then": {"required": ["request_url"]},
                },
            }
        },
    }
}
SOCKET_MODE_ON = {
    "properties": {"settings": {"properties": {"socket_mode_enabled": {"const": True}}}},
    "required": ["settings"],
}
MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_strict(
        {
            "_metadata": _strict(
                {"major_version": {"enum": [1, 2]}, "minor_version": {"type": "integer"}}
            ),
            "display_information": _strict(
                {
                    "name": _text(35),
                    "description": _text(140),
                    "background_color": {"type": "string", "pattern": "^#([0-9a-fA-F]{3}){1,2}$"},
                    "long_description": _text(4000, 175),
                },
                "name",
            ),
            "features": FEATURES,
            "oauth_config": OAUTH_CONFIG,
            "settings": SETTINGS,
        },
        "display_information",
    ),
    "if": SOCKET_MODE_ON,
    "else": NEEDS_REQUEST_URLS,
}


def valid(manifest: dict[str, Any]) -> list[str]:
    """The schema's complaints about `manifest`; none when Slack would take it."""
    validator = jsonschema.Draft202012Validator(MANIFEST_SCHEMA)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(manifest)
    ]


def _event(subscription: str) -> dict[str, Any]:
    """The event Slack delivers for a subscription."""
    channel_types = {"message.channels": "channel", "message.groups": "group"}
    if subscription in channel_types:
        return {"type": "message", "channel_type": channel_types[subscription], "text": "hi"}
    return {"type": subscription}


def requests_slack_sends(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One request of each kind Slack sends an app created from `manifest`, by what it is."""
    features, settings = manifest["features"], manifest["settings"]
    sent: dict[str, dict[str, Any]] = {}
    for command in features.get("slash_commands", []):
        sent[command["command"]] = {"command": command["command"], "text": "help"}
    for shortcut in features.get("shortcuts", []):
        kind = {"message": "message_action", "global": "shortcut"}[shortcut["type"]]
        sent[f"shortcut {shortcut['callback_id']}"] = {
            "type": kind,
            "callback_id": shortcut["callback_id"],
        }
    for subscription in settings.get("event_subscriptions", {}).get("bot_events", []):
        sent[f"event {subscription}"] = {"type": "event_callback", "event": _event(subscription)}
    return sent


def interactions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """With interactivity on, Slack sends the app's every button click and form submission."""
    if not manifest["settings"]["interactivity"]["is_enabled"]:
        return []
    clicks = [
        {"type": "block_actions", "actions": [{"action_id": action_id, "block_id": "b"}]}
        for action in ActionId
        for action_id in (action.value, f"{action.value}:1")  # distinct ids of a row of buttons
    ]
    submissions = [
        {"type": "view_submission", "view": {"type": "modal", "callback_id": callback.value}}
        for callback in CallbackId
    ]
    return clicks + submissions


def listeners(app: App) -> list[Listener]:
    # Bolt keeps the registered listeners in `_listeners`; it offers no public way to list them.
    return list(app._listeners)


def _matches(app: App, body: dict[str, Any]) -> list[Listener]:
    request = BoltRequest(body=body, mode="socket_mode")
    return [
        listener
        for listener in listeners(app)
        if listener.matches(req=request, resp=BoltResponse(status=200))
    ]


# What the served app listens for is in the manifest, and nothing more


def test_every_listener_the_served_app_registers_is_in_the_manifest(casedesk: Casedesk) -> None:
    app = build_app(casedesk)
    manifest = build_manifest(EVENTS_URL)
    bodies = [*requests_slack_sends(manifest).values(), *interactions(manifest)]

    reached = {id(listener) for body in bodies for listener in _matches(app, body)}
    missed = [each.ack_function.__name__ for each in listeners(app) if id(each) not in reached]

    assert len(listeners(app)) >= 20  # /case, the shortcut, every button and modal, the events
    assert missed == []


def test_the_manifest_asks_slack_for_nothing_the_app_does_not_listen_to(
    casedesk: Casedesk,
) -> None:
    app = build_app(casedesk)
    sent = requests_slack_sends(build_manifest(EVENTS_URL))

    unheard = [what for what, body in sent.items() if not _matches(app, body)]

    assert unheard == []
    assert {"/case", "shortcut open_case_from_message", "event message.channels"} <= set(sent)


def test_the_manifest_has_the_command_shortcut_events_and_home_tab() -> None:
    manifest = build_manifest(EVENTS_URL)
    features, settings = manifest["features"], manifest["settings"]

    [command] = features["slash_commands"]
    assert (command["command"], command["should_escape"]) == ("/case", True)
    assert "claim" in command["usage_hint"].split("|")
    assert features["shortcuts"] == [
        {
            "name": "Open a case",
            "type": "message",
            "callback_id": "open_case_from_message",
            "description": "Make this message a support case",
        }
    ]
    assert settings["event_subscriptions"]["bot_events"] == [
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
        "app_home_opened",
    ]
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["display_information"]["name"] == features["bot_user"]["display_name"]


def test_the_bot_scopes_are_those_of_the_methods_called_and_events_heard() -> None:
    scopes = build_manifest(EVENTS_URL)["oauth_config"]["scopes"]["bot"]

    assert scopes == [
        "channels:history",  # conversations.history/replies, message.channels
        "chat:write",  # chat.postMessage, update, delete, postEphemeral
        "chat:write.public",
        "commands",  # /case and the shortcut
        "files:write",  # files.uploadV2
        "groups:history",
        "im:history",
        "im:write",  # conversations.open
        "reactions:read",  # reaction_added, reaction_removed
        "usergroups:read",  # usergroups.users.list
        "users:read",  # users.info
    ]


def test_each_scope_in_the_yaml_says_why_it_is_needed() -> None:
    manifest = build_manifest(EVENTS_URL)
    text = manifest_yaml(manifest)

    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        [line] = [line for line in text.splitlines() if line.strip().startswith(f"- {scope} ")]
        assert re.fullmatch(rf"\s*- {re.escape(scope)}  # \S.{{10,}}", line), line
    assert yaml.safe_load(text) == manifest


# Valid against Slack's manifest schema


@pytest.mark.parametrize("url", [EVENTS_URL, None], ids=["request URLs", "Socket Mode"])
def test_the_manifest_is_valid_against_slacks_manifest_schema(url: str | None) -> None:
    jsonschema.Draft202012Validator.check_schema(MANIFEST_SCHEMA)

    assert valid(build_manifest(url)) == []


def test_the_schema_refuses_what_slack_refuses() -> None:
    manifest = build_manifest(EVENTS_URL)
    too_long = {**manifest, "display_information": {"name": "C" * 36}}
    unknown = {**manifest, "settings": {**manifest["settings"], "socket_mode": True}}
    del manifest["features"]["slash_commands"][0]["url"]

    assert any("name" in problem for problem in valid(too_long))
    assert any("socket_mode" in problem for problem in valid(unknown))
    assert any("'url' is a required property" in problem for problem in valid(manifest))


# Nothing the app registers or calls can be left out silently


def _listener(ack: Any) -> None:
    ack()


@pytest.mark.parametrize(
    ("register", "named"),
    [
        (lambda app: app.event("team_join")(_listener), "'team_join' event"),
        (lambda app: app.message_shortcut("tag_case")(_listener), "'tag_case'"),
        (lambda app: app.global_shortcut("new_case")(_listener), "'new_case'"),
        (lambda app: app.command("/triage")(_listener), "/triage"),
        (lambda app: app.command(re.compile("/ca.*"))(_listener), "spelled out"),
        (lambda app: app.shortcut("either")(_listener), "message or a global shortcut"),
        (lambda app: app.function("sum_up")(_listener), "in a way the manifest can read"),
    ],
    ids=["event", "message shortcut", "global shortcut", "command", "pattern", "shortcut", "other"],
)
def test_a_listener_the_generator_does_not_know_stops_it_naming_it(
    register: Any, named: str
) -> None:
    with pytest.raises(ManifestError, match=re.escape(named)):
        build_manifest(EVENTS_URL, register=register)


def test_a_web_api_method_without_declared_scopes_stops_it_naming_it() -> None:
    listeners = registered_listeners()

    with pytest.raises(ManifestError, match=r"pins\.add, which METHOD_SCOPES"):
        bot_scopes(listeners, ("chat.postMessage", "pins.add"))


# Where Slack sends requests


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://desk.example.com", EVENTS_URL),
        ("https://desk.example.com/", EVENTS_URL),
        (
            "https://desk.example.com:8443/casedesk",
            "https://desk.example.com:8443/casedesk/slack/events",
        ),
    ],
)
def test_request_urls_are_the_address_and_slack_events(given: str, expected: str) -> None:
    assert events_url(given) == expected


# python -m bot manifest


def manifest_command(tmp_path: Path, *args: str) -> tuple[int, str, list[str]]:
    done = run_bot("manifest", *args, cwd=tmp_path)
    return done.returncode, done.stdout, done.stderr.splitlines()


def _urls(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k.endswith("url")]
        return found + [url for value in node.values() for url in _urls(value)]
    if isinstance(node, list):
        return [url for item in node for url in _urls(item)]
    return []


def test_manifest_with_url_prints_yaml_slack_takes(tmp_path: Path) -> None:
    code, out, err = manifest_command(tmp_path, "--url", "https://desk.example.com")

    manifest = yaml.safe_load(out)
    assert (code, err) == (0, [])
    assert valid(manifest) == []
    assert manifest["features"]["slash_commands"][0]["url"] == EVENTS_URL
    assert manifest["settings"]["event_subscriptions"]["request_url"] == EVENTS_URL
    assert manifest["settings"]["interactivity"]["request_url"] == EVENTS_URL
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert set(_urls(manifest)) == {EVENTS_URL}


def test_manifest_for_socket_mode_has_no_request_urls(tmp_path: Path) -> None:
    code, out, err = manifest_command(tmp_path, "--socket-mode")

    manifest = yaml.safe_load(out)
    assert (code, err) == (0, [])
    assert valid(manifest) == []
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert _urls(manifest) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--url", "ftp://x"], "--url 'ftp://x' is not an https address"),
        (["--url", "desk.example.com/"], "--url 'desk.example.com/' is not an https address"),
        (["--url", "https://desk.example.com/slack/events"], "without /slack/events"),
        (["--url", "https://desk example.com"], "does not name a host"),
        (["--url", "https://desk.example.com:https"], "port that is not a number"),
        ([], "--url https://your.host, or --socket-mode"),
        (["--url", "https://desk.example.com", "--socket-mode"], "not both"),
    ],
    ids=["ftp", "no scheme", "events path", "space", "port", "neither", "both"],
)
def test_manifest_refuses_in_one_line_and_exits_1(
    tmp_path: Path, args: list[str], said: str
) -> None:
    code, out, err = manifest_command(tmp_path, *args)

    assert (code, out) == (1, "")
    assert len(err) == 1
    assert err[0].startswith("casedesk: ")
    assert said in err[0]
