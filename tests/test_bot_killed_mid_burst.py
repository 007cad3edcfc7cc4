"""The bot killed mid-burst (`kill -9`): every case it acknowledged still gets exactly one card
once it runs again.

Over the real HTTP path, against the Slack stand-in with faults injected."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SIGNING_SECRET, SUPPORT_CHANNEL
from fake_slack import FakeSlack
from helpers import command_form, run_job, serve_env, served_bot, served_url
from slack_outages_helpers import assert_nothing_posted_twice, recover
from sqlalchemy import select

from bot.clock import ManualClock
from bot.inbox import WORK_LEASE
from bot.runtime.assembly import build_app, build_casedesk
from bot.runtime.casedesk import Casedesk
from bot.sandbox.signed import SignedRequests
from models import Case

# The bot killed mid-burst


@contextmanager
def bot_process(tmp_path: Path, fake: FakeSlack, database_url: str) -> Iterator[str]:
    env = serve_env(
        tmp_path, slack_api_url=fake.base_url, database_url=database_url, RUN_SCHEDULER="false"
    )
    with served_bot(env):  # killed (-9) at the end
        yield served_url(env)


@pytest.mark.parametrize("burst", [12])
def test_after_a_kill_mid_burst_every_acknowledged_case_gets_exactly_one_card(
    tmp_path: Path, fake_slack: FakeSlack, casedesk: Casedesk, burst: int
) -> None:
    # Half the commands wait on Slack before their change (looking up the agents' user group):
    # the bot dies having acknowledged them and done nothing. Slack posts the first cards of
    # the others but never answers: the bot dies between the post and recording it.
    fake_slack.delay_next("usergroups.users.list", 60, times=burst // 2)
    fake_slack.lose_next_answer("chat.postMessage", hang=60, times=3)
    with bot_process(tmp_path, fake_slack, casedesk.db.url) as url:
        requests = SignedRequests(url, SIGNING_SECRET)

        def open_one(n: int) -> int:
            form = command_form(
                f"open Burst case {n}",
                response_url=fake_slack.response_url(f"burst-{n}"),
                trigger_id=f"burst-trigger-{n}-{time.time_ns()}",
            )
            return requests.post(form).status

        with ThreadPoolExecutor(max_workers=burst) as pool:
            statuses = list(pool.map(open_one, range(1, burst + 1)))
        fake_slack.wait_for(lambda fake: len(fake.messages(SUPPORT_CHANNEL)) >= 3, timeout=30)
    # The process is gone (SIGKILL); what it had acknowledged must all come out, once.
    fake_slack.release_delays()
    assert statuses == [200] * burst  # every command was acknowledged before the kill
    with casedesk.db.read_only() as session:
        unfinished = burst - len(session.scalars(select(Case.id)).all())
    assert unfinished > 0

    # The next process carries out what the dead one acknowledged but did not finish, and
    # delivers what it had queued.
    later = ManualClock(datetime.now(UTC) + WORK_LEASE + timedelta(minutes=1))
    restarted = build_casedesk(casedesk.settings, desk=casedesk.desk, db=casedesk.db, clock=later)
    try:
        build_app(restarted)
        replayed = run_job(restarted, "replay-requests")
        assert restarted.executor.wait_idle(timeout=60)
        recover(restarted, later)
    finally:
        restarted.executor.shutdown(wait=True)

    assert replayed.startswith(f"{unfinished} request(s) carried out again")
    with casedesk.db.read_only() as session:
        cases = session.scalars(select(Case)).all()
    assert sorted(case.title for case in cases) == sorted(  # each once
        f"Burst case {n}" for n in range(1, burst + 1)
    )
    cards = fake_slack.messages(SUPPORT_CHANNEL)
    assert sorted(card["ts"] for card in cards) == sorted(str(case.card_ts) for case in cases)
    assert_nothing_posted_twice(fake_slack)
