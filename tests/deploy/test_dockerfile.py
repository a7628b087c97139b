"""deploy/Dockerfile and .dockerignore, checked by reading them (no Docker engine runs in the tests)."""

from __future__ import annotations

import json
import posixpath
import re

import pytest

from taskdash.config import Settings
from tests.deploy.conftest import DEPLOY, ROOT, Stage, read_dockerfile


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return read_dockerfile(DEPLOY / "Dockerfile")


def vite_out_dir() -> str:
    """Return build.outDir of web/vite.config.ts, relative to web/."""
    config = (ROOT / "web" / "vite.config.ts").read_text(encoding="utf-8")
    # Either `outDir: fileURLToPath(...)` inside build, or `const outDir = fileURLToPath(...)` above it.
    match = re.search(r"outDir\s*[:=]\s*fileURLToPath\(new URL\('([^']+)',\s*import\.meta\.url\)\)", config)
    assert match, "web/vite.config.ts sets no outDir with fileURLToPath(new URL(...))"
    return match.group(1)


def environment(stage: Stage) -> dict[str, str]:
    """Return the variables of the stage's ENV instructions (KEY=value form only)."""
    variables = {}
    for argument in stage.arguments("ENV"):
        for pair in argument.split():
            name, separator, value = pair.partition("=")
            assert separator, f"ENV {argument!r}: use the KEY=value form"
            variables[name] = value
    return variables


def exec_form(argument: str) -> list[str]:
    """Return a JSON-array instruction argument as a list, and fail on the shell form."""
    value = json.loads(argument)
    assert isinstance(value, list), f"{argument!r} is not in exec form"
    return value


def test_web_stage_builds_dashboard(stages: list[Stage]) -> None:
    web = stages[0]
    runs = " && ".join(web.arguments("RUN"))

    assert web.image.startswith("node:20")
    assert "npm ci" in runs
    assert "npm run build" in runs
    assert web.arguments("WORKDIR")[-1].endswith("/web")


def test_dashboard_copied_from_vite_out_dir(stages: list[Stage]) -> None:
    web = stages[0]
    built = posixpath.normpath(posixpath.join(web.arguments("WORKDIR")[-1], vite_out_dir()))
    copies = [argument.split() for argument in stages[1].arguments("COPY") if argument.startswith("--from=")]

    assert [f"--from={web.name}", built + "/", "src/taskdash/web/dist/"] in copies


def test_package_stage_installs_source(stages: list[Stage]) -> None:
    build = stages[1]
    copies = " ".join(build.arguments("COPY"))
    runs = " ".join(build.arguments("RUN"))

    assert build.image == "python:3.11-slim"
    for path in ("pyproject.toml", "README.md", "src/"):
        assert path in copies
    assert re.search(r"pip install \.(\s|$)", runs)
    assert "taskdash/web/dist/index.html" in runs


def test_runtime_stage_image(stages: list[Stage]) -> None:
    runtime = stages[-1]

    assert runtime.image == "python:3.11-slim"
    assert runtime.arguments("COPY") == [f"--from={stages[1].name} /opt/taskdash /opt/taskdash"]


def test_runtime_runs_as_non_root(stages: list[Stage]) -> None:
    users = stages[-1].arguments("USER")

    assert users, "the runtime stage sets no USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_runtime_exposes_8600(stages: list[Stage]) -> None:
    assert stages[-1].arguments("EXPOSE") == ["8600"]


def test_runtime_environment(stages: list[Stage]) -> None:
    variables = environment(stages[-1])
    fields = {f"TASKDASH_{name.upper()}" for name in Settings.model_fields}

    assert variables["TASKDASH_HOST"] == "0.0.0.0"
    assert variables["TASKDASH_LOG_FORMAT"] == "json"
    assert variables["TASKDASH_PORT"] == "8600"
    assert {name for name in variables if name.startswith("TASKDASH_")} <= fields


def test_runtime_database_in_data_directory(stages: list[Stage]) -> None:
    runtime = stages[-1]
    database_url = environment(runtime)["TASKDASH_DATABASE_URL"]
    setup = " ".join(runtime.arguments("RUN"))

    assert database_url == "sqlite:////var/lib/taskdash/data/taskdash.db"
    assert "mkdir -p /var/lib/taskdash/data" in setup
    assert "chown -R taskdash:taskdash /var/lib/taskdash" in setup


def test_runtime_starts_taskdash_serve(stages: list[Stage]) -> None:
    runtime = stages[-1]
    command = exec_form(runtime.arguments("ENTRYPOINT")[-1]) + exec_form(runtime.arguments("CMD")[-1])

    assert command == ["taskdash", "serve"]


def test_healthcheck_uses_python(stages: list[Stage]) -> None:
    (healthcheck,) = stages[-1].arguments("HEALTHCHECK")
    command = exec_form(healthcheck[healthcheck.index("CMD") + len("CMD"):].strip())

    assert command[0] == "python"
    assert re.search(r"/(healthz|readyz)'", command[-1])


@pytest.mark.parametrize(
    "pattern", [".venv", "**/node_modules", ".tools", "data", "bench-output", "test-output", ".git"]
)
def test_dockerignore_excludes(pattern: str) -> None:
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert pattern in patterns
