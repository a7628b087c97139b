"""REST routes for the service catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from taskdash.api.deps import CurrentUser, RuntimeDep
from taskdash.services.liveness import ServiceState

router = APIRouter(prefix="/api/v1", tags=["services"])


class ServiceOut(BaseModel):
    url: str
    name: str
    type: str
    reserved: str
    extra: dict[str, Any]
    registered: bool
    status: ServiceState
    last_heartbeat_at: float | None
    last_heartbeat_received_at: float | None
    last_sender_time: float | None
    clock_skew: float | None
    last_poll_at: float | None
    last_poll_ok: bool | None
    last_poll_error: str
    poll_failures: int
    task_count: int


class ServiceList(BaseModel):
    services: list[ServiceOut]
    blind_reason: str | None
    blind_since: float | None
    judged_at: float


@router.get("/services", summary="List task services with liveness and the last poll")
async def list_services(runtime: RuntimeDep, user: CurrentUser) -> ServiceList:
    snapshot = runtime.monitor.snapshot
    services = []
    for record in await runtime.store.list_services():
        services.append(
            ServiceOut(
                url=record.url, name=record.name, type=record.type, reserved=record.reserved, extra=record.extra,
                registered=record.registered,
                status=snapshot.states.get(record.url, ServiceState.UNKNOWN),
                last_heartbeat_at=record.last_heartbeat_at,
                last_heartbeat_received_at=record.last_heartbeat_received_at,
                last_sender_time=record.last_sender_time, clock_skew=record.clock_skew,
                last_poll_at=record.last_poll_at, last_poll_ok=record.last_poll_ok,
                last_poll_error=record.last_poll_error, poll_failures=record.poll_failures,
                task_count=record.task_count,
            )
        )
    return ServiceList(
        services=services, blind_reason=snapshot.blind_reason, blind_since=snapshot.blind_since, judged_at=snapshot.at
    )
