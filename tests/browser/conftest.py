"""Fixtures for browser tests: Debian's Chromium, driven by Playwright, against real TaskDash processes.

nsqd comes from tests/conftest.py. `taskdash serve` and the Go reference services come from the
end-to-end fixtures, imported below: pytest registers every fixture that a conftest module contains,
imported ones too, for the tests under this folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from devtools.procs import ROOT, TaskDashServer
from tests.browser.ui import UI_TIMEOUT_MS
from tests.e2e.conftest import admin, offline_after, start_refservice, start_taskdash  # noqa: F401

# Debian's package. Playwright's own browser download (`playwright install`) is never used.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DASHBOARD_INDEX = ROOT / "src" / "taskdash" / "web" / "dist" / "index.html"
FAILURE_SCREENSHOTS = ROOT / "test-output" / "browser-failures"

DESKTOP: ViewportSize = {"width": 1366, "height": 768}
TABLET: ViewportSize = {"width": 820, "height": 1180}

NewPage = Callable[..., Page]

expect.set_options(timeout=UI_TIMEOUT_MS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the test item, so that fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread while it is
# open, and tests of other folders that call asyncio.run() would fail after the browser tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not DASHBOARD_INDEX.exists():
        pytest.fail(f"{DASHBOARD_INDEX} not found: run `make web` to build the dashboard first", pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run `make debian-packages` to install Chromium", pytrace=False)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[NewPage]:
    """Return a function that opens a page on a server, in a browser context of its own (cookies, storage).

    When the test fails, each page is saved as a screenshot under test-output/browser-failures, and the
    console errors and uncaught exceptions of the pages are printed.
    """
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def open_(server: TaskDashServer, viewport: ViewportSize = DESKTOP) -> Page:
        context = browser.new_context(base_url=server.base_url, viewport=viewport, locale="zh-CN")
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: problems.append(f"console.{message.type}: {message.text}")
                if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(f"uncaught exception: {error}"))
        return page

    yield open_

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_failure_screenshots(request.node.nodeid, contexts)
        print("--- browser console ---\n" + "\n".join(problems))
    for context in contexts:
        context.close()


def save_failure_screenshots(nodeid: str, contexts: list[BrowserContext]) -> None:
    FAILURE_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])
    for context_index, context in enumerate(contexts):
        for page_index, page in enumerate(context.pages):
            path = FAILURE_SCREENSHOTS / f"{stem}-{context_index}-{page_index}.png"
            page.screenshot(path=path, full_page=True)
            print(f"screenshot of {page.url}: {path}")
