"""Browser tests of the task pages: login, claiming in the task hall, review, and how descriptions render."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from devtools.procs import Nsqd, RefService
from tests.browser.conftest import DESKTOP, TABLET
from tests.browser.seed import Account, create_accounts, post
from tests.browser.ui import (
    EN,
    ZH,
    cjk_lines,
    log_in,
    navigate,
    show_message,
    switch_language,
    task_row,
    visible_text,
    wait_for_tasks,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_login_claim_shows_in_mine(nsqd: Nsqd, start_taskdash, start_refservice, admin, new_page, viewport) -> None:
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "hall", "hall", tasks=3)
    editor = Account("ed", ("editor",))
    with server.login(*admin) as admin_client:
        create_accounts(admin_client, editor)
    wait_for_tasks(server, *admin, count=3)
    page = new_page(server, viewport)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?redirect=/tasks/hall$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name=ZH.login_title)).to_be_visible()
    expect(page.get_by_label(ZH.username)).to_be_visible()
    expect(page.get_by_label(ZH.password)).to_be_visible()
    expect(page.get_by_role("button", name=ZH.login_button, exact=True)).to_be_visible()

    switch_language(page, ZH, EN)
    expect(page.get_by_role("heading", name=EN.login_title)).to_be_visible()
    expect(page.get_by_label(EN.username)).to_be_visible()
    expect(page.get_by_label(EN.password)).to_be_visible()
    expect(page.get_by_role("button", name=EN.login_button, exact=True)).to_be_visible()
    assert cjk_lines(visible_text(page)) == []

    switch_language(page, EN, ZH)
    log_in(page, editor.username, editor.password, ZH)
    expect(page).to_have_url(f"{server.base_url}/tasks/hall")
    row = task_row(page, "hall-1")
    row.get_by_role("button", name=ZH.claim, exact=True).click()
    show_message(page, ZH.claimed.format(id="hall-1"))
    expect(row).to_have_count(0)
    expect(task_row(page, "hall-0")).to_be_visible()

    navigate(page, "mine", ZH)
    mine = task_row(page, "hall-1")
    expect(mine).to_be_visible()
    expect(mine).to_contain_text(ZH.status_running)
    expect(task_row(page, "hall-0")).to_have_count(0)


def test_checker_approves_submitted_task(nsqd: Nsqd, start_taskdash, start_refservice, admin, new_page) -> None:
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "review", "rv", tasks=2)
    editor, checker = Account("ed", ("editor",)), Account("ck", ("checker",))
    with server.login(*admin) as admin_client:
        create_accounts(admin_client, editor, checker)
        wait_for_tasks(server, *admin, count=2)
        post(admin_client, "/api/v1/tasks/rv-0/assign", {"user": "ed", "checker": "ck"})

    # The editor submits in the browser.
    editor_page = new_page(server)
    editor_page.goto("/login")
    log_in(editor_page, editor.username, editor.password)
    navigate(editor_page, "mine", ZH)
    task_row(editor_page, "rv-0").get_by_role("button", name=ZH.submit, exact=True).click()
    show_message(editor_page, ZH.submitted.format(id="rv-0"))

    checker_page = new_page(server)
    checker_page.goto("/login")
    log_in(checker_page, checker.username, checker.password)
    expect(checker_page).to_have_url(f"{server.base_url}/tasks/review")
    row = task_row(checker_page, "rv-0")
    expect(row.get_by_role("cell", name=editor.username, exact=True)).to_be_visible()
    row.get_by_role("button", name=ZH.approve, exact=True).click()
    show_message(checker_page, ZH.approved.format(id="rv-0"))
    expect(row).to_have_count(0)

    # The editor finds the task among the finished ones. The status filter is the page's only radio group.
    editor_page.get_by_role("radiogroup").get_by_text(ZH.status_finish, exact=True).click()
    finished = task_row(editor_page, "rv-0")
    expect(finished).to_be_visible()
    expect(finished).to_contain_text(ZH.status_finish)
    with server.login(*admin) as admin_client:
        assert admin_client.get("/api/v1/tasks/rv-0").json()["task"]["status"] == "finish"


# Task descriptions with markup, as a task service might send them. A <script> inserted through innerHTML
# never runs, but the image's onerror handler would, so the image catches markup inserted as HTML.
SCRIPT_DESCRIPTION = "<script>window.__pwned=1</script><b>bold</b>"
IMAGE_DESCRIPTION = '<img src="x" onerror="window.__pwned=2">'


class TaskListHandler(BaseHTTPRequestHandler):
    """A task service's task list: GET returns the same two tasks with HTML in their descriptions."""

    body = json.dumps([
        {"TaskID": "html-script", "DataType": "text", "Status": "notget", "Description": SCRIPT_DESCRIPTION},
        {"TaskID": "html-image", "DataType": "text", "Status": "notget", "Description": IMAGE_DESCRIPTION},
    ]).encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def task_list_url() -> Iterator[str]:
    """URL of a task list served from this process on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), TaskListHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tasks"
    server.shutdown()
    server.server_close()


def test_description_html_shows_as_text(
    nsqd: Nsqd, start_taskdash, admin, new_page, tmp_path, task_list_url: str
) -> None:
    server = start_taskdash(nsqd)
    # The Go reference service registers the Python task list and sends its heartbeats.
    announcer = RefService.start(tmp_path, nsqd.tcp_address, "html-service", extra_args=[f"--url={task_list_url}"])
    try:
        wait_for_tasks(server, *admin, count=2)
        page = new_page(server)
        page.goto("/login")
        log_in(page, *admin)

        for task_id, description in (("html-script", SCRIPT_DESCRIPTION), ("html-image", IMAGE_DESCRIPTION)):
            row = task_row(page, task_id)
            expect(row.get_by_role("cell", name=description, exact=True)).to_be_visible()
            assert row.locator("b, script, img").count() == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"

        # The history drawer of My tasks shows the description too.
        task_row(page, "html-script").get_by_role("button", name=ZH.claim, exact=True).click()
        navigate(page, "mine", ZH)
        task_row(page, "html-script").get_by_role("button", name=ZH.history, exact=True).click()
        drawer = page.get_by_role("dialog")
        expect(drawer.get_by_text(SCRIPT_DESCRIPTION, exact=True)).to_be_visible()
        assert drawer.locator("b, script").count() == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"
    finally:
        announcer.managed.stop()
