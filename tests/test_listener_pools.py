"""The pools requests are carried out on: waiting for "idle" means everything handed over is
done, even when the HTTP answer went out long before."""

from __future__ import annotations

import threading
import time

from bot.runtime.executor import ListenerPools


def test_idle_waits_for_work_a_listener_handed_over_and_the_deliveries_it_started() -> None:
    pools = ListenerPools(work_threads=2, lazy_threads=1)
    delivered = threading.Event()

    def deliver() -> None:
        delivered.set()

    def work() -> None:
        time.sleep(0.1)
        pools.deliver.submit_after(0.2, deliver)  # a post held for its channel's turn

    listener = threading.Thread(target=pools.work.submit, args=(work,))  # the HTTP thread
    listener.start()
    listener.join()  # Bolt answered Slack: the work goes on

    assert pools.wait_idle(timeout=5)
    assert delivered.is_set()
    pools.shutdown()


def test_idle_is_false_while_work_is_still_running() -> None:
    pools = ListenerPools(work_threads=1, lazy_threads=1)
    release = threading.Event()
    pools.work.submit(release.wait, 5)

    assert not pools.wait_idle(timeout=0.1)
    release.set()
    assert pools.wait_idle(timeout=5)
    pools.shutdown()
