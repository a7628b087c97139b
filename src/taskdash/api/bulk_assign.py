"""REST route for bulk assignment, with a dry-run preview: `POST /api/v1/tasks/bulk-assign`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.api.errors import request_language
from taskdash.api.task_params import TaskFilterFields
from taskdash.api.tasks import MAX_ID_LENGTH, MAX_NAME_LENGTH
from taskdash.errors import error_message
from taskdash.store.records import TaskQuery
from taskdash.tasks.bulk import MAX_BULK_TASKS, BulkItem, BulkTarget

router = APIRouter(prefix="/api/v1", tags=["tasks"])

TaskId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class BulkFilterIn(TaskFilterFields):
    """The filter of the task list; an empty field does not filter."""

    def query(self) -> TaskQuery:
        return self.to_task_query(include_missing=False)


class BulkAssignIn(BaseModel):
    task_ids: list[TaskId] | None = Field(
        None, min_length=1, max_length=MAX_BULK_TASKS, description="The selection; give this or `filter`"
    )
    filter: BulkFilterIn | None = Field(None, description="Assign the oldest `limit` tasks that match; give this or `task_ids`")
    limit: int = Field(MAX_BULK_TASKS, ge=1, le=MAX_BULK_TASKS, description="At most this many tasks of `filter`")
    user: str = Field("", max_length=MAX_NAME_LENGTH, description="The one assignee; give this or `round_robin_group`")
    round_robin_group: str = Field(
        "", max_length=MAX_NAME_LENGTH,
        description="Spread the tasks over this group's editors, fewest tasks in work first",
    )
    checker: str = Field("", max_length=MAX_NAME_LENGTH)
    group: str = Field("", max_length=MAX_NAME_LENGTH, description="Group written on the tasks; default the round-robin group")
    dry_run: bool = Field(False, description="Only return the plan; assign nothing")


class BulkItemOut(BaseModel):
    task_id: str
    user: str = Field(description="The planned or new assignee; empty when the task fails")
    ok: bool
    errid: int | None
    errmsg: str | None = Field(description="Why the task fails, in the request's language")
    detail: str | None


class BulkAssignOut(BaseModel):
    dry_run: bool
    items: list[BulkItemOut]
    ok: int = Field(ge=0, description="Tasks assigned, or that would be assigned in a dry run")
    failed: int = Field(ge=0)
    total_matching: int = Field(ge=0, description="Tasks that match the filter, past `limit` too; for a selection its size")
    per_user: dict[str, int] = Field(description="Number of tasks per assignee")


def item_out(item: BulkItem, language: str) -> BulkItemOut:
    if item.error is None:
        return BulkItemOut(task_id=item.task_id, user=item.user, ok=True, errid=None, errmsg=None, detail=None)
    return BulkItemOut(
        task_id=item.task_id, user="", ok=False, errid=int(item.error.errid),
        errmsg=error_message(item.error.errid, language), detail=item.error.detail,
    )


@router.post(
    "/tasks/bulk-assign",
    summary="Assign a selection or a filtered list of tasks to one user or round-robin over a group, or preview it",
)
async def bulk_assign(request: Request, runtime: RuntimeDep, actor: CurrentUser, body: BulkAssignIn) -> BulkAssignOut:
    target = BulkTarget(user=body.user, round_robin_group=body.round_robin_group, checker=body.checker, group=body.group)
    plan = await runtime.workflow.bulk_assign(
        actor, target, task_ids=body.task_ids, query=body.filter.query() if body.filter else None, limit=body.limit,
        dry_run=body.dry_run,
    )
    language = request_language(request)
    items = [item_out(item, language) for item in plan.items]
    ok = sum(1 for item in items if item.ok)
    return BulkAssignOut(
        dry_run=body.dry_run, items=items, ok=ok, failed=len(items) - ok, total_matching=plan.total_matching,
        per_user=dict(plan.per_user),
    )
