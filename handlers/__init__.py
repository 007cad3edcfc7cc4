"""Thin Bolt listeners: ack, parse the payload, call a flow, answer. One module per surface;
each listener is declared with `handlers.acking` (ack at once, work on the work pool, once)."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    block_actions,
    event_callbacks,
    shortcuts,
    slash_commands,
    view_submissions,
)


def register_all(app: App) -> None:
    for surface in (slash_commands, shortcuts, block_actions, view_submissions, event_callbacks):
        surface.register(app)
