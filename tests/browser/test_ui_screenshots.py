"""Full-page screenshots of every page in zh-CN and in English, under test-output/screenshots, for people to look at."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from devtools.procs import ROOT, Nsqd
from tests.browser.seed import seed_dashboard
from tests.browser.ui import (
    EN,
    PAGES,
    ZH,
    Labels,
    log_in_by_api,
    navigate,
    switch_language,
    wait_for_tasks,
    wait_loaded,
)

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "test-output" / "screenshots"
# ECharts animates its charts for 1 s by default.
CHART_ANIMATION_MS = 1200


def png_size(path: Path) -> tuple[int, int]:
    """Return the width and height from a PNG file's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", header[16:24])


def save(page: Page, labels: Labels, name: str) -> Path:
    path = SCREENSHOTS / f"{labels.language}-{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    width, height = png_size(path)
    viewport = page.viewport_size
    assert viewport is not None
    assert width == viewport["width"], f"{path} is {width}x{height}"
    assert height >= viewport["height"], f"{path} is {width}x{height}"
    return path


def shoot_pages(page: Page, labels: Labels) -> list[Path]:
    paths = []
    for name in PAGES:
        navigate(page, name, labels)
        if name == "overview":
            page.wait_for_timeout(CHART_ANIMATION_MS)
        paths.append(save(page, labels, name))
    for tab in ("groups", "dead-letters"):
        page.get_by_role("tab", name=labels.admin_tabs[tab], exact=True).click()
        expect(page).to_have_url(re.compile(f"/admin/{tab}$"))
        wait_loaded(page, labels)
        paths.append(save(page, labels, f"admin-{tab}"))
    return paths


def test_screenshots_of_every_page(nsqd: Nsqd, start_taskdash, start_refservice, admin, new_page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "annotation-images", "img", tasks=8)
    start_refservice(nsqd, "annotation-audio", "audio", tasks=4)
    task_ids = wait_for_tasks(server, *admin, count=12)
    seed_dashboard(server, nsqd, admin, sorted(task_ids))

    page = new_page(server)
    page.goto("/login")
    expect(page.get_by_role("heading", name=ZH.login_title)).to_be_visible()
    saved = [save(page, ZH, "login")]
    switch_language(page, ZH, EN)
    expect(page.get_by_role("heading", name=EN.login_title)).to_be_visible()
    saved.append(save(page, EN, "login"))

    log_in_by_api(page, *admin)
    page.goto("/")
    expect(page.get_by_role("button", name=EN.logout)).to_be_visible()
    saved += shoot_pages(page, EN)
    switch_language(page, EN, ZH)
    saved += shoot_pages(page, ZH)

    assert sorted(path.name for path in saved) == sorted(
        f"{labels.language}-{name}.png"
        for labels in (ZH, EN)
        for name in ("login", *PAGES, "admin-groups", "admin-dead-letters")
    )
