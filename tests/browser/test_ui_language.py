"""Browser test of the language switch: zh-CN pages show Chinese, and after the switch no page shows any."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from devtools.procs import Nsqd
from tests.browser.seed import seed_dashboard
from tests.browser.ui import (
    CJK,
    EN,
    PAGES,
    ZH,
    Labels,
    cjk_lines,
    log_in_by_api,
    navigate,
    switch_language,
    visible_text,
    wait_for_tasks,
    wait_loaded,
)

pytestmark = pytest.mark.e2e

# English labels of the shell and of controls that most pages have. None of them may show on a zh-CN page.
ENGLISH_LABELS = [*EN.menu.values(), EN.logout, EN.search, "Reset", "Refresh", "Export CSV", "Actions", "Total"]


def visit_every_page(page: Page, labels: Labels) -> dict[str, str]:
    """Open each menu page and each admin tab, and return the visible text of each by page name."""
    texts = {}
    for name in PAGES:
        navigate(page, name, labels)
        texts[name] = visible_text(page)
    for tab, title in labels.admin_tabs.items():
        page.get_by_role("tab", name=title, exact=True).click()
        expect(page).to_have_url(re.compile(f"/admin/{tab}$"))
        wait_loaded(page, labels)
        texts[f"admin/{tab}"] = visible_text(page)
    return texts


def english_labels_in(text: str) -> list[str]:
    return [label for label in ENGLISH_LABELS if re.search(rf"\b{re.escape(label)}\b", text)]


def test_language_switch_translates_pages(nsqd: Nsqd, start_taskdash, start_refservice, admin, new_page) -> None:
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "lang-service", "lang", tasks=6)
    seed_dashboard(server, nsqd, admin, sorted(wait_for_tasks(server, *admin, count=6)))
    page = new_page(server)
    log_in_by_api(page, *admin)
    page.goto("/")
    expect(page.get_by_role("button", name=ZH.logout)).to_be_visible()

    chinese = visit_every_page(page, ZH)
    for name, text in chinese.items():
        assert CJK.search(text), f"no Chinese on the zh-CN page {name}"
        assert english_labels_in(text) == [], f"English labels on the zh-CN page {name}"

    navigate(page, "hall", ZH)
    switch_language(page, ZH, EN)
    expect(page.get_by_role("heading", level=1, name=EN.headings["hall"])).to_be_visible()
    assert cjk_lines(visible_text(page)) == [], "Chinese left on the task hall right after the switch"

    english = visit_every_page(page, EN)
    for name, text in english.items():
        assert cjk_lines(text) == [], f"Chinese left on the English page {name}"

    page.get_by_role("button", name=EN.logout).click()
    expect(page.get_by_role("heading", name=EN.login_title)).to_be_visible()
    assert cjk_lines(visible_text(page)) == [], "Chinese left on the English login page"
