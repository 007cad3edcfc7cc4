"""The sandbox in a real headless browser (Debian's Chromium driven by Playwright): the whole
desk used as people would, from opening a case to the next morning's summary, and cases made
from conversations (a help channel's message, a :ticket: reaction, a message's ⋯ shortcut)."""

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
    expect(page.locator("[data-testid=advance-day]")).to_be_enabled()  # the day has passed
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
    expect(page.locator("[data-testid=advance-day]")).to_be_enabled()  # the day has passed
    summary = page.locator("[data-testid=message]", has_text="daily summary").last
    summary.locator("a[data-permalink]", has_text="#1").first.click()
    expect(thread).to_contain_text("Printer on fire")
    assert page.url == sandbox_page  # still the sandbox's page,
    assert len(page.context.pages) == 1  # in its only tab


def say(page: Any, text: str, *, composer: str = "composer") -> None:
    page.fill(f"[data-testid={composer}]", text)
    page.press(f"[data-testid={composer}]", "Enter")


def message_with(page: Any, text: str) -> Any:
    return page.locator("#messages [data-testid=message]", has_text=text).last


def test_conversations_become_cases_and_a_card_is_assigned(page: Any) -> None:
    act_as(page, "Riley")
    open_channel(page, "support-requests")
    say(page, "The VPN drops every few minutes")
    asked = message_with(page, "The VPN drops")
    asked.locator("[data-testid=replies]").click()  # the bot answers in the message's thread
    thread = page.locator("[data-testid=thread]")
    expect(thread).to_contain_text("Case #1 is open: Customer Support will answer here.")
    open_channel(page, "support")
    expect(message_with(page, "#1 · The VPN drops every few minutes")).to_be_visible()

    page.click("button[data-minutes='15']")
    act_as(page, "Ana")
    open_channel(page, "support-requests")
    message_with(page, "The VPN drops").locator("[data-testid=replies]").click()
    say(page, "Restarting the VPN gateway now.", composer="thread-composer")
    expect(thread).to_contain_text("Restarting the VPN gateway now.")
    open_channel(page, "support")
    expect(message_with(page, "#1 · The VPN drops")).to_contain_text("first response after 15 min")

    act_as(page, "Riley")
    open_channel(page, "general")
    say(page, "The printer on floor 3 jams again")
    act_as(page, "Ana")
    printer = message_with(page, "The printer on floor 3")
    printer.hover()
    printer.locator("[data-testid=react-ticket]").click()
    expect(printer.locator("[data-testid=reaction-ticket]")).to_have_text("🎫 1")
    expect(page.get_by_text("Opened case #2 for Customer Support")).to_be_visible()

    act_as(page, "Ben")
    printer.locator("[data-testid=reaction-ticket]").click()  # Ben's :ticket: too
    expect(printer.locator("[data-testid=reaction-ticket]")).to_have_text("🎫 2")
    expect(message_with(page, "Only visible to you")).to_contain_text(
        "This message is already case #2."
    )

    open_channel(page, "support")
    card = message_with(page, "#2 · The printer on floor 3 jams again")
    expect(card.locator(".fields")).to_contain_text("unassigned")
    card.locator("[data-testid='picker-Assign to…']").select_option(label="Ana (agent)")
    expect(card.locator(".fields")).to_contain_text("@Ana (agent)")
    expect(page.get_by_text("Case #2 is now assigned to @Ana (agent).")).to_be_visible()


def test_the_message_shortcut_opens_the_form_filled_in_from_the_message(page: Any) -> None:
    act_as(page, "Riley")
    open_channel(page, "general")
    say(page, "Invoices for November show the wrong VAT")
    act_as(page, "Ana")
    message = message_with(page, "Invoices for November")
    message.hover()
    message.locator("[data-testid=message-menu]").click()
    message.locator("[data-testid='shortcut-Open a case']").click()

    modal = page.locator("[data-testid=modal]")
    modal.wait_for(state="visible")
    expect(page.locator("[data-testid=input-title]")).to_have_value(
        "Invoices for November show the wrong VAT"
    )
    expect(page.locator("[data-testid=input-priority]")).to_have_value("p3")
    page.select_option("[data-testid=input-team]", "billing")
    page.click("[data-testid=modal-submit]")
    modal.wait_for(state="hidden")
    expect(page.get_by_text("Opened case #1 for Billing")).to_be_visible()
    open_channel(page, "billing")
    card = message_with(page, "#1 · Invoices for November show the wrong VAT")
    expect(card).to_contain_text("From a message by @Riley (requester) in #general")
