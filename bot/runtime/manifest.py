"""The Slack app's manifest, generated from what the app registers and what it calls.

`python -m bot manifest --url https://desk.example.com` prints it as YAML, to paste into
api.slack.com/apps > Create New App > From a manifest.

- What Slack sends: `handlers.register_all`, the very function that gives the served app its
  listeners, runs against a Bolt app that notes every registration (`_Registrations`). The slash
  commands, the shortcuts with their callback ids, the bot events and whether interactivity is
  on all come from those notes, so a new listener is in the manifest by itself.
- The bot scopes: those of the Web API methods the gateway calls (bot/slack/gateway.py, the one
  way to Slack; each call is named in its `_call`), of the events, and `commands` for commands
  and shortcuts, each with why Casedesk needs it.

A method, event, command or shortcut that the tables below do not know stops the generation
with a message naming it and the table to add it to: nothing can be left out silently.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml
from slack_bolt import App

import handlers
from bot.cases.commands import SUBCOMMANDS
from bot.ids import CallbackId
from bot.runtime.server import SLACK_PATH
from bot.slack import gateway

NAME = "Casedesk"

# Why Casedesk asks for each bot scope (shown as a comment beside it in the manifest).
SCOPE_PURPOSES: dict[str, str] = {
    "commands": "the /case command and the message shortcut",
    "chat:write": "case cards, thread replies, alerts, summaries and private replies",
    "chat:write.public": "posting in a team's public channels before the bot is invited",
    "channels:history": "case threads, help-channel messages and messages made into cases",
    "groups:history": "the same in private channels: their threads and messages",
    "im:history": "checking, after a lost answer, whether a survey DM went out",
    "im:write": "direct messages: surveys, and replies where no channel is at hand",
    "files:write": "the chart of the daily and weekly summaries",
    "users:read": "people's time zones (/case away until 14:00)",
    "usergroups:read": "agents and managers given as user groups in app.yaml",
    "reactions:read": "the intake emoji, and agents claiming and closing with reactions",
}

# The bot scopes each Web API method needs (an empty tuple: none).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write", "chat:write.public"),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.getPermalink": (),
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
    "conversations.open": ("im:write",),
    "files.uploadV2": ("files:write",),
    "views.open": (),
    "views.publish": (),
    "users.info": ("users:read",),
    "usergroups.users.list": ("usergroups:read",),
}

# A Bolt event type -> the Events API subscriptions that deliver it, each with its scopes.
EVENT_SUBSCRIPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "message": {"message.channels": ("channels:history",), "message.groups": ("groups:history",)},
    "reaction_added": {"reaction_added": ("reactions:read",)},
    "reaction_removed": {"reaction_removed": ("reactions:read",)},
    "app_home_opened": {"app_home_opened": ()},
}

# What people see of each command and shortcut in Slack: a description (and a shortcut's name).
COMMAND_DESCRIPTIONS: dict[str, str] = {"/case": "Open and work support cases"}
SHORTCUT_NAMES: dict[str, tuple[str, str]] = {
    CallbackId.OPEN_CASE_FROM_MESSAGE: ("Open a case", "Make this message a support case"),
}

DESCRIPTION = "A support desk in Slack: cases, SLAs, alerts and team metrics."
LONG_DESCRIPTION = (
    "Casedesk runs a support desk inside Slack. Agents open, claim, assign, escalate, park and "
    "close cases with /case and with the buttons on each case's card in the team channel; any "
    "message becomes a case with the Open a case shortcut, an emoji or a help channel. SLA "
    "timers count business hours, warn before a breach and alert when one happens, and each "
    "team gets a daily and weekly summary of its figures with a chart."
)


class ManifestError(Exception):
    """The manifest cannot be made (the message says why); or a bad --url."""


@dataclass(frozen=True)
class Listeners:
    """What the app listens for, as the manifest needs it."""

    commands: tuple[str, ...]
    shortcuts: tuple[tuple[str, str], ...]  # (type: "message" or "global", callback id)
    events: tuple[str, ...]  # Bolt's event types, e.g. "message"
    interactive: bool  # buttons, pickers, modals
    options: bool  # select menus with options loaded from the app


@dataclass(frozen=True)
class _Noted:
    kind: str
    constraint: Any


def _noting(kind: str, register: Callable[..., Any]) -> Callable[..., Any]:
    def note(self: _Registrations, constraint: Any = "", *args: Any, **kwargs: Any) -> Any:
        self.noted.append(_Noted(kind, constraint))
        return register(self, constraint, *args, **kwargs)

    return note


class _Registrations(App):
    """A Bolt app that notes what is registered on it and how."""

    def __init__(self) -> None:
        super().__init__(
            token="xoxb-manifest",  # never used: nothing is served or called
            signing_secret="manifest",
            token_verification_enabled=False,
            request_verification_enabled=False,
        )
        self.noted: list[_Noted] = []

    command = _noting("command", App.command)
    shortcut = _noting("shortcut", App.shortcut)
    message_shortcut = _noting("message_shortcut", App.message_shortcut)
    global_shortcut = _noting("global_shortcut", App.global_shortcut)
    event = _noting("event", App.event)
    message = _noting("message", App.message)
    action = _noting("interactive", App.action)
    block_action = _noting("interactive", App.block_action)
    view = _noting("interactive", App.view)
    view_submission = _noting("interactive", App.view_submission)
    view_closed = _noting("interactive", App.view_closed)
    options = _noting("options", App.options)
    block_suggestion = _noting("options", App.block_suggestion)

    @property
    def registered(self) -> int:
        return len(self._listeners)


def registered_listeners(register: Callable[[App], None] = handlers.register_all) -> Listeners:
    """What `register` (by default the served app's own registration) makes the app listen for."""
    app = _Registrations()
    register(app)
    if app.registered != len(app.noted):
        raise ManifestError(
            f"{app.registered} listener(s) registered, {len(app.noted)} of them in a way the "
            "manifest can read: register with command, shortcut, event, message, action, view or "
            "options (bot/runtime/manifest.py, _Registrations)"
        )
    kinds = {noted.kind for noted in app.noted}
    return Listeners(
        commands=tuple(_literal(n) for n in app.noted if n.kind == "command"),
        shortcuts=tuple(_shortcut(n) for n in app.noted if "shortcut" in n.kind),
        events=tuple(dict.fromkeys(_event_type(n) for n in app.noted if _is_event(n))),
        interactive=bool(kinds & {"interactive", "options"}) or any("shortcut" in k for k in kinds),
        options="options" in kinds,
    )


def _is_event(noted: _Noted) -> bool:
    return noted.kind in ("event", "message")


def _literal(noted: _Noted) -> str:
    if not isinstance(noted.constraint, str) or not noted.constraint:
        raise ManifestError(
            f"a {noted.kind} listener matches {noted.constraint!r}: Slack needs it spelled out"
        )
    return noted.constraint


def _shortcut(noted: _Noted) -> tuple[str, str]:
    constraint = noted.constraint
    if noted.kind == "shortcut":  # Bolt's shortcut(): message or global, by the constraint
        kinds = {"message_action": "message", "shortcut": "global"}
        kind = kinds.get(str(constraint.get("type"))) if isinstance(constraint, dict) else None
        if kind is None:
            raise ManifestError(
                f"the shortcut listener for {constraint!r} does not say whether it is a message "
                "or a global shortcut: use message_shortcut or global_shortcut"
            )
        return kind, _literal(_Noted("shortcut", constraint.get("callback_id")))
    return noted.kind.removesuffix("_shortcut"), _literal(noted)


def _event_type(noted: _Noted) -> str:
    if noted.kind == "message":
        return "message"
    constraint = noted.constraint
    event_type = constraint.get("type") if isinstance(constraint, dict) else constraint
    return _literal(_Noted("event", event_type))


def methods_called() -> tuple[str, ...]:
    """The Web API methods the gateway calls, as it names them for its errors."""
    tree = ast.parse(inspect.getsource(gateway))
    found = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_call"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
    return tuple(sorted(found))


def bot_events(listeners: Listeners) -> dict[str, tuple[str, ...]]:
    """The Events API subscriptions the listeners need, each with its scopes."""
    subscriptions: dict[str, tuple[str, ...]] = {}
    for event_type in listeners.events:
        if event_type not in EVENT_SUBSCRIPTIONS:
            raise ManifestError(
                f"the app listens to the {event_type!r} event, which EVENT_SUBSCRIPTIONS in "
                "bot/runtime/manifest.py does not know: add the subscriptions and their scopes"
            )
        subscriptions.update(EVENT_SUBSCRIPTIONS[event_type])
    return subscriptions


def bot_scopes(listeners: Listeners, methods: tuple[str, ...]) -> dict[str, str]:
    """Every bot scope the app needs, sorted, with why it is needed."""
    unknown = [method for method in methods if method not in METHOD_SCOPES]
    if unknown:
        raise ManifestError(
            f"the gateway calls {', '.join(unknown)}, which METHOD_SCOPES in "
            "bot/runtime/manifest.py does not list: add the bot scopes each needs"
        )
    needed = {scope for method in methods for scope in METHOD_SCOPES[method]}
    needed.update(scope for scopes in bot_events(listeners).values() for scope in scopes)
    if listeners.commands or listeners.shortcuts:
        needed.add("commands")
    unexplained = sorted(needed - SCOPE_PURPOSES.keys())
    if unexplained:
        raise ManifestError(f"no purpose given for the scope(s) {', '.join(unexplained)}")
    return {scope: SCOPE_PURPOSES[scope] for scope in sorted(needed)}


def events_url(base: str) -> str:
    """Where Slack sends everything, from the bot's public address (https://HOST[:PORT][/path])."""
    parts = urlsplit(base.strip())
    example = "like https://desk.example.com"
    if parts.scheme != "https" or not parts.netloc:
        raise ManifestError(f"--url {base!r} is not an https address {example}")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ManifestError(f"--url {base!r} has a port that is not a number") from None
    host = parts.hostname or ""
    if not re.fullmatch(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]", host) or parts.username:
        raise ManifestError(f"--url {base!r} does not name a host {example}")
    if parts.query or parts.fragment:
        raise ManifestError(f"--url {base!r}: give the address without ?query or #fragment")
    path = parts.path.rstrip("/")
    if path.endswith(SLACK_PATH):
        raise ManifestError(f"--url {base!r}: give the address without {SLACK_PATH} (it is added)")
    return f"https://{parts.netloc}{path}{SLACK_PATH}"


def build_manifest(
    url: str | None, *, register: Callable[[App], None] = handlers.register_all
) -> dict[str, Any]:
    """The manifest: Slack sends to `url` (from `events_url`), or over Socket Mode when None."""
    listeners = registered_listeners(register)
    where = {"url": url} if url else {}
    features: dict[str, Any] = {
        "app_home": {
            "home_tab_enabled": "app_home_opened" in listeners.events,
            "messages_tab_enabled": True,  # the bot's DMs: surveys, private replies
            "messages_tab_read_only_enabled": True,  # it reads no DMs sent to it
        },
        "bot_user": {"display_name": NAME, "always_online": True},
    }
    if listeners.shortcuts:
        features["shortcuts"] = [_shortcut_entry(*shortcut) for shortcut in listeners.shortcuts]
    if listeners.commands:
        features["slash_commands"] = [_command_entry(c, where) for c in listeners.commands]
    scopes = bot_scopes(listeners, methods_called())
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": NAME,
            "description": DESCRIPTION,
            "background_color": "#1d4f91",
            "long_description": LONG_DESCRIPTION,
        },
        "features": features,
        "oauth_config": {"scopes": {"bot": list(scopes)}},
        "settings": _settings(listeners, url),
    }


