"""A Slack message as intake reads it: who wrote it, where, and what a case made from it is
called. Pure functions of the message; nothing here calls Slack."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.requester import slack_moment
from bot.text import fit, plain_text

# A case's title and description (the open form's own limits for the title).
TITLE_MAX = 150
DESCRIPTION_MAX = 40_000

# Message subtypes a person writes; edits, joins, bot posts and the like are not requests.
HUMAN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})

_SLACK_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
_SHORTCODE = re.compile(r":[a-z0-9_+'-]+(?:::skin-tone-\d)?:")


@dataclass(frozen=True)
class IncomingMessage:
    """A message in a channel, as Slack gave it (an event, a shortcut, a fetched message)."""

    channel_id: str
    ts: str
    author_id: str | None  # None: a bot or app wrote it
    text: str
    thread_ts: str | None = None  # set for a reply in a thread
    file_names: tuple[str, ...] = ()
    subtype: str | None = None
    by_bot: bool = False

    @classmethod
    def from_slack(cls, channel_id: str, raw: dict[str, Any]) -> IncomingMessage:
        files: list[Any] = raw["files"] if isinstance(raw.get("files"), list) else []
        names = tuple(
            str(f.get("title") or f.get("name"))
            for f in files
            if isinstance(f, dict) and (f.get("title") or f.get("name"))
        )
        author = raw.get("user")
        thread_ts = raw.get("thread_ts")
        subtype = raw.get("subtype")
        return cls(
            channel_id=channel_id,
            ts=str(raw.get("ts") or ""),
            author_id=author if isinstance(author, str) and _SLACK_ID.fullmatch(author) else None,
            text=str(raw.get("text") or ""),
            thread_ts=str(thread_ts) if thread_ts and thread_ts != raw.get("ts") else None,
            file_names=names,
            subtype=subtype if isinstance(subtype, str) else None,
            by_bot=bool(raw.get("bot_id")) or subtype == "bot_message",
        )

    @property
    def by_a_person(self) -> bool:
        return self.author_id is not None and not self.by_bot and self.subtype in HUMAN_SUBTYPES

    @property
    def conversation_ts(self) -> str:
        """The thread the requester is answered in: the message's own, or the one it is in."""
        return self.thread_ts or self.ts

    @property
    def written_at(self) -> datetime | None:
        return slack_moment(self.ts)

    def plain_text(self) -> str:
        return plain_text(self.text)


@dataclass(frozen=True)
class CaseDraft:
    """What a case opened from a message is called and says."""

    title: str
    description: str
    cut_from: int | None  # the message's length, when the description had to be cut


def draft_case(message: IncomingMessage) -> CaseDraft:
    """Title: the first line (cut to fit; the whole message is the description), else the
    first file's name. Description: the whole message, cut past 40,000 characters."""
    text = message.plain_text().strip()
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    title = first_line or (message.file_names[0] if message.file_names else "")
    description = text
    cut_from = None
    if len(description) > DESCRIPTION_MAX:
        cut_from = len(description)
        description = fit(description, DESCRIPTION_MAX)
    return CaseDraft(fit(title, TITLE_MAX), description, cut_from)


def is_pleasantry(text: str, pleasantries: list[str]) -> bool:
    """A message that is only thanks, an ok or emoji: it opens no case. Compared without
    case, punctuation or emoji, so "Thanks!" and "thank you 🙏" are "thanks" and "thank
    you"."""
    said = _bare(plain_text(text))
    return not said or said in {_bare(p) for p in pleasantries}


def _bare(text: str) -> str:
    """Lower case words only: no emoji (as :shortcodes: or characters), no punctuation."""
    text = _SHORTCODE.sub(" ", text.lower())
    kept = "".join(char if char == "+" or _is_letter(char) else " " for char in text)
    return " ".join(kept.split())


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"  # letters and digits, in any script
