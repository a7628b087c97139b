"""REST routes for the service catalogue: services with liveness and the last poll, CSV export, heartbeat timelines."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from taskdash.api import csv_export
from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.runtime import Runtime
from taskdash.services.liveness import LivenessSnapshot, ServiceState
from taskdash.store.records import ServiceRecord

router = APIRouter(prefix="/api/v1", tags=["services"])

MAX_SERVICES_PAGE = 500
MAX_TEXT_LENGTH = 512
MAX_URL_LENGTH = 2048

StateFilter = Annotated[ServiceState | None, Query(description="Only services in this state")]
TextFilter = Annotated[
    str, Query(max_length=MAX_TEXT_LENGTH, description="Part of the URL, name or type, ignoring case"),
]

CSV_COLUMNS = (
    "url", "name", "type", "reserved", "state", "registered", "last_heartbeat_at", "heartbeat_age_seconds",
    "clock_skew_seconds", "last_poll_at", "last_poll_ok", "last_poll_error", "poll_failures", "task_count",
)


class ServiceOut(BaseModel):
    url: str
    name: str
    type: str
    reserved: str
    extra: dict[str, Any]
    registered: bool = Field(description="False while the service is known only from heartbeats")
    status: ServiceState
    last_heartbeat_at: float | None = Field(description="When nsqd accepted the last heartbeat, in server time")
    last_heartbeat_received_at: float | None
    last_sender_time: float | None = Field(description="The `time` field of the last heartbeat, in the sender's clock")
    clock_skew: float | None = Field(description="Sender clock minus server clock, in seconds")
    last_poll_at: float | None
    last_poll_ok: bool | None
    last_poll_error: str
    poll_failures: int = Field(description="Failed polls in a row")
    task_count: int


class StateCounts(BaseModel):
    online: int = 0
    suspect: int = 0
    offline: int = 0
    unknown: int = 0


class ServiceList(BaseModel):
    services: list[ServiceOut] = Field(description="One page, ordered by URL")
    total: int = Field(ge=0, description="Services that match the filters, on all pages")
    counts: StateCounts = Field(description="Services per state, of all services, without the filters")
    blind_reason: str | None = Field(description="starting, intake_disconnected or mass_silence while TaskDash is blind")
    blind_since: float | None
    judged_at: float = Field(description="Server time of the liveness judgement, for computing heartbeat ages")


class TimelineBucket(BaseModel):
    at: float = Field(description="Start of the bucket, Unix seconds")
    heartbeats: int = Field(ge=0)


class TimelineOut(BaseModel):
    url: str
    bucket_seconds: int
    buckets: list[TimelineBucket] = Field(description="Oldest first, ending with the current bucket")


def service_out(record: ServiceRecord, state: ServiceState) -> ServiceOut:
    return ServiceOut(
        url=record.url, name=record.name, type=record.type, reserved=record.reserved, extra=record.extra,
        registered=record.registered, status=state, last_heartbeat_at=record.last_heartbeat_at,
        last_heartbeat_received_at=record.last_heartbeat_received_at, last_sender_time=record.last_sender_time,
        clock_skew=record.clock_skew, last_poll_at=record.last_poll_at, last_poll_ok=record.last_poll_ok,
        last_poll_error=record.last_poll_error, poll_failures=record.poll_failures, task_count=record.task_count,
    )


def matches_text(record: ServiceRecord, text: str) -> bool:
    needle = text.casefold()
    return needle in record.url.casefold() or needle in record.name.casefold() or needle in record.type.casefold()


async def filter_services(
    runtime: Runtime, state: ServiceState | None, text: str
) -> tuple[list[tuple[ServiceRecord, ServiceState]], StateCounts, LivenessSnapshot]:
    """Return the matching services with their states, the counts per state of all services, and the snapshot.

    The snapshot is the liveness judgement that gave the states; services are ordered by URL.
    """
    snapshot = runtime.monitor.snapshot
    counts = StateCounts()
    matching: list[tuple[ServiceRecord, ServiceState]] = []
    for record in await runtime.store.list_services():
        record_state = snapshot.states.get(record.url, ServiceState.UNKNOWN)
        setattr(counts, record_state.value, getattr(counts, record_state.value) + 1)
        if state is not None and record_state is not state:
            continue
        if text and not matches_text(record, text):
            continue
        matching.append((record, record_state))
    return matching, counts, snapshot


def service_csv_row(service: ServiceOut, judged_at: float) -> list[str]:
    """Return the cells of `service` in the order of CSV_COLUMNS; heartbeat ages are counted to `judged_at`."""
    age = None if service.last_heartbeat_at is None else max(0, round(judged_at - service.last_heartbeat_at))
    return [
        csv_export.safe_cell(service.url), csv_export.safe_cell(service.name), csv_export.safe_cell(service.type),
        csv_export.safe_cell(service.reserved), service.status.value, csv_export.flag(service.registered),
        csv_export.optional_iso_utc(service.last_heartbeat_at), "" if age is None else str(age),
        "" if service.clock_skew is None else f"{service.clock_skew:.3f}",
        csv_export.optional_iso_utc(service.last_poll_at), csv_export.flag(service.last_poll_ok),
        csv_export.safe_cell(service.last_poll_error), str(service.poll_failures), str(service.task_count),
    ]


@router.get("/services", summary="List task services with liveness and the last poll, filtered and paginated")
async def list_services(
    runtime: RuntimeDep,
    user: CurrentUser,
    state: StateFilter = None,
    text: TextFilter = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SERVICES_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ServiceList:
    matching, counts, snapshot = await filter_services(runtime, state, text)

    page = matching[offset:offset + limit]
    return ServiceList(
        services=[service_out(record, record_state) for record, record_state in page], total=len(matching),
        counts=counts, blind_reason=snapshot.blind_reason, blind_since=snapshot.blind_since, judged_at=snapshot.at,
    )


@router.get(
    "/services/export.csv",
    summary="Export the task services that match the filters of the service list as CSV, ordered by URL",
    description="Columns: " + ", ".join(CSV_COLUMNS) + ". `heartbeat_age_seconds` is counted up to the liveness "
    "judgement that gave the states; `clock_skew_seconds` is the sender's clock minus the server's.",
    response_class=StreamingResponse,
    responses=csv_export.CSV_RESPONSES,
)
async def export_services(
    runtime: RuntimeDep, user: CurrentUser, state: StateFilter = None, text: TextFilter = ""
) -> StreamingResponse:
    matching, _, snapshot = await filter_services(runtime, state, text)

    services = (service_out(record, record_state) for record, record_state in matching)
    chunks = csv_export.table_chunks(CSV_COLUMNS, services, lambda service: service_csv_row(service, snapshot.at))
    return csv_export.csv_response(chunks, "services.csv")


@router.get("/services/timeline", summary="Heartbeats of one service over the last minutes, in time buckets")
async def service_timeline(
    runtime: RuntimeDep,
    user: CurrentUser,
    url: Annotated[str, Query(min_length=1, max_length=MAX_URL_LENGTH, description="The service URL")],
) -> TimelineOut:
    timeline = runtime.timeline
    buckets = [TimelineBucket(at=at, heartbeats=count) for at, count in timeline.timeline(url, time.time())]
    return TimelineOut(url=url, bucket_seconds=timeline.bucket_seconds, buckets=buckets)
