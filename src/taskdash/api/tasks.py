"""REST routes for tasks: filtered lists with keyset pagination, CSV export, detail with history, and workflow actions.

The routes only translate HTTP to `Workflow` calls: permissions and the
visibility of tasks are enforced by the domain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from taskdash.api import csv_export
from taskdash.api.deps import CurrentUser, RuntimeDep, get_current_user
from taskdash.api.request_route import request_route
from taskdash.api.task_params import (
    MAX_FILTER_LENGTH,
    MAX_NAME_LENGTH,
    MAX_URL_LENGTH,
    TaskListParams,
    TaskPageParams,
    openapi_parameters,
    page_params,
    task_list_params,
)
from taskdash.errors import TaskDashError
from taskdash.runtime import Runtime
from taskdash.store.records import HistoryEntry, TaskRecord
from taskdash.store.task_json import TaskJsonPage, task_json
from taskdash.tasks.actions import MAX_REASON_LENGTH
from taskdash.tasks.workflow import Workflow

log = structlog.get_logger("taskdash.api")

router = APIRouter(prefix="/api/v1", tags=["tasks"])

MAX_ID_LENGTH = 512

# NOTE: a task id that contains "/" cannot be addressed by these paths; such ids are listed but not actionable here.
TaskIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, description="Task id")]


# The fields of taskdash.store.task_json in the same order, because task lists pass the store's JSON through.
class TaskOut(BaseModel):
    task_id: str
    service_url: str
    status: str = Field(description="notget, running, checking, finish, or a status the service reported")
    data_type: str
    description: str
    service_status: str = Field(description="The last status the service reported, verbatim")
    reserved: str
    project_id: str
    instance_id: str
    url: str
    create_time: str
    extra: dict[str, Any]
    user: str = Field(description="Username of the editor working on the task; empty when unclaimed")
    checker: str
    group_id: str
    missing: bool = Field(description="True when the service no longer lists the task")
    version: int = Field(ge=1)
    created_at: float = Field(description="Unix time in seconds when TaskDash first stored the task")
    updated_at: float
    claimed_at: float | None


class TaskPageOut(BaseModel):
    tasks: list[TaskOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to read the next page; null on the last page")
    total: int = Field(ge=0, description="Number of matching tasks visible to the user, on all pages")


class HistoryOut(BaseModel):
    at: float
    actor: str = Field(description="Username, or the service URL for service reports")
    actor_kind: str = Field(description="user or service")
    from_status: str
    to_status: str
    reason: str


class TaskDetailOut(BaseModel):
    task: TaskOut
    history: list[HistoryOut] = Field(description="Oldest entry first")


class RejectIn(BaseModel):
    # The domain trims and checks the length, as for the legacy RejectTask; this bound only caps the body.
    reason: str = Field(min_length=1, max_length=2 * MAX_REASON_LENGTH, description="Why the task goes back to its user")


class AssignIn(BaseModel):
    user: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    checker: str = Field("", max_length=MAX_NAME_LENGTH)
    group: str = Field("", max_length=MAX_NAME_LENGTH)


class SetCheckerIn(BaseModel):
    checker: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="Username of a user with the checker role")


class ClaimNextIn(BaseModel):
    data_type: str = Field("", max_length=MAX_FILTER_LENGTH)
    service_url: str = Field("", max_length=MAX_URL_LENGTH)
    text: str = Field("", max_length=MAX_FILTER_LENGTH, description="Substring of the task id or description")


class DataTypeCount(BaseModel):
    data_type: str
    count: int = Field(ge=0, description="Visible tasks of this data type, in every status")


class DataTypesOut(BaseModel):
    data_types: list[DataTypeCount] = Field(description="Ordered by data type")


def task_out(task: TaskRecord) -> TaskOut:
    return TaskOut.model_validate(task, from_attributes=True)


def task_page_response(page: TaskJsonPage) -> Response:
    """Return the JSON of TaskPageOut from a page of task JSON objects, without decoding them.

    FastAPI sends a returned Response as it is, without validating it against
    the response model, so a test checks that the two agree.
    """
    body = b"".join((
        b'{"tasks":[', b",".join(page.tasks), b'],"next_cursor":', orjson.dumps(page.next_cursor),
        b',"total":', str(page.total).encode(), b"}",
    ))
    return Response(body, media_type="application/json")


def _workflow(request: Request) -> Workflow:
    runtime: Runtime = request.app.state.runtime
    return runtime.workflow


def task_response(task: TaskRecord) -> Response:
    """Return the JSON of TaskOut for `task`, serialized as the task lists serialize tasks."""
    return Response(task_json(task), media_type="application/json")


def history_out(entry: HistoryEntry) -> HistoryOut:
    return HistoryOut(
        at=entry.at, actor=entry.actor, actor_kind=entry.actor_kind, from_status=entry.from_status,
        to_status=entry.to_status, reason=entry.reason,
    )


@request_route(
    router, "/tasks", methods=["GET"],
    summary="List the tasks visible to the user, filtered, sorted and paginated by cursor",
    openapi_extra={"parameters": openapi_parameters(TaskPageParams)},
)
async def list_tasks(request: Request) -> TaskPageOut:
    actor = await get_current_user(request)
    params = page_params(request)
    page = await _workflow(request).list_tasks(
        actor, params.task_query(), params.task_sort(), params.limit, params.cursor or None
    )
    # The annotation still gives the OpenAPI document its TaskPageOut schema.
    return task_page_response(page)  # type: ignore[return-value]


# Declared before /tasks/{task_id}, which would otherwise take "export.csv" as a task id.
@router.get(
    "/tasks/export.csv",
    summary="Export the tasks visible to the user as CSV, with the filters and sort of the task list",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a byte order mark"}},
    openapi_extra={"parameters": openapi_parameters(TaskListParams)},
)
async def export_tasks(
    runtime: RuntimeDep, actor: CurrentUser, params: Annotated[TaskListParams, Depends(task_list_params)]
) -> StreamingResponse:
    pages = runtime.workflow.task_pages(actor, params.task_query(), params.task_sort())
    # The first page is read before the response starts, so an invalid filter or a failed read still
    # gets its HTTP status. A failure on a later page can only cut the download short.
    first = await anext(pages, [])

    async def body() -> AsyncIterator[bytes]:
        yield (csv_export.header() + csv_export.task_rows(first)).encode()
        try:
            async for page in pages:
                yield csv_export.task_rows(page).encode()
        except TaskDashError as error:
            log.error("task_export_failed", user=actor.username, errid=int(error.errid), reason=error.detail)
            raise

    return StreamingResponse(
        body(), media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="tasks.csv"'},
    )


# Declared before /tasks/{task_id}, which would otherwise take "data-types" as a task id.
@router.get("/tasks/data-types", summary="The data types of the tasks visible to the user, with their task counts")
async def data_types(runtime: RuntimeDep, actor: CurrentUser) -> DataTypesOut:
    counts = await runtime.workflow.data_types(actor)
    return DataTypesOut(data_types=[DataTypeCount(data_type=data_type, count=count) for data_type, count in counts])


@router.post(
    "/tasks/claim-next", response_model=TaskOut,
    summary="Claim the oldest unclaimed task of a live service that matches the filter",
)
async def claim_next(runtime: RuntimeDep, actor: CurrentUser, body: ClaimNextIn | None = None) -> Response:
    body = body or ClaimNextIn()
    task = await runtime.workflow.claim_next(
        actor, body.data_type, body.service_url, live_service_urls=runtime.monitor.snapshot.listable_urls(),
        text=body.text,
    )
    return task_response(task)


@router.get("/tasks/{task_id}", summary="One task with its history")
async def get_task(runtime: RuntimeDep, actor: CurrentUser, task_id: TaskIdPath) -> TaskDetailOut:
    task, history = await runtime.workflow.task_detail(actor, task_id)
    return TaskDetailOut(task=task_out(task), history=[history_out(entry) for entry in history])


def _add_task_action(name: str, summary: str) -> None:
    """Add `POST /tasks/{task_id}/NAME`, which calls the workflow method NAME with the user and the task id."""

    async def endpoint(request: Request, task_id: TaskIdPath) -> Response:
        actor = await get_current_user(request)
        action = getattr(_workflow(request), name)
        return task_response(await action(actor, task_id))

    # The name becomes the route's name and part of its OpenAPI operation id.
    endpoint.__name__ = endpoint.__qualname__ = name
    register = request_route(
        router, f"/tasks/{{task_id}}/{name}", methods=["POST"], response_model=TaskOut, summary=summary
    )
    register(endpoint)


# The actions without a body are RequestRoutes, because editors send claims and submits all day.
_add_task_action("claim", "Claim an unclaimed task (notget -> running)")
_add_task_action("release", "Return a task to the unclaimed pool (running -> notget)")
_add_task_action("submit", "Submit a task for review (running -> checking)")
_add_task_action("approve", "Approve a reviewed task (checking -> finish)")


@router.post(
    "/tasks/{task_id}/reject", response_model=TaskOut,
    summary="Send a reviewed task back to its user with a reason (checking -> running)",
)
async def reject(runtime: RuntimeDep, actor: CurrentUser, task_id: TaskIdPath, body: RejectIn) -> Response:
    return task_response(await runtime.workflow.reject(actor, task_id, body.reason))


@router.post(
    "/tasks/{task_id}/assign", response_model=TaskOut,
    summary="Assign or reassign a task to a user, with an optional checker and group",
)
async def assign(runtime: RuntimeDep, actor: CurrentUser, task_id: TaskIdPath, body: AssignIn) -> Response:
    task = await runtime.workflow.assign(actor, task_id, body.user, checker=body.checker, group=body.group)
    return task_response(task)


@router.post(
    "/tasks/{task_id}/checker", response_model=TaskOut,
    summary="Set the checker of a task in running or checking (status unchanged)",
)
async def set_checker(runtime: RuntimeDep, actor: CurrentUser, task_id: TaskIdPath, body: SetCheckerIn) -> Response:
    return task_response(await runtime.workflow.set_checker(actor, task_id, body.checker))
