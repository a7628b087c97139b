"""Helpers that drive the dashboard the way a person does: by role, label and visible text.

The labels come from the dashboard's catalogues (web/src/locales/zh-CN.ts and en.ts). Only the ones
that these tests read or click are repeated here, so a renamed label fails the test that uses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

from devtools.procs import TaskDashServer, wait_until

# CJK ideographs, CJK punctuation and full-width forms: text that an English page must not show.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Maximum wait for one step in the browser (a page load, a list reload, a message). On loopback a step
# takes well under a second, so a step that fails reports after this long instead of at pytest's timeout.
UI_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Labels:
    """The UI text of one language that the tests use."""

    language: str
    language_name: str
    language_switch: str
    login_title: str
    username: str
    password: str
    login_button: str
    logout: str
    loading: str
    search: str
    # Menu entries and page headings by route name.
    menu: dict[str, str]
    headings: dict[str, str]
    admin_tabs: dict[str, str]
    claim: str
    claimed: str
    submit: str
    submitted: str
    approve: str
    approved: str
    status_running: str
    status_checking: str
    status_finish: str
    history: str
    state_online: str
    state_offline: str
    service_filter: str
    assign_mode: str
    one_user: str
    round_robin: str
    assign_user: str
    round_robin_group: str
    task_group: str
    preview: str
    goes_to: str
    execute: str
    outcome: str


ZH = Labels(
    language="zh-CN",
    language_name="简体中文",
    language_switch="界面语言",
    login_title="登录 TaskDash",
    username="用户名",
    password="密码",
    login_button="登录",
    logout="退出登录",
    loading="加载中…",
    search="查询",
    menu={
        "hall": "任务大厅", "mine": "我的任务", "review": "校验", "assign": "分配",
        "overview": "概览", "services": "任务服务", "admin": "管理",
    },
    headings={
        "hall": "未领取的任务", "mine": "我的任务", "review": "待我校验的任务", "assign": "分配任务",
        "overview": "概览", "services": "任务服务", "admin": "管理",
    },
    admin_tabs={"users": "用户", "groups": "组", "dead-letters": "死信"},
    claim="领取",
    claimed="已领取任务 {id}",
    submit="提交",
    submitted="任务 {id} 已提交校验",
    approve="通过",
    approved="任务 {id} 已通过",
    status_running="进行中",
    status_checking="待校验",
    status_finish="已完成",
    history="历史",
    state_online="在线",
    state_offline="离线",
    service_filter="任务服务",
    assign_mode="分配方式",
    one_user="指定用户",
    round_robin="组内轮流分配",
    assign_user="领取人",
    round_robin_group="轮流分配的组",
    task_group="写入任务的组",
    preview="预览",
    goes_to="分配给 {user}",
    execute="执行分配（{count} 个）",
    outcome="分配完成：成功 {assigned} 个，失败 {failed} 个",
)

EN = Labels(
    language="en",
    language_name="English",
    language_switch="Language",
    login_title="Log in to TaskDash",
    username="Username",
    password="Password",
    login_button="Log in",
    logout="Log out",
    loading="Loading…",
    search="Search",
    menu={
        "hall": "Task hall", "mine": "My tasks", "review": "Review", "assign": "Assign",
        "overview": "Overview", "services": "Task services", "admin": "Admin",
    },
    headings={
        "hall": "Unclaimed tasks", "mine": "My tasks", "review": "Tasks for me to review", "assign": "Assign tasks",
        "overview": "Overview", "services": "Task services", "admin": "Administration",
    },
    admin_tabs={"users": "Users", "groups": "Groups", "dead-letters": "Dead letters"},
    claim="Claim",
    claimed="Claimed task {id}",
    submit="Submit",
    submitted="Task {id} was submitted for review",
    approve="Approve",
    approved="Task {id} was approved",
    status_running="In progress",
    status_checking="Awaiting review",
    status_finish="Finished",
    history="History",
    state_online="Online",
    state_offline="Offline",
    service_filter="Task service",
    assign_mode="How",
    one_user="One user",
    round_robin="Round-robin in a group",
    assign_user="User",
    round_robin_group="Group to spread over",
    task_group="Group written on the tasks",
    preview="Preview",
    goes_to="to {user}",
    execute="Assign {count} tasks",
    outcome="Done: {assigned} assigned, {failed} failed",
)

# The pages of the menu, in menu order.
PAGES = ("hall", "mine", "review", "assign", "overview", "services", "admin")


def log_in(page: Page, username: str, password: str, labels: Labels = ZH) -> None:
    """Fill in and send the login form, and wait until the app shell shows the logout button."""
    page.get_by_label(labels.username).fill(username)
    page.get_by_label(labels.password).fill(password)
    page.get_by_role("button", name=labels.login_button, exact=True).click()
    expect(page.get_by_role("button", name=labels.logout)).to_be_visible(timeout=UI_TIMEOUT_MS)


def log_in_by_api(page: Page, username: str, password: str) -> None:
    """Log the page's browser context in through the REST API, which is quicker and shows no welcome message."""
    response = page.context.request.post("/api/v1/session", data={"username": username, "password": password})
    assert response.ok, f"login of {username!r} failed: HTTP {response.status} {response.text()}"


