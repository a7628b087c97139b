"""Error codes and the domain error hierarchy.

Every error a client can see has one `errid`, one HTTP status for the REST
API and one message per language. Codes 0 and 1000-1002 and their Chinese
messages come from the original `/rpost/task` endpoint and must not change;
TaskDash adds 1003 and up for cases the original left open. The README lists
this table for users, so keep both in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ErrId(IntEnum):
    SUCCESS = 0
    BAD_REQUEST = 1000
    STORE_WRITE_FAILED = 1001
    STORE_READ_FAILED = 1002
    NOT_LOGGED_IN = 1003
    PERMISSION_DENIED = 1004
    TASK_NOT_FOUND = 1005
    ALREADY_CLAIMED = 1006
    WRONG_CREDENTIALS = 1007
    INVALID_STATE_CHANGE = 1008
    TOO_MANY_ATTEMPTS = 1009
    USER_NOT_FOUND = 1010
    CHECKER_IS_EDITOR = 1011
    TASK_LIMIT_REACHED = 1012
    CSRF_TOKEN_INVALID = 1013


@dataclass(frozen=True, slots=True)
class ErrorText:
    zh: str
    en: str
    http_status: int


ERROR_TABLE: dict[ErrId, ErrorText] = {
    ErrId.SUCCESS: ErrorText("success", "success", 200),
    ErrId.BAD_REQUEST: ErrorText("请求格式不正确", "The request is malformed", 400),
    ErrId.STORE_WRITE_FAILED: ErrorText("数据库存储失败", "Writing to the database failed", 503),
    ErrId.STORE_READ_FAILED: ErrorText("数据库查询失败", "Reading from the database failed", 503),
    ErrId.NOT_LOGGED_IN: ErrorText("用户未登录", "Not logged in", 401),
    ErrId.PERMISSION_DENIED: ErrorText("没有操作权限", "Permission denied", 403),
    ErrId.TASK_NOT_FOUND: ErrorText("任务不存在", "Task not found", 404),
    ErrId.ALREADY_CLAIMED: ErrorText("任务已被领取", "The task is already claimed", 409),
    ErrId.WRONG_CREDENTIALS: ErrorText("用户名或密码错误", "Wrong username or password", 401),
    ErrId.INVALID_STATE_CHANGE: ErrorText(
        "任务当前状态不允许此操作", "The task's current status does not allow this action", 409
    ),
    ErrId.TOO_MANY_ATTEMPTS: ErrorText(
        "尝试次数过多，请稍后再试", "Too many attempts, try again later", 429
    ),
    ErrId.USER_NOT_FOUND: ErrorText("用户不存在", "User not found", 404),
    ErrId.CHECKER_IS_EDITOR: ErrorText(
        "校验员不能是任务的领取人", "The checker cannot be the task's editor", 409
    ),
    ErrId.TASK_LIMIT_REACHED: ErrorText(
        "进行中的任务数已达上限", "The limit of tasks in work is reached", 409
    ),
    ErrId.CSRF_TOKEN_INVALID: ErrorText(
        "CSRF 令牌缺失或无效，请刷新页面", "The CSRF token is missing or invalid; reload the page", 403
    ),
}


def error_message(errid: ErrId, language: str = "zh") -> str:
    """Return the message for `errid` in `language` ("zh" or "en")."""
    text = ERROR_TABLE[errid]
    return text.en if language == "en" else text.zh


class TaskDashError(Exception):
    """Base of every error that maps to an `errid`.

    `detail` is an English sentence for logs and REST clients that names the
    offending value. The legacy endpoint never shows it, because its responses
    must stay byte-compatible with the original.
    """

    errid: ErrId = ErrId.BAD_REQUEST

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or ERROR_TABLE[self.errid].en)
        self.detail = detail or ERROR_TABLE[self.errid].en


class InvalidRequest(TaskDashError):
    """Raised for a malformed body, an unknown operation or a missing or invalid field."""

    errid = ErrId.BAD_REQUEST


class InvalidDatabaseUrl(InvalidRequest, ValueError):
    """Raised by `open_store` for a database URL that names no usable store, before anything is opened.

    It is also a ValueError, the type that configuration checks raise for a malformed value.
    """


class StoreWriteFailed(TaskDashError):
    """Raised when the store rejects or fails a write."""

    errid = ErrId.STORE_WRITE_FAILED


class StoreReadFailed(TaskDashError):
    """Raised when the store fails a read."""

    errid = ErrId.STORE_READ_FAILED


class StoreUnavailable(StoreReadFailed):
    """Raised by `open_store` when the store that a valid database URL names cannot be opened or reached."""


class NotLoggedIn(TaskDashError):
    """Raised when a request needs a session and has none, or an expired one."""

    errid = ErrId.NOT_LOGGED_IN


class PermissionDenied(TaskDashError):
    """Raised when the user's roles or groups do not allow the action."""

    errid = ErrId.PERMISSION_DENIED


class TaskNotFound(TaskDashError):
    """Raised when no stored task has the given id."""

    errid = ErrId.TASK_NOT_FOUND


class AlreadyClaimed(TaskDashError):
    """Raised when a claim loses to an earlier claim or assignment of the same task."""

    errid = ErrId.ALREADY_CLAIMED


class WrongCredentials(TaskDashError):
    """Raised when a login names an unknown or disabled user or a wrong password."""

    errid = ErrId.WRONG_CREDENTIALS


class InvalidStateChange(TaskDashError):
    """Raised when the task's status does not allow the requested action."""

    errid = ErrId.INVALID_STATE_CHANGE


class TooManyAttempts(TaskDashError):
    """Raised when failed logins for a username or address pass the throttle limit."""

    errid = ErrId.TOO_MANY_ATTEMPTS

    def __init__(self, detail: str = "", retry_after: float = 0.0) -> None:
        super().__init__(detail)
        # Seconds until the throttle allows the next attempt. The REST API sends them as Retry-After.
        self.retry_after = retry_after


class UserNotFound(TaskDashError):
    """Raised when an assignment or admin action names an unknown user."""

    errid = ErrId.USER_NOT_FOUND


class CheckerIsEditor(TaskDashError):
    """Raised when an assignment would make a task's editor its own checker."""

    errid = ErrId.CHECKER_IS_EDITOR


class TaskLimitReached(TaskDashError):
    """Raised when a claim or assignment would pass the per-user limit of tasks in work."""

    errid = ErrId.TASK_LIMIT_REACHED


class CsrfTokenInvalid(TaskDashError):
    """Raised when a REST write authenticated by the session cookie lacks the session's CSRF token."""

    errid = ErrId.CSRF_TOKEN_INVALID
