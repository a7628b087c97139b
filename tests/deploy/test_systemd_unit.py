"""deploy/taskdash.service and deploy/taskdash.env.example, checked by reading them.

`systemd-analyze verify` checks the unit's syntax where systemd is installed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from taskdash.config import Settings
from tests.deploy.conftest import DEPLOY, read_env_file, read_unit_file

UNIT = DEPLOY / "taskdash.service"
ENV_EXAMPLE = DEPLOY / "taskdash.env.example"


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return read_unit_file(UNIT)["Service"]


def single(service: dict[str, list[str]], key: str) -> str:
    (value,) = service[key]
    return value


def state_directory(service: dict[str, list[str]]) -> PurePosixPath:
    return PurePosixPath("/var/lib") / single(service, "StateDirectory")


def test_unit_exec_start_runs_serve(service: dict[str, list[str]]) -> None:
    command = shlex.split(single(service, "ExecStart"))

    assert PurePosixPath(command[0]).name == "taskdash"
    assert command[1:] == ["serve"]


def test_unit_dedicated_user(service: dict[str, list[str]]) -> None:
    assert single(service, "User") == "taskdash"
    assert single(service, "Group") == "taskdash"


def test_unit_reads_environment_file(service: dict[str, list[str]]) -> None:
    assert single(service, "EnvironmentFile") == "/etc/taskdash/taskdash.env"


def test_unit_restarts_on_failure(service: dict[str, list[str]]) -> None:
    assert single(service, "Restart") == "on-failure"


@pytest.mark.parametrize(
    ("key", "value"), [("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"), ("ProtectSystem", "strict")]
)
def test_unit_hardening(service: dict[str, list[str]], key: str, value: str) -> None:
    assert single(service, key) == value


def test_unit_state_directory_writable(service: dict[str, list[str]]) -> None:
    writable = [PurePosixPath(path) for value in service["ReadWritePaths"] for path in value.split()]

    assert state_directory(service) in writable
    assert PurePosixPath(single(service, "WorkingDirectory")) == state_directory(service)


def test_env_example_database_in_state_directory(service: dict[str, list[str]]) -> None:
    # With ProtectSystem=strict, SQLite can create its -wal and -shm files only in a writable directory.
    database_url = read_env_file(ENV_EXAMPLE)["TASKDASH_DATABASE_URL"]
    path = PurePosixPath(database_url.removeprefix("sqlite:///"))

    assert database_url.startswith("sqlite:////")
    assert path.parent == state_directory(service)


def test_env_example_variables_are_settings() -> None:
    names = set(read_env_file(ENV_EXAMPLE, include_commented=True))
    fields = {f"TASKDASH_{name.upper()}" for name in Settings.model_fields}

    assert names - fields == set()


@pytest.mark.parametrize("include_commented", [False, True], ids=["active", "with-commented"])
def test_env_example_values_valid(include_commented: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    variables = read_env_file(ENV_EXAMPLE, include_commented=include_commented)
    # Empty in the example on purpose: TaskDash rejects an empty password.
    if variables.get("TASKDASH_ADMIN_PASSWORD") == "":
        variables["TASKDASH_ADMIN_PASSWORD"] = "a valid password"
    if variables.get("TASKDASH_INTAKE_TOKEN") == "":
        variables["TASKDASH_INTAKE_TOKEN"] = "a-token"
    for name in [name for name in os.environ if name.startswith("TASKDASH_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    settings = Settings()

    assert settings.log_format == "json"
    assert settings.database_url == variables["TASKDASH_DATABASE_URL"]


def test_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is not installed: run scripts/install-debian-packages.sh as root")
    # The unit's ExecStart must exist for `verify`, so the copy points at this virtual environment's taskdash.
    installed = Path(sys.executable).parent / "taskdash"
    unit_text = UNIT.read_text(encoding="utf-8").replace("/opt/taskdash/bin/taskdash", str(installed))
    (tmp_path / UNIT.name).write_text(unit_text, encoding="utf-8")

    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / UNIT.name)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
