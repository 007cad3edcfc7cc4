"""User text in and out of Slack: undo Slack's entity escaping on the way in, escape for
mrkdwn and cut to Block Kit limits on the way out."""

from __future__ import annotations

import re

ELLIPSIS = "…"

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_BARE_USER_ID = re.compile(r"^@?([UW][A-Z0-9]{2,})$")
# Slack's markup in a message: a user, a channel, a special mention, a link.
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+\|)?([a-z@^A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^|>]+)(?:\|([^>]*))?>")


def from_slack(text: str) -> str:
    """Slack sends `&`, `<` and `>` as entities; store what the user actually typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain_text(text: str) -> str:
    """Slack's message markup as a person reads it: `<@U1|ana>` is @ana, `<#C1|help>` is
    #help, a link is its label (or address), `&amp;` is &."""
    text = _USER.sub(lambda m: f"@{m.group(2) or m.group(1)}", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(2) or m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return from_slack(text)


def escape(text: str) -> str:
    """Escape for mrkdwn so user text can never become a mention, a channel ping or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """Cut `text` to at most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text, False
    return text[: limit - 1].rstrip() + ELLIPSIS, True


def fit(text: str, limit: int) -> str:
    return truncate(text, limit)[0]


def escaped_fit(text: str, limit: int) -> str:
    """Escape, then cut without splitting an entity such as `&amp;` in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    entity_start = cut.rfind("&")
    if entity_start != -1 and ";" not in cut[entity_start:]:
        cut = cut[:entity_start]
    return cut.rstrip() + ELLIPSIS


def parse_user_reference(token: str) -> str | None:
    """A user picked from Slack's autocomplete (`<@U123|ana>`) or typed as an ID."""
    token = token.strip()
    match = _MENTION.match(token) or _BARE_USER_ID.match(token)
    return match.group(1) if match else None


def mention(member_id: str) -> str:
    """Mention a user (`U…`/`W…`) or a usergroup (`S…`)."""
    return f"<!subteam^{member_id}>" if member_id.startswith("S") else f"<@{member_id}>"
