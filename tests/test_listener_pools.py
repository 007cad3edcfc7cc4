"""The ack pool and the work pool behind it: waiting for "idle" means both are done, even for
work handed over after the HTTP answer went out."""

from __future__ import annotations

import threading
import time

from bot.runtime.executor import ListenerPools


def test_idle_waits_for_work_an_ack_hands_over_after_answering() -> None:
    pools = ListenerPools(work_threads=2, ack_threads=2)
    answered, done = threading.Event(), threading.Event()

    def work() -> None:
        time.sleep(0.2)
        done.set()

    def ack_then_hand_over() -> None:
        answered.set()  # Bolt sends the HTTP answer now, before the work is handed over
        time.sleep(0.1)
        pools.work.submit(work)

    pools.ack.submit(ack_then_hand_over)
    answered.wait(timeout=5)

    assert pools.wait_idle(timeout=5)
    assert done.is_set()
    pools.shutdown()


def test_idle_is_false_while_work_is_still_running() -> None:
    pools = ListenerPools(work_threads=1, ack_threads=1)
    release = threading.Event()
    pools.work.submit(release.wait, 5)

    assert not pools.wait_idle(timeout=0.1)
    release.set()
    assert pools.wait_idle(timeout=5)
    pools.shutdown()
