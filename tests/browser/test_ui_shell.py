"""Browser tests of what every page shares: the login form and the console of a page load."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, expect

from devtools.procs import Nsqd
from tests.browser.ui import EN, ZH, log_in, switch_language

pytestmark = pytest.mark.e2e

VALIDATION_SETTLE_MS = 500


def test_language_switch_leaves_login_form_clean(nsqd: Nsqd, start_taskdash, new_page) -> None:
    server = start_taskdash(nsqd)
    page = new_page(server)
    page.goto("/login")
    expect(page.get_by_role("heading", name=ZH.login_title)).to_be_visible()

    switch_language(page, ZH, EN)

    expect(page.get_by_role("heading", name=EN.login_title)).to_be_visible()
    # The form's rules follow the language, and an Element Plus form validates again when its rules change
    # unless validate-on-rule-change is off. That validation runs after the re-render, so wait before counting.
    page.wait_for_timeout(VALIDATION_SETTLE_MS)
    assert page.get_by_text("Enter your username", exact=True).count() == 0
    assert page.get_by_text("Enter your password", exact=True).count() == 0


def test_page_load_logs_no_errors(nsqd: Nsqd, start_taskdash, admin, new_page) -> None:
    server = start_taskdash(nsqd)
    page = new_page(server)
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        # Before login the app requests the session, and the browser logs the expected 401 as an error.
        expected = message.location.get("url", "").endswith("/api/v1/session") and "401" in message.text
        if message.type == "error" and not expected:
            errors.append(message.text)

    page.on("console", record)
    page.goto("/login")
    log_in(page, *admin)
    expect(page.get_by_role("heading", level=1, name=ZH.headings["hall"])).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", level=1, name=ZH.headings["hall"])).to_be_visible()

    assert errors == []
