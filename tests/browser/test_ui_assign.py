"""Browser test of the assign page: a manager previews and runs bulk assignments, and the assignees see their tasks."""

from __future__ import annotations

from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from devtools.procs import Nsqd, TaskDashServer
from tests.browser.seed import Account, create_accounts
from tests.browser.ui import ZH, choose_option, log_in, log_in_by_api, navigate, task_row, wait_for_tasks, wait_loaded

pytestmark = pytest.mark.e2e

MANAGER = Account("mgr", ("manager",), ("team-a", "team-b"))
# team-a's editors share its tasks round-robin; the manager is in team-a too but is no editor.
EDITOR_A1 = Account("ed-a1", ("editor",), ("team-a",))
EDITOR_A2 = Account("ed-a2", ("editor",), ("team-a",))
EDITOR_B = Account("ed-b", ("editor",), ("team-b",))
ALPHA_TASKS = ["al-0", "al-1", "al-2", "al-3"]
BETA_TASKS = ["be-0", "be-1", "be-2"]


def filter_by_service(page: Page, service: str) -> None:
    choose_option(page, page.get_by_role("combobox", name=ZH.service_filter, exact=True), service)
    page.get_by_role("button", name=ZH.search, exact=True).click()
    wait_loaded(page, ZH)


def planned_assignee(page: Page, task_id: str) -> str:
    """Return the user that the preview's per-task table names for `task_id`."""
    planned = task_row(page, task_id).filter(has_text=ZH.goes_to.format(user=""))
    expect(planned).to_have_count(1)
    return planned.inner_text().split(ZH.goes_to.format(user=""), 1)[1].strip()


def assign_planned(page: Page, count: int) -> None:
    """Run the previewed plan and wait for its outcome."""
    execute = page.get_by_role("button", name=ZH.execute.format(count=count), exact=True)
    expect(execute).to_be_enabled()
    execute.click()
    expect(page.get_by_text(ZH.outcome.format(assigned=count, failed=0), exact=True)).to_be_visible()


def expect_my_tasks(server: TaskDashServer, new_page, account: Account, mine: list[str], others: list[str]) -> None:
    """Open My tasks as `account` and expect exactly the tasks of `mine` among `mine + others`."""
    page = new_page(server)
    log_in_by_api(page, account.username, account.password)
    page.goto("/tasks/mine")
    wait_loaded(page, ZH)
    for task_id in mine:
        expect(task_row(page, task_id)).to_contain_text(ZH.status_running)
    for task_id in others:
        expect(task_row(page, task_id)).to_have_count(0)


def test_manager_bulk_assigns_tasks(nsqd: Nsqd, start_taskdash, start_refservice, admin, new_page) -> None:
    server = start_taskdash(nsqd)
    start_refservice(nsqd, "alpha", "al", tasks=len(ALPHA_TASKS))
    start_refservice(nsqd, "beta", "be", tasks=len(BETA_TASKS))
    with server.login(*admin) as admin_client:
        create_accounts(admin_client, MANAGER, EDITOR_A1, EDITOR_A2, EDITOR_B)
    wait_for_tasks(server, *admin, count=len(ALPHA_TASKS) + len(BETA_TASKS))

    page = new_page(server)
    page.goto("/login")
    log_in(page, MANAGER.username, MANAGER.password)
    navigate(page, "assign", ZH)

    # alpha's tasks, round-robin over team-a's two editors.
    filter_by_service(page, "alpha")
    for task_id in ALPHA_TASKS:
        expect(task_row(page, task_id)).to_be_visible()
    expect(task_row(page, BETA_TASKS[0])).to_have_count(0)
    mode = page.get_by_role("radiogroup", name=ZH.assign_mode)
    mode.get_by_text(ZH.round_robin, exact=True).click()
    choose_option(page, page.get_by_role("combobox", name=ZH.round_robin_group), "team-a")
    page.get_by_role("button", name=ZH.preview, exact=True).click()
    plan = {task_id: planned_assignee(page, task_id) for task_id in ALPHA_TASKS}
    assert Counter(plan.values()) == {EDITOR_A1.username: 2, EDITOR_A2.username: 2}
    assign_planned(page, len(ALPHA_TASKS))

    # beta's tasks, to one user whose name the manager types, with team-b written on them.
    filter_by_service(page, "beta")
    mode.get_by_text(ZH.one_user, exact=True).click()
    page.get_by_role("textbox", name=ZH.assign_user).fill(EDITOR_B.username)
    choose_option(page, page.get_by_role("combobox", name=ZH.task_group), "team-b")
    page.get_by_role("button", name=ZH.preview, exact=True).click()
    assert {task_id: planned_assignee(page, task_id) for task_id in BETA_TASKS} == dict.fromkeys(
        BETA_TASKS, EDITOR_B.username
    )
    assign_planned(page, len(BETA_TASKS))

    every_task = ALPHA_TASKS + BETA_TASKS
    for account in (EDITOR_A1, EDITOR_A2):
        mine = [task_id for task_id, user in plan.items() if user == account.username]
        expect_my_tasks(server, new_page, account, mine, [task_id for task_id in every_task if task_id not in mine])
    expect_my_tasks(server, new_page, EDITOR_B, BETA_TASKS, ALPHA_TASKS)
    with server.login(*admin) as admin_client:
        beta = admin_client.get("/api/v1/tasks", params={"text": "be-", "limit": 10}).json()
    assert {task["task_id"]: task["group_id"] for task in beta["tasks"]} == dict.fromkeys(BETA_TASKS, "team-b")
