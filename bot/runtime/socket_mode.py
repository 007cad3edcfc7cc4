"""Serving Slack over Socket Mode: Bolt's handler on slack_sdk's built-in client, connected for
sure or refused with the reason in a few words.

The client asks for its websocket URL with the app's own Web API client (apps.connections.open
at SLACK_API_URL, with the app-level token). A websocket it cannot open it only logs, then keeps
retrying in the background, so `connect` checks that the connection is open and says why not.

Once connected it reconnects by itself (tests/test_socket_mode.py): at once when Slack sends
its `disconnect` notice; at the next check, every PING_INTERVAL, when Slack closes the
connection; and after five failed pings (about 30 s) when the TCP connection just ends, a time
slack_sdk 3.48's receiver spends spinning on the closed socket.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

# Seconds between the client's checks of its connection: slack_sdk's own default (Bolt's
# handler uses 10), so a dead connection is found and replaced twice as soon.
PING_INTERVAL = 5.0


class SocketModeError(Exception):
    """The bot could not connect; the message says why."""


def connect(app: App, app_token: str) -> SocketModeHandler:
    """A handler whose connection to Slack is open, receiving; else SocketModeError."""
    handler = SocketModeHandler(app, app_token, ping_interval=PING_INTERVAL)
    failures: list[Exception] = []

    def note_failure(error: Exception) -> None:
        failures.append(error)

    handler.client.on_error_listeners.append(note_failure)
    try:
        handler.connect()  # type: ignore[no-untyped-call]
        if handler.client.is_connected():
            return handler
        reason = _one_line(failures[-1]) if failures else "Slack refused the websocket"
    except SlackApiError as error:  # apps.connections.open refused: the token, most likely
        reason = f"Slack answered {error.response.get('error')}"
    except Exception as error:  # whatever the network said
        reason = _one_line(error)
    finally:
        handler.client.on_error_listeners.remove(note_failure)
    handler.close()  # type: ignore[no-untyped-call]
    raise SocketModeError(reason)


def _one_line(error: Exception) -> str:
    """An exception as one short line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__
