"""Browser test of the task service page: a service whose heartbeats stop turns offline on screen."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from devtools.procs import Nsqd
from tests.browser.ui import ZH, log_in_by_api, navigate

pytestmark = pytest.mark.e2e

# Seconds allowed beyond --offline-after. Up to one heartbeat interval (1 s) passes between the last
# heartbeat and the stop. The server judges liveness about once a second, and the page reloads the list
# 1 s after the change event arrives. Measured: offline shows 5.9 s after the stop with --offline-after 4
# (three runs, 2 cores).
DISPLAY_MARGIN = 3.5


def test_stopped_service_shows_offline(nsqd: Nsqd, start_taskdash, start_refservice, admin, new_page, offline_after) -> None:
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "keeper", "kp", tasks=1)
    stopped = start_refservice(nsqd, "stopped", "st", tasks=1)
    page = new_page(server)
    log_in_by_api(page, *admin)
    page.goto("/")
    navigate(page, "services", ZH)

    keeper_row = page.get_by_role("row").filter(has_text="keeper")
    stopped_row = page.get_by_role("row").filter(has_text="stopped")
    # Right after start-up TaskDash shows every service as unknown for one suspect period.
    expect(keeper_row).to_contain_text(ZH.state_online)
    expect(stopped_row).to_contain_text(ZH.state_online)

    assert stopped.managed.stop() == 0
    stopped_at = time.monotonic()
    expect(stopped_row).to_contain_text(ZH.state_offline, timeout=(offline_after + 15) * 1000)
    shown_after = time.monotonic() - stopped_at

    assert shown_after <= offline_after + DISPLAY_MARGIN, f"offline shown {shown_after:.1f} s after the stop"
    expect(keeper_row).to_contain_text(ZH.state_online)
    state_filter = page.get_by_role("radiogroup", name="按状态筛选")
    expect(state_filter.get_by_text(re.compile(rf"^{ZH.state_offline} 1$"))).to_be_visible()
    expect(state_filter.get_by_text(re.compile(rf"^{ZH.state_online} 1$"))).to_be_visible()
