"""Slack's pace: about one post a second per channel. Every post this process makes takes its
channel's next turn; one whose turn is further off than its caller can wait goes back in the
outbox, due at that turn (bot/slack/outbox.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ChannelTurns:
    def __init__(self, interval: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval  # seconds between two posts to one channel; 0: no pace
        self._monotonic = monotonic
        self._turns: dict[str, float] = {}  # each channel's next free moment to post
        self._given_back: list[float] = []  # the turns rows were given back for
        self._lock = threading.Lock()

    def take(self, channel: str, longest: float) -> float | None:
        """Take the channel's next turn to post if it comes within `longest` seconds: how
        long to wait for it; None when it is further off (no turn is taken)."""
        if self.interval <= 0:
            return 0.0
        with self._lock:
            now = self._monotonic()
            turn = max(now, self._turns.get(channel, now))
            if turn - now > longest:
                return None
            self._turns[channel] = turn + self.interval
            return turn - now

    def give_back(self, channel: str) -> float:
        """A row waits for the channel's next free turn: in how many seconds it comes."""
        with self._lock:
            turn = self._turns.get(channel, 0.0)
            self._given_back.append(turn)
            return max(0.0, turn - self._monotonic())

    def next_given_back(self) -> float | None:
        """The soonest turn a row was given back for and that has not come yet."""
        with self._lock:
            now = self._monotonic()
            self._given_back = [turn for turn in self._given_back if turn > now]
            return min(self._given_back, default=None)


class HeldForTurns:
    """Rows this process gave back for a turn it holds for them (they are due at once all the
    same, for another process should this one die). Only that turn's pass sends them here: the
    job in this process leaves them, rather than taking turns of its own for them. Another
    process's job may still send one first; the row's claim makes that safe."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    def hold(self, message_ids: list[int]) -> None:
        with self._lock:
            self._ids.update(message_ids)

    def release(self, message_ids: list[int]) -> None:
        with self._lock:
            self._ids.difference_update(message_ids)

    def may_send(self, message_id: int, *, at_turn: bool) -> bool:
        """Whether a pass may send this row now: one not held, or any row a turn's pass
        reaches (which lets go of it)."""
        with self._lock:
            if message_id not in self._ids:
                return True
            if at_turn:
                self._ids.discard(message_id)
            return at_turn

    def held(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._ids)
