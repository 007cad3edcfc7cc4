"""The sandbox: what its page sends reaches the real bot as Slack requests, and the bot's
answers show up in the workspace the page reads."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from datetime import timedelta
from pathlib import Path

from conftest import AGENT, MANAGER, SUPPORT_CHANNEL
from helpers import free_port, wait_until
from sandbox_fixtures import page_call, page_state, running_sandbox

from bot.sandbox.workspace import REQUESTER_ID
from models import Case

FORTNIGHT = 60 * 24 * 14  # minutes: the longest move the page offers

REPO = Path(__file__).resolve().parent.parent


def card_buttons(message: dict[str, object]) -> list[str]:
    blocks = message.get("blocks") or []
    assert isinstance(blocks, list)
    return [
        (e.get("text") or e["placeholder"])["text"]  # a picker shows its placeholder
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_requester_opens_a_case_from_the_composer_and_the_card_appears(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sandbox:
        answer = page_call(
            sandbox, "type", user=REQUESTER_ID, channel="C0HELP", text="/case open Printer on fire"
        )
        state = page_state(sandbox, REQUESTER_ID)

    assert answer == {"ok": True, "status": 200}
    card = state["messages"][SUPPORT_CHANNEL][-1]
    assert card["text"].startswith("Case #1 (P3, open): Printer on fire")
    assert card_buttons(card) == ["Claim", "Assign to…", "Escalate", "Close"]
    only_for_riley = [e["text"] for e in state["ephemerals"]]
    assert only_for_riley == ["Opened case #1 for Customer Support in <#C0SUPPORT>."]


def test_agent_claims_on_the_card_and_escalates_through_the_modal(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sandbox:
        page_call(sandbox, "type", user=REQUESTER_ID, channel="C0HELP", text="/case open VPN down")
        card = page_state(sandbox, AGENT)["messages"][SUPPORT_CHANNEL][-1]
        click = {"channel": SUPPORT_CHANNEL, "message_ts": card["ts"], "value": "1"}
        page_call(sandbox, "click", user=AGENT, action_id="case_claim", **click)
        page_call(sandbox, "click", user=MANAGER, action_id="case_escalate", **click)
        modal = page_state(sandbox, MANAGER)["modal"]
        refused = page_call(sandbox, "submit", user=MANAGER, view_id=modal["id"], values={})
        done = page_call(
            sandbox, "submit", user=MANAGER, view_id=modal["id"], values={"reason": "Key account"}
        )
        state = page_state(sandbox, MANAGER)

    assert modal["title"]["text"] == "Escalate #1"
    assert refused == {
        "ok": False,
        "errors": {"reason": "Please say why the case needs escalating."},
    }
    assert done == {"ok": True}
    assert state["modal"] is None
    thread = state["replies"][SUPPORT_CHANNEL][card["ts"]]
    assert [reply["text"] for reply in thread] == ["Case #1: claimed", "Case #1: escalated"]


def test_moving_the_clock_runs_the_scheduler_and_the_breach_is_posted(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sandbox:
        page_call(sandbox, "type", user=REQUESTER_ID, channel="C0HELP", text="/case open Slow")
        moved = page_call(sandbox, "advance", minutes=45)
        alerts = page_state(sandbox, AGENT)["messages"]["C0ALERTS"]

    assert moved["ok"] is True
    assert moved["now"].startswith("2026-11-23T08:45")
    assert [alert["text"] for alert in alerts] == ["SLA breached: first response for case #1"]
    assert card_buttons(alerts[0]) == ["Claim", "Escalate", "Open case"]


def test_open_case_on_an_alert_links_to_the_case_card_on_the_sandbox_page(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sandbox:
        page_call(sandbox, "type", user=REQUESTER_ID, channel="C0HELP", text="/case open Slow")
        page_call(sandbox, "advance", minutes=45)
        state = page_state(sandbox, AGENT)
        page = sandbox.slack.url
        open_case = state["messages"]["C0ALERTS"][0]["blocks"][-1]["elements"][-1]
        with urllib.request.urlopen(open_case["url"], timeout=30) as response:
            opened = response.read().decode()

    card = state["messages"][SUPPORT_CHANNEL][0]
    assert open_case["text"]["text"] == "Open case"
    assert open_case["url"] == f"{page}archives/{SUPPORT_CHANNEL}/p{card['ts'].replace('.', '')}"
    assert "<title>Casedesk sandbox</title>" in opened


def test_a_thread_reply_from_the_page_is_delivered_as_an_event(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sandbox:
        page_call(sandbox, "type", user=REQUESTER_ID, channel="C0HELP", text="/case open Slow")
        card = page_state(sandbox, AGENT)["messages"][SUPPORT_CHANNEL][-1]
        page_call(
            sandbox, "type", user=AGENT, channel=SUPPORT_CHANNEL, text="On it", thread_ts=card["ts"]
        )
        with sandbox.casedesk.db.read_only() as session:
            case = session.get(Case, 1)
            assert case is not None
            first_response = case.first_response_at

    assert first_response is not None


def test_a_taken_port_is_refused_with_a_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"casedesk: cannot listen on 127.0.0.1:{port}")
    )
    assert "Traceback" not in result.stderr


def test_a_broken_config_is_refused_with_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "app.yaml"
    broken.write_text("default_team: nope\nteams: {}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--config", str(broken), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "is not a usable desk configuration" in result.stderr
    assert "teams: at least one team is needed" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_stopped_sandbox_leaves_none_of_its_threads_behind(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    with running_sandbox(tmp_path) as sandbox:
        page_call(sandbox, "type", user=REQUESTER_ID, channel="C0HELP", text="/case open Fire")
        assert len(set(threading.enumerate()) - before) >= 16  # the bot's request threads

    def left() -> list[str]:
        return sorted(t.name for t in set(threading.enumerate()) - before if t.is_alive())

    wait_until(lambda: not left(), "the sandbox's threads ending", timeout=10)


def test_stopping_the_sandbox_while_its_clock_moves_stops_the_clock_too(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sandbox:
        page_call(sandbox, "type", user=REQUESTER_ID, channel="C0HELP", text="/case open Fire")
        started = sandbox.clock.now()
        moving = threading.Thread(target=sandbox.advance, args=(FORTNIGHT,), daemon=True)
        moving.start()
        wait_until(lambda: sandbox.clock.now() > started, "the clock moving")
    moving.join(timeout=30)  # the step under way, not the fortnight (hours with Slack gone)
    stopped_at = sandbox.clock.now()

    assert not moving.is_alive()
    assert stopped_at < started + timedelta(minutes=FORTNIGHT)
    assert sandbox.advance(60) == {"ok": False, "error": "The sandbox is stopping."}
    assert sandbox.clock.now() == stopped_at


def test_ctrl_c_stops_the_sandbox_cleanly(tmp_path: Path) -> None:
    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert sandbox.stdout is not None
    try:
        first_line = sandbox.stdout.readline()
        sandbox.send_signal(signal.SIGINT)
        out, err = sandbox.communicate(timeout=30)
    finally:
        sandbox.kill()

    assert first_line.startswith(f"Casedesk sandbox: open http://127.0.0.1:{port}/")
    assert sandbox.returncode == 0
    assert out.strip() == "Stopping…"
    assert "Traceback" not in err
