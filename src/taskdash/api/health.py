"""Health, readiness and metrics endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from taskdash.api.deps import RuntimeDep
from taskdash.errors import TaskDashError

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process responds")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the store and NSQ are connected",
    responses={503: {"description": "Not ready: `checks` names each dependency that is not \"ok\" and why"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks = runtime.readiness()
    try:
        await runtime.store.ping()
    except TaskDashError as error:
        checks["store"] = error.detail
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
