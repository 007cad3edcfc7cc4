"""The sandbox in a real headless browser (Debian's Chromium driven by Playwright): the whole
desk used as people would, from opening a case to the next morning's summary."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import running_sandbox

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Moving the clock runs the jobs at each 15 minutes (a summary takes a second or two to render).
playwright_api.expect.set_options(timeout=15_000)


@pytest.fixture
def page(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    with running_sandbox(tmp_path) as sandbox, playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(
            viewport={"width": 1400, "height": 900}, locale="en-GB", timezone_id="UTC"
        )
        page.set_default_timeout(15_000)
        page.goto(sandbox.slack.url)
        page.wait_for_selector("[data-testid=persona] option", state="attached")
        try:
            yield page
        finally:
            if getattr(request.node, "failed_call", False):  # set by conftest's report hook
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            browser.close()


def expect(locator: Any) -> Any:
    return playwright_api.expect(locator)


def act_as(page: Any, name_start: str) -> None:
    option = page.locator("[data-testid=persona] option", has_text=name_start).first
    page.select_option("[data-testid=persona]", option.get_attribute("value"))


def open_channel(page: Any, name: str) -> None:
    page.click(f"[data-testid='channel-{name}']")


def test_a_case_from_opening_to_the_next_mornings_summary(page: Any) -> None:
    act_as(page, "Riley")
    open_channel(page, "support-requests")
    page.fill("[data-testid=composer]", "/case open p2 Printer on fire")
    page.press("[data-testid=composer]", "Enter")
    page.get_by_text("Only visible to you").wait_for()

    act_as(page, "Ana")
    open_channel(page, "support")
    card = page.locator("[data-testid=message]", has_text="Printer on fire").last
    card.locator("[data-testid='button-Claim']").click()
    page.get_by_text("You claimed case #1.").wait_for()

    card.locator("[data-testid='button-Escalate']").click()
    modal = page.locator("[data-testid=modal]")
    modal.wait_for(state="visible")
    page.fill("[data-testid=input-reason]", "The customer is a key account")
    page.click("[data-testid=modal-submit]")
    modal.wait_for(state="hidden")
    page.locator("[data-testid=replies]").last.click()
    page.locator("[data-testid=thread]").get_by_text("escalated this case to level 1").wait_for()

    page.click("button[data-minutes='60']")
    open_channel(page, "support-alerts")
    alert = page.locator("[data-testid=message]", has_text="SLA breached").first
    alert.wait_for()
    for button in ("Escalate", "Open case"):
        assert alert.get_by_text(button, exact=True).is_visible()

    open_channel(page, "support")
    page.fill("[data-testid=composer]", "/case close 1 Replaced the fuser")
    page.press("[data-testid=composer]", "Enter")
    page.get_by_text("You closed case #1.").wait_for()

    page.click("[data-testid=advance-day]")
    summary = page.locator("[data-testid=message]", has_text="daily summary").last
    summary.wait_for()
    assert "New" in summary.inner_text()
    summary.locator("[data-testid=replies]").click()
    chart = page.locator("[data-testid=thread] [data-testid=file]").first
    chart.wait_for()
    assert chart.evaluate("image => image.complete && image.naturalWidth > 0")


def test_the_clock_shows_the_bots_time_as_it_moves(page: Any) -> None:
    clock = page.locator("[data-testid=clock]")
    expect(clock).to_have_text("Mon 23 Nov, 08:00")

    page.click("button[data-minutes='15']")
    expect(clock).to_have_text("Mon 23 Nov, 08:15")
    page.click("button[data-minutes='60']")
    expect(clock).to_have_text("Mon 23 Nov, 09:15")


def test_links_to_a_case_open_it_on_the_page(page: Any) -> None:
    sandbox_page = page.url
    act_as(page, "Riley")
    open_channel(page, "support-requests")
    page.fill("[data-testid=composer]", "/case open Printer on fire")
    page.press("[data-testid=composer]", "Enter")
    page.get_by_text("Only visible to you").wait_for()
    page.click("button[data-minutes='60']")  # the first response (30 min) is breached

    act_as(page, "Ana")
    open_channel(page, "support-alerts")
    alert = page.locator("[data-testid=message]", has_text="SLA breached").first
    alert.locator("[data-testid='button-Open case']").click()
    expect(page.locator("#channel-title")).to_have_text("# support")
    thread = page.locator("[data-testid=thread]")
    expect(thread).to_contain_text("Printer on fire")
    expect(thread).to_contain_text("SLA breached")

    page.click("#close-thread")
    page.click("[data-testid=advance-day]")
    summary = page.locator("[data-testid=message]", has_text="daily summary").last
    summary.locator("a[data-permalink]", has_text="#1").first.click()
    expect(thread).to_contain_text("Printer on fire")
    assert page.url == sandbox_page  # still the sandbox's page,
    assert len(page.context.pages) == 1  # in its only tab
