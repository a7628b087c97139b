"""Query parameters of the task lists, validated by one pydantic model per route.

FastAPI validates each declared query parameter on its own, which costs
about 10 us per parameter and request (FastAPI 0.165), more than the rest of
a cached-session request to the task list. Validating the whole query string
with one model is a single pydantic-core call. The routes then describe the
parameters in the OpenAPI document with `openapi_parameters`, because FastAPI
only documents parameters that it parses itself.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import QueryParams

from taskdash.store.paging import MAX_CURSOR_LENGTH
from taskdash.store.records import TaskQuery, TaskSort, TaskSortField
from taskdash.tasks.listing import MAX_PAGE_SIZE

MAX_NAME_LENGTH = 64
MAX_FILTER_LENGTH = 512
MAX_URL_LENGTH = 2048
# Dashboards request the same few pages again and again, on refreshes and with many users on one view.
# Parsing and validating a query string takes about 25 us, so the parameters of recent query strings are
# kept. The models are frozen, so requests can share them.
PAGE_PARAMS_CACHE_SIZE = 1024
MAX_CACHED_QUERY_BYTES = 2048

ParamsT = TypeVar("ParamsT", bound=BaseModel)


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class TaskFilterFields(BaseModel):
    """The filter fields of a task list; an empty field does not filter."""

    status: str = Field("", max_length=MAX_NAME_LENGTH)
    data_type: str = Field("", max_length=MAX_FILTER_LENGTH)
    service_url: str = Field("", max_length=MAX_URL_LENGTH)
    user: str = Field("", max_length=MAX_NAME_LENGTH)
    checker: str = Field("", max_length=MAX_NAME_LENGTH)
    group_id: str = Field("", max_length=MAX_NAME_LENGTH)
    text: str = Field("", max_length=MAX_FILTER_LENGTH, description="Substring of the task id or description")

    def to_task_query(self, include_missing: bool) -> TaskQuery:
        return TaskQuery(
            status=self.status, data_type=self.data_type,
            service_urls=(self.service_url,) if self.service_url else None, user=self.user, checker=self.checker,
            group_id=self.group_id, text=self.text, include_missing=include_missing,
        )


class TaskListParams(TaskFilterFields):
    """Filter and order of a task list."""

    # Unknown parameters are ignored, as FastAPI ignores undeclared ones.
    model_config = ConfigDict(extra="ignore", frozen=True)

    include_missing: bool = False
    sort: TaskSortField = TaskSortField.CREATED_AT
    order: SortOrder = SortOrder.ASC

    def task_query(self) -> TaskQuery:
        return self.to_task_query(self.include_missing)

    def task_sort(self) -> TaskSort:
        return TaskSort(self.sort, self.order is SortOrder.DESC)


class TaskPageParams(TaskListParams):
    """A task list's filter and order, with the page size and the cursor of the page to read."""

    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(None, max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")


def parse_query(model: type[ParamsT], request: Request) -> ParamsT:
    """Validate the query string of `request` with `model`.

    Raise RequestValidationError, as FastAPI does for declared parameters, so
    the error handler returns 400 with errid 1000 and names the parameter.
    """
    return _validate(model, request.query_params)


def page_params(request: Request) -> TaskPageParams:
    """Return the validated TaskPageParams of `request`'s query string, as `parse_query` does, from a cache."""
    query_string: bytes = request.scope["query_string"]
    if len(query_string) > MAX_CACHED_QUERY_BYTES:
        return parse_query(TaskPageParams, request)
    return _cached_page_params(query_string)


# Failed validations raise, so they are not cached.
@functools.lru_cache(maxsize=PAGE_PARAMS_CACHE_SIZE)
def _cached_page_params(query_string: bytes) -> TaskPageParams:
    return _validate(TaskPageParams, QueryParams(query_string))


def _validate(model: type[ParamsT], query_params: QueryParams) -> ParamsT:
    try:
        return model.model_validate(query_params)
    except ValidationError as error:
        problems = [{**problem, "loc": ("query", *problem["loc"])} for problem in error.errors(include_url=False)]
        raise RequestValidationError(problems) from None


async def task_list_params(request: Request) -> TaskListParams:
    return parse_query(TaskListParams, request)


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """Return the OpenAPI query parameters of `model`'s fields, with referenced schemas (enums) written inline."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    parameters = []
    for name, field_schema in schema["properties"].items():
        reference = field_schema.pop("$ref", None)
        if reference is not None:
            field_schema = {**definitions[reference.rsplit("/", 1)[-1]], **field_schema}
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": field_schema}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return parameters
