"""What Slack sends, checked and cleaned once before any listener sees it.

`payload_problem` says why a body does not have the shape Slack gives each kind of request
(the fields Bolt itself and our listeners read, with their types and sizes); the HTTP edge
(bot/runtime/server.py) refuses such a body with 400 before Bolt parses it. `clean_user_text`
is a Bolt global middleware that removes control characters from every string of the body, in
place: a NUL cannot be stored by PostgreSQL, and no other control character (except newline
and tab) means anything in a title, a note or a reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.slack.signature import VERIFIED

log = logging.getLogger(__name__)

# C0 controls but tab and newline, DEL, C1 controls, and lone surrogates (not text at all).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Slack user, channel and team ids and message timestamps; they go into 32-character columns.
_SLACK_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
MAX_EVENT_ID = 64  # processed_slack_events.event_id
# Slack's own limits: a button's value, an option's value, a plain-text input.
MAX_BUTTON_VALUE, MAX_OPTION_VALUE, MAX_INPUT = 2000, 150, 3000
MAX_DEPTH = 64  # Slack's payloads nest about ten deep
# Objects whose user, team, channel and enterprise fields Bolt reads to build its context.
_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")

Problem = str | None


def register(app: App) -> None:
    app.middleware(clean_user_text)


def clean_user_text(req: BoltRequest, next: Callable[[], BoltResponse | None]) -> Any:
    # Over HTTP the edge checked the shape before Bolt parsed the body; Socket Mode has no edge.
    if not req.context.get(VERIFIED):
        problem = payload_problem(req.body)
        if problem:
            log.warning("refused a malformed Slack payload: %s", problem)
            return BoltResponse(status=400, body=f"Malformed Slack request: {problem}.\n")
    clean_strings(req.body)
    return next()


def clean_strings(value: Any) -> Any:
    """`value` with control characters removed from every string, keys included; dicts and
    lists are changed in place, so whatever already holds them sees the clean text."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, dict):
        cleaned = {clean_strings(key): clean_strings(item) for key, item in value.items()}
        value.clear()
        value.update(cleaned)
    elif isinstance(value, list):
        value[:] = [clean_strings(item) for item in value]
    return value


def payload_problem(body: Any) -> Problem:
    """Why Slack would never send this body (a short phrase), or None."""
    if not isinstance(body, dict):
        return "the body is not an object"
    if _too_deep(body):
        return f"the body nests deeper than {MAX_DEPTH} levels"
    problem = _bolt_fields_problem(body)
    if problem:
        return problem
    if "command" in body:
        return _command_problem(body)
    if "ssl_check" in body:
        return None
    kind = body.get("type")
    check = _KINDS.get(kind) if isinstance(kind, str) else None
    if check is None:
        return f"Slack sends this app no request of type {str(kind)[:40]!r}"
    return check(body)


# What Bolt reads of every body, before any listener


def _bolt_fields_problem(body: dict[str, Any]) -> Problem:
    # In this order: each check reads only what the ones before it found well shaped.
    return _containers_problem(body) or _event_objects_problem(body) or _ids_problem(body)


def _containers_problem(body: dict[str, Any]) -> Problem:
    """The objects, and lists of objects, at the top of the body."""
    for key in (*_NESTED, "view", "container", "state"):
        if key in body and not isinstance(body[key], dict):
            return f"{key} is not an object"
    for key in ("actions", "authorizations", "response_urls"):
        if key in body and not _list_of_objects(body[key]):
            return f"{key} is not a list of objects"
    if "response_urls" in body and not all(
        isinstance(item.get("response_url"), str) for item in body["response_urls"]
    ):
        return "a response URL is not text"
    return None


def _event_objects_problem(body: dict[str, Any]) -> Problem:
    event = body.get("event")
    if isinstance(event, dict):
        for key in _NESTED[1:]:
            if event.get(key) is not None and not isinstance(event[key], dict):
                return f"event.{key} is not an object"
    return None


def _ids_problem(body: dict[str, Any]) -> Problem:
    """The user, team, channel and enterprise Bolt reads to build its context."""
    for item in _context_objects(body):
        for key in ("user", "team", "channel", "enterprise"):
            if item.get(key) is not None and not isinstance(item[key], str | dict):
                return f"{key} is neither an id nor an object"
    return None


