"""End to end in a real headless Chromium: the API, `streamlit run`, a question, a quote card, the source."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import REPO, VENV_BIN, free_port, wait_for_port

ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def ui_url(api_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`lva ui` (streamlit) on a free port, talking to the live API."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("streamlit") / "streamlit.log", "wb")  # noqa: SIM115
    env = {**os.environ, "LVA_API_URL": api_server}
    env.pop("LVA_API_KEY", None)
    # Started the way a user starts it: `lva ui`.
    proc = subprocess.Popen(
        [str(VENV_BIN / "lva"), "ui", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        wait_for_port(port, 60, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_question_to_highlighted_source_in_chromium(ui_url: str, browser_page: Page) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.goto(ui_url)
    expect(page.get_by_text("Try asking")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "1-first-screen.png"), full_page=True)

    box = page.get_by_placeholder("Ask about the report…")
    box.fill("How do we handle the Better Care Fund tension?")
    box.press("Enter")
    card = page.locator(".lva-quote-text").first
    expect(card).to_be_visible(timeout=60_000)
    quote = card.inner_text()
    assert "Better Care Fund" in quote
    page.screenshot(path=str(ARTIFACTS / "2-answer-with-quote-cards.png"), full_page=True)

    page.get_by_role("button", name="Open in report").first.click()
    mark = page.locator("mark.lva-highlight").first
    expect(mark).to_be_visible(timeout=30_000)
    assert mark.inner_text() == quote
    page.screenshot(path=str(ARTIFACTS / "3-source-highlighted.png"), full_page=True)


def test_phone_width_reads_without_sideways_scrolling(ui_url: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto(ui_url)
    expect(phone.get_by_text("Try asking")).to_be_visible(timeout=60_000)
    phone.wait_for_timeout(500)  # let the sidebar finish collapsing
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400
    phone.screenshot(path=str(ARTIFACTS / "4-phone-width.png"), full_page=True)
    context.close()
