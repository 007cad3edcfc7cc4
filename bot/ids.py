"""Action, callback and block ids shared by the views that emit them and the handlers that
listen for them. One place, so a renamed id cannot leave a button without a listener."""

from __future__ import annotations

import enum


class ActionId(enum.StrEnum):
    CLAIM = "case_claim"
    ESCALATE = "case_escalate"
    CLOSE = "case_close"
    REOPEN = "case_reopen"
    RESUME = "case_resume"
    ASSIGN = "case_assign"  # the card's "Assign to…" users select
    LIST_MORE = "case_list_more"
    OPEN_LINK = "case_open_link"
    CSAT_RATE = "csat_rate"
    CSAT_COMMENT = "csat_comment"


class CallbackId(enum.StrEnum):
    OPEN_CASE = "case_open_modal"
    ESCALATE_CASE = "case_escalate_modal"
    CLOSE_CASE = "case_close_modal"
    REOPEN_CASE = "case_reopen_modal"
    CSAT_COMMENT = "csat_comment_modal"
    # The message shortcut "Open a case", and the form it opens.
    OPEN_CASE_FROM_MESSAGE = "open_case_from_message"
    OPEN_CASE_FROM_MESSAGE_FORM = "case_open_from_message_modal"


class BlockId(enum.StrEnum):
    """Input blocks of the modals; their `action_id` is the same string."""

    TITLE = "title"
    DESCRIPTION = "description"
    PRIORITY = "priority"
    TEAM = "team"
    REASON = "reason"
    RESOLUTION = "resolution"
    RATING = "rating"
    COMMENT = "comment"