def _shortcut_entry(kind: str, callback_id: str) -> dict[str, Any]:
    if callback_id not in SHORTCUT_NAMES:
        raise ManifestError(
            f"the shortcut {callback_id!r} has no name: add it to SHORTCUT_NAMES in "
            "bot/runtime/manifest.py"
        )
    name, description = SHORTCUT_NAMES[callback_id]
    return {"name": name, "type": kind, "callback_id": callback_id, "description": description}


def _command_entry(command: str, where: dict[str, str]) -> dict[str, Any]:
    if command not in COMMAND_DESCRIPTIONS:
        raise ManifestError(
            f"the command {command} has no description: add it to COMMAND_DESCRIPTIONS in "
            "bot/runtime/manifest.py"
        )
    usage = "|".join(subcommand.name for subcommand in SUBCOMMANDS)
    return {
        "command": command,
        **where,
        "description": COMMAND_DESCRIPTIONS[command],
        "usage_hint": f"[{usage}] …",
        "should_escape": True,  # @mentions and #channels arrive as IDs
    }


def _settings(listeners: Listeners, url: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    events = list(bot_events(listeners))
    if events:
        subscriptions: dict[str, Any] = {"request_url": url} if url else {}
        settings["event_subscriptions"] = {**subscriptions, "bot_events": events}
    interactivity: dict[str, Any] = {"is_enabled": listeners.interactive}
    if url and listeners.interactive:
        interactivity["request_url"] = url
        if listeners.options:
            interactivity["message_menu_options_url"] = url
    settings["interactivity"] = interactivity
    settings["org_deploy_enabled"] = False
    settings["socket_mode_enabled"] = url is None
    settings["token_rotation_enabled"] = False
    return settings


def manifest_for(url: str | None, *, socket_mode: bool) -> str:
    """`python -m bot manifest`: the YAML for Slack sending to `url` (the bot's public address),
    or connecting over Socket Mode."""
    if url and socket_mode:
        raise ManifestError("give --url or --socket-mode, not both")
    if not url and not socket_mode:
        raise ManifestError(
            "say how Slack reaches the bot: --url https://your.host, or --socket-mode"
        )
    return manifest_yaml(build_manifest(events_url(url) if url else None))


def manifest_yaml(manifest: dict[str, Any]) -> str:
    """The manifest as YAML, each bot scope followed by why Casedesk asks for it."""
    text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    lines = []
    for line in text.splitlines():
        item = line.strip().removeprefix("- ")
        if line.lstrip().startswith("- ") and item in scopes:
            line = f"{line}  # {SCOPE_PURPOSES[item]}"
        lines.append(line)
    header = (
        f"# The Slack app manifest of {NAME}, generated by `python -m bot manifest` from what the\n"
        "# app registers and calls. Paste it at api.slack.com/apps > Create New App > From a "
        "manifest.\n"
    )
    return header + "\n".join(lines) + "\n"
