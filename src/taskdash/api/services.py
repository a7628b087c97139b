"""REST routes for the service catalogue: services with liveness and the last poll, and heartbeat timelines."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.services.liveness import ServiceState
from taskdash.store.records import ServiceRecord

router = APIRouter(prefix="/api/v1", tags=["services"])

MAX_SERVICES_PAGE = 500
MAX_TEXT_LENGTH = 512
MAX_URL_LENGTH = 2048


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


@router.get("/services", summary="List task services with liveness and the last poll, filtered and paginated")
async def list_services(
    runtime: RuntimeDep,
    user: CurrentUser,
    state: ServiceState | None = None,
    text: Annotated[str, Query(max_length=MAX_TEXT_LENGTH, description="Part of the URL, name or type")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_SERVICES_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ServiceList:
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

    page = matching[offset:offset + limit]
    return ServiceList(
        services=[service_out(record, record_state) for record, record_state in page], total=len(matching),
        counts=counts, blind_reason=snapshot.blind_reason, blind_since=snapshot.blind_since, judged_at=snapshot.at,
    )


@router.get("/services/timeline", summary="Heartbeats of one service over the last minutes, in time buckets")
async def service_timeline(
    runtime: RuntimeDep,
    user: CurrentUser,
    url: Annotated[str, Query(min_length=1, max_length=MAX_URL_LENGTH, description="The service URL")],
) -> TimelineOut:
    timeline = runtime.timeline
    buckets = [TimelineBucket(at=at, heartbeats=count) for at, count in timeline.timeline(url, time.time())]
    return TimelineOut(url=url, bucket_seconds=timeline.bucket_seconds, buckets=buckets)
