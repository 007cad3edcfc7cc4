"""The thread pools Slack requests are carried out on, with a way to wait until they are idle.

Bolt runs each listener on the HTTP server's thread that answers Slack (or Socket Mode's); the
listener acks and hands everything after the ack to the work pool (handlers/acking.py), so
work that hangs on a slow Slack fills only the work pool, never the threads that ack the next
requests. "The request returned" does not mean "the work is done": graceful shutdown and the
tests use `wait_idle()` to know when everything already received has finished.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Bolt's lazy listeners run on a pool of their own (Bolt's `listener_executor`); we declare
# none, but Bolt needs the pool.
LAZY_THREADS = 2
DELIVER_THREADS = 16


class PendingTasks:
    """How many tasks are queued or running, over every pool that shares this count."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def started(self) -> None:
        with self._idle:
            self._count += 1

    def finished(self, _future: Any = None) -> None:
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout)


class TrackingExecutor(ThreadPoolExecutor):
    def __init__(
        self,
        max_workers: int,
        *,
        name: str = "casedesk-listener",
        pending: PendingTasks | None = None,
    ) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self._pending = pending or PendingTasks()
        self._later = _Later(self, self._pending, name=f"{name}-later")

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        self._pending.started()
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._pending.finished()
            raise
        future.add_done_callback(self._pending.finished)
        return future

    def submit_after(self, seconds: float, fn: Callable[[], object]) -> None:
        """Run `fn` on this pool once `seconds` have passed, without a thread of the pool
        waiting for it; pending (for `wait_idle`) from now. Dropped at shutdown."""
        self._later.add(time.monotonic() + seconds, fn)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no task is running or queued; False if `timeout` passed first."""
        return self._pending.wait_idle(timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._later.close()
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


class _Later:
    """Tasks due at a moment (time.monotonic), handed to their pool when it comes; one
    thread, started with the first task, waits for them all."""

    def __init__(self, pool: ThreadPoolExecutor, pending: PendingTasks, *, name: str) -> None:
        self._pool, self._pending, self._name = pool, pending, name
        self._due: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, moment: float, fn: Callable[[], object]) -> None:
        with self._changed:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._pending.started()
            heapq.heappush(self._due, (moment, next(self._order), fn))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._changed.notify()

    def close(self) -> None:
        """Drop what is not due yet (an outbox row waits in the database for the job)."""
        with self._changed:
            self._closed = True
            dropped, self._due = len(self._due), []
            self._changed.notify()
        for _ in range(dropped):
            self._pending.finished()

    def _run(self) -> None:
        while (fn := self._next()) is not None:
            try:
                self._pool.submit(fn)
            except RuntimeError:  # the pool shut down meanwhile
                pass
            finally:
                self._pending.finished()

    def _next(self) -> Callable[[], object] | None:
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                if self._due and self._due[0][0] <= now:
                    return heapq.heappop(self._due)[2]
                self._changed.wait(self._due[0][0] - now if self._due else None)
            return None


class ListenerPools:
    """The work pool, the pool of deliveries a request waits for briefly, and Bolt's pool for
    lazy listeners.

    They share one count of pending tasks, and a listener hands its work over before Bolt
    answers Slack, so the count never touches zero between an ack and its work: `wait_idle()`
    returns only once everything received is done (deliveries held for a channel's turn too)."""

    def __init__(
        self,
        *,
        work_threads: int,
        lazy_threads: int = LAZY_THREADS,
        deliver_threads: int = DELIVER_THREADS,
    ) -> None:
        pending = PendingTasks()
        self.lazy = TrackingExecutor(lazy_threads, name="casedesk-lazy", pending=pending)
        self.work = TrackingExecutor(work_threads, name="casedesk-work", pending=pending)
        # Deliveries a request waits for only briefly (bot/slack/outbox.py deliver_within).
        self.deliver = TrackingExecutor(deliver_threads, name="casedesk-deliver", pending=pending)
        self._pending = pending

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is acked-but-not-done or queued; False on `timeout`."""
        return self._pending.wait_idle(timeout)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking requests; with `wait`, finish the lazy listeners (they may hand work
        over), then the work, then the deliveries."""
        self.lazy.shutdown(wait=wait)
        self.work.shutdown(wait=wait)
        self.deliver.shutdown(wait=wait)