def choose_option(page: Page, combobox: Locator, option: str) -> None:
    """Open a select with the keyboard and click the option with the visible text `option`.

    It uses the keyboard because Element Plus lays the selected value over its combobox input, where it
    intercepts pointer clicks aimed at the input.
    """
    combobox.focus()
    combobox.press("Enter")
    choice = page.get_by_role("option", name=option, exact=True)
    choice.click()
    # The list fades out, and until it is gone its options still count as shown.
    expect(choice).to_be_hidden()


def switch_language(page: Page, current: Labels, target: Labels) -> None:
    """Pick `target` in the language switch, which is labelled in the `current` language."""
    choose_option(page, page.get_by_role("combobox", name=current.language_switch), target.language_name)
    expect(page.locator("html")).to_have_attribute("lang", target.language)


def navigate(page: Page, name: str, labels: Labels) -> None:
    """Open a page through the menu and wait until its heading shows and its lists have loaded."""
    page.get_by_role("menubar").get_by_role("menuitem", name=labels.menu[name], exact=True).click()
    expect(page.get_by_role("heading", level=1, name=labels.headings[name], exact=True)).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    wait_loaded(page, labels)


def wait_loaded(page: Page, labels: Labels) -> None:
    """Wait until no loading mask of a table or page shows its text."""
    expect(page.get_by_text(labels.loading, exact=True)).to_have_count(0, timeout=UI_TIMEOUT_MS)


def task_row(page: Page, task_id: str) -> Locator:
    """Return the table row whose task ID cell is exactly `task_id`."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=task_id, exact=True))


def show_message(page: Page, text: str) -> None:
    """Expect an Element Plus message (role alert) that contains `text` to show."""
    expect(page.get_by_role("alert").filter(has_text=text)).to_be_visible(timeout=UI_TIMEOUT_MS)


# Collects what a person reads on the page: the rendered text, plus the placeholder, aria-label, title
# and alt of every element that is rendered, and the window title.
VISIBLE_TEXT_SCRIPT = """
() => {
  const parts = [document.title, document.body.innerText];
  for (const element of document.body.querySelectorAll('[placeholder], [aria-label], [title], [alt]')) {
    if (!element.checkVisibility({ visibilityProperty: true })) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      const value = element.getAttribute(name);
      if (value) parts.push(value);
    }
  }
  return parts.join('\\n');
}
"""


def visible_text(page: Page) -> str:
    return page.evaluate(VISIBLE_TEXT_SCRIPT)


def cjk_lines(text: str) -> list[str]:
    """Return the lines of `text` that contain a CJK character."""
    return [line.strip() for line in text.splitlines() if CJK.search(line)]


def wait_for_tasks(server: TaskDashServer, username: str, password: str, count: int) -> list[str]:
    """Wait until `count` unclaimed tasks are listed, polled from the task services, and return their ids."""
    with server.login(username, password) as client:

        def listed() -> list[str] | None:
            page = client.get("/api/v1/tasks", params={"status": "notget", "limit": 200}).json()
            return [task["task_id"] for task in page["tasks"]] if page["total"] >= count else None

        return wait_until(listed, 60, f"{count} unclaimed tasks on {server.base_url}")