def _context_objects(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body, the objects nested in it and in its event, and its authorizations."""
    nested = [body, *(body[key] for key in _NESTED if key in body)]
    event = body.get("event")
    if isinstance(event, dict):
        nested += [event[key] for key in _NESTED[1:] if event.get(key) is not None]
    nested += body.get("authorizations") or []
    return nested


def _list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _too_deep(body: dict[str, Any]) -> bool:
    level: list[Any] = [body]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


# Each kind of request, with the fields our listeners rely on


def _command_problem(body: dict[str, Any]) -> Problem:
    """A slash command is a form: every field is text."""
    if not all(isinstance(value, str) for value in body.values()):
        return "a slash command field is not text"
    return _first(
        _id_problem(body, "user_id", required=True), _id_problem(body, "channel_id", required=False)
    )


def _block_actions_problem(body: dict[str, Any]) -> Problem:
    if not body.get("actions"):
        return "a click carries no action"
    for action in body["actions"]:
        if not isinstance(action.get("action_id"), str):
            return "an action has no action_id"
        value = action.get("value", "")
        if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
            return f"an action value is not text of at most {MAX_BUTTON_VALUE} characters"
    channel = body.get("channel")
    if channel is not None and not isinstance(channel, dict):
        return "channel is not an object"
    return _first(
        _user_problem(body),
        _id_problem(channel or {}, "id", required=False),
        _text_problem(body, "response_url", "trigger_id"),
    )


def _view_problem(body: dict[str, Any]) -> Problem:
    view = body.get("view")
    if not isinstance(view, dict):
        return "a view submission carries no view"
    if not isinstance(view.get("callback_id"), str):
        return "the view has no callback_id"
    if view.get("type") != "modal":  # Bolt reads it of every submission
        return "the view is not a modal"
    state = view.get("state", {})
    if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
        return "the view state is not an object of values"
    return _first(
        _inputs_problem(state.get("values", {})),
        _user_problem(body),
        _text_problem(view, "private_metadata"),
        _text_problem(body, "trigger_id"),
    )


def _inputs_problem(values: dict[str, Any]) -> Problem:
    """What was typed and chosen, within Slack's limits (so a number read from it is small)."""
    for elements in values.values():
        for element in elements.values() if isinstance(elements, dict) else []:
            if not isinstance(element, dict):
                continue
            typed, option = element.get("value"), element.get("selected_option")
            if typed is not None and not (isinstance(typed, str) and len(typed) <= MAX_INPUT):
                return f"an input value is not text of at most {MAX_INPUT} characters"
            if option is None:
                continue
            chosen = option.get("value") if isinstance(option, dict) else None
            if not (isinstance(chosen, str) and len(chosen) <= MAX_OPTION_VALUE):
                return f"a chosen option has no value of at most {MAX_OPTION_VALUE} characters"
    return None


def _event_callback_problem(body: dict[str, Any]) -> Problem:
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_EVENT_ID:
        return f"the event_id is not an id of at most {MAX_EVENT_ID} characters"
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "the event has no type"
    if event["type"] in ("reaction_added", "reaction_removed"):
        return _reaction_problem(event)
    if event["type"] not in ("message", "app_home_opened"):
        return None  # not ours to read: Bolt answers that nothing listens for it
    return _first(
        _id_problem(event, "user", required=False),
        _id_problem(event, "channel", required=False),
        _id_problem(event, "ts", required=False),
        _id_problem(event, "thread_ts", required=False),
        _text_problem(event, "subtype", "bot_id", "tab"),
    )


def _reaction_problem(event: dict[str, Any]) -> Problem:
    item = event.get("item")
    if not isinstance(item, dict):
        return "the reaction is on no item"
    return _first(
        _id_problem(event, "user", required=True),
        _text_problem(event, "reaction", "event_ts"),
        _text_problem(item, "type"),
        _id_problem(item, "channel", required=False),
        _id_problem(item, "ts", required=False),
    )


def _message_action_problem(body: dict[str, Any]) -> Problem:
    """A message shortcut: who, on which message in which channel."""
    channel, message = body.get("channel"), body.get("message")
    if not isinstance(channel, dict) or not isinstance(message, dict):
        return "a message shortcut carries no channel or message"
    return _first(
        _text_problem(body, "callback_id", "trigger_id", "response_url"),
        _user_problem(body),
        _id_problem(channel, "id", required=True),
        _id_problem(message, "ts", required=True),
        _id_problem(message, "user", required=False),
        _id_problem(message, "thread_ts", required=False),
        _text_problem(message, "text", "subtype", "bot_id"),
    )


def _url_verification_problem(body: dict[str, Any]) -> Problem:
    return None if isinstance(body.get("challenge"), str) else "the challenge is not text"


_KINDS: dict[str, Callable[[dict[str, Any]], Problem]] = {
    "block_actions": _block_actions_problem,
    "view_submission": _view_problem,
    "view_closed": _view_problem,
    "message_action": _message_action_problem,
    "event_callback": _event_callback_problem,
    "url_verification": _url_verification_problem,
    "app_rate_limited": lambda _body: None,
}


# Field checks


def _user_problem(body: dict[str, Any]) -> Problem:
    user = body.get("user")
    if not isinstance(user, dict):
        return "no user"
    return _id_problem(user, "id", required=True)


def _id_problem(container: dict[str, Any], key: str, *, required: bool) -> Problem:
    value = container.get(key)
    if value is None:
        return f"no {key}" if required else None
    if not isinstance(value, str):
        return f"{key} is not a Slack id"
    if (value == "" and not required) or _SLACK_ID.fullmatch(value):
        return None
    return f"{key} is not a Slack id"


def _text_problem(container: dict[str, Any], *keys: str) -> Problem:
    for key in keys:
        if container.get(key) is not None and not isinstance(container[key], str):
            return f"{key} is not text"
    return None


def _first(*problems: Problem) -> Problem:
    return next((problem for problem in problems if problem), None)
