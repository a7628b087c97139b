"""deploy/docker-compose.yml, its secrets example and its nginx entry port, checked by reading them.

No Docker engine runs in the tests, so these check what a wrong edit would
break: image tags, service wiring, and that every TASKDASH_* variable is a
real setting with a valid value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any

import pytest

from taskdash.config import Settings
from tests.deploy.conftest import DEPLOY, ROOT, read_env_file, read_nginx_config, split_command

REPLICAS = ["taskdash-1", "taskdash-2"]
NSQ_SERVICES = ["nsqlookupd", "nsqd", "nsqadmin"]
EXPECTED_SERVICES = {*NSQ_SERVICES, "mongo", *REPLICAS, "proxy"}
EVENTS_PATH = "/api/v1/events"


def nsq_version() -> str:
    """Return the nsq version that tools/nsq/go.mod requires, for example v1.3.0."""
    go_mod = (ROOT / "tools" / "nsq" / "go.mod").read_text(encoding="utf-8")
    match = re.search(r"^\s*require\s+github\.com/nsqio/nsq\s+(v\S+)", go_mod, re.MULTILINE)
    assert match, "tools/nsq/go.mod has no `require github.com/nsqio/nsq vX.Y.Z` line"
    return match.group(1)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """Return a compose service's `environment` as a dict of strings, from either of its two forms."""
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in raw.items()}


def flags(command: list[str]) -> dict[str, str]:
    """Return the --name=value flags of a command."""
    return dict(arg[2:].split("=", 1) for arg in command if arg.startswith("--") and "=" in arg)


def published_ports(service: dict[str, Any]) -> dict[int, tuple[str, int]]:
    """Return container port -> (host address, host port) of a service's short-syntax `ports`."""
    ports = {}
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        host_address = parts[0] if len(parts) == 3 else "0.0.0.0"
        ports[int(parts[-1])] = (host_address, int(parts[-2]))
    return ports


def settings_from(variables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Build Settings from exactly `variables`, as `taskdash serve` would read them from the environment."""
    for name in [name for name in os.environ if name.startswith("TASKDASH_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings()


def unknown_settings(names: set[str]) -> set[str]:
    fields = {f"TASKDASH_{name.upper()}" for name in Settings.model_fields}
    return names - fields


def test_compose_service_names(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == EXPECTED_SERVICES


@pytest.mark.parametrize("name", NSQ_SERVICES)
def test_nsq_image_pinned_to_go_module(compose: dict[str, Any], name: str) -> None:
    assert compose["services"][name]["image"] == f"nsqio/nsq:{nsq_version()}"


@pytest.mark.parametrize("name", NSQ_SERVICES)
def test_nsq_command_names_its_program(compose: dict[str, Any], name: str) -> None:
    command = split_command(compose["services"][name]["command"])
    assert command[0] == f"/{name}"


def test_nsqd_wiring(compose: dict[str, Any]) -> None:
    nsqd = compose["services"]["nsqd"]
    nsqd_flags = flags(split_command(nsqd["command"]))

    assert nsqd_flags["lookupd-tcp-address"] == "nsqlookupd:4160"
    assert nsqd_flags["broadcast-address"] == "nsqd"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in nsqd["volumes"]}
    assert mounts[nsqd_flags["data-path"]] in compose["volumes"]
    assert published_ports(nsqd)[4150][1] == 4150


def test_nsqadmin_reads_lookupd_on_loopback(compose: dict[str, Any]) -> None:
    nsqadmin = compose["services"]["nsqadmin"]

    assert flags(split_command(nsqadmin["command"]))["lookupd-http-address"] == "nsqlookupd:4161"
    assert published_ports(nsqadmin)[4171] == ("127.0.0.1", 4171)


def test_mongo_image_volume_healthcheck(compose: dict[str, Any]) -> None:
    mongo = compose["services"]["mongo"]
    image, _, tag = mongo["image"].partition(":")

    assert image == "mongo"
    assert re.fullmatch(r"\d+(\.\d+){0,2}", tag), f"mongo tag {tag!r} is not a pinned version"
    assert any(volume.split(":")[1] == "/data/db" for volume in mongo["volumes"])
    assert "mongosh" in split_command(mongo["healthcheck"]["test"])
    assert "ports" not in mongo


def test_proxy_image_pinned(compose: dict[str, Any]) -> None:
    image, _, tag = compose["services"]["proxy"]["image"].partition(":")

    assert image == "nginx"
    assert re.fullmatch(r"\d+(\.\d+){0,2}", tag), f"nginx tag {tag!r} is not a pinned version"


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_builds_from_dockerfile(compose: dict[str, Any], name: str) -> None:
    build = compose["services"][name]["build"]
    context = (DEPLOY / build["context"]).resolve()

    assert context == ROOT
    assert (context / build["dockerfile"]).is_file()


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_variables_are_settings(compose: dict[str, Any], name: str) -> None:
    variables = environment(compose["services"][name])

    assert all(variable.startswith("TASKDASH_") for variable in variables)
    assert unknown_settings(set(variables)) == set()


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_settings_valid(compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = read_env_file(DEPLOY / "secrets.env.example")
    secrets["TASKDASH_ADMIN_PASSWORD"] = "a valid password"
    settings = settings_from({**secrets, **environment(compose["services"][name])}, monkeypatch)

    assert settings.database_url == "mongodb://mongo:27017/taskdash"
    assert settings.lookupd_http_addresses == ["nsqlookupd:4161"]
    assert settings.log_format == "json"


def test_replicas_share_store_and_nsq(compose: dict[str, Any]) -> None:
    first, second = (environment(compose["services"][name]) for name in REPLICAS)

    for variable in ("TASKDASH_DATABASE_URL", "TASKDASH_LOOKUPD_HTTP_ADDRESSES", "TASKDASH_NSQD_TCP_ADDRESSES",
                     "TASKDASH_CHANNEL", "TASKDASH_EVENTS_TOPIC"):
        assert first.get(variable) == second.get(variable), variable
    assert first == second


def test_replica_addresses_name_compose_services(compose: dict[str, Any]) -> None:
    variables = environment(compose["services"]["taskdash-1"])
    database_host = variables["TASKDASH_DATABASE_URL"].removeprefix("mongodb://").split("/")[0]

    assert database_host == "mongo:27017"
    for address in variables["TASKDASH_LOOKUPD_HTTP_ADDRESSES"].split(","):
        assert address == "nsqlookupd:4161"
    for address in variables["TASKDASH_NSQD_TCP_ADDRESSES"].split(","):
        assert address == "nsqd:4150"


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_healthcheck_uses_readyz(compose: dict[str, Any], name: str) -> None:
    test = " ".join(split_command(compose["services"][name]["healthcheck"]["test"]))

    assert "http://127.0.0.1:8600/readyz" in test


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_waits_for_healthy_mongo(compose: dict[str, Any], name: str) -> None:
    assert compose["services"][name]["depends_on"]["mongo"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_admin_password_from_env_file(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    env_files = service["env_file"] if isinstance(service["env_file"], list) else [service["env_file"]]

    assert "TASKDASH_ADMIN_PASSWORD" not in environment(service)
    assert env_files == ["secrets.env"]
    assert "TASKDASH_ADMIN_PASSWORD" in read_env_file(DEPLOY / "secrets.env.example")


def test_secrets_example_variables_are_settings() -> None:
    names = set(read_env_file(DEPLOY / "secrets.env.example", include_commented=True))

    assert unknown_settings(names) == set()


def test_replicas_trust_only_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    subnet = ipaddress.ip_network(compose["networks"]["default"]["ipam"]["config"][0]["subnet"])
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]

    assert ipaddress.ip_address(proxy_address) in subnet
    for name in REPLICAS:
        assert environment(services[name])["TASKDASH_FORWARDED_ALLOW_IPS"] == proxy_address
        assert ipaddress.ip_address(services[name]["networks"]["default"]["ipv4_address"]) in subnet


def test_proxy_publishes_nginx_listen_port(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    config = read_nginx_config(DEPLOY / "nginx.conf")
    listen_ports = [int(words[0]) for words in config.block("server").values("listen")]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in proxy["volumes"]}

    assert mounts["./nginx.conf"] == "/etc/nginx/conf.d/default.conf"
    assert list(published_ports(proxy)) == listen_ports
    assert published_ports(proxy)[listen_ports[0]][1] == 8600


def test_nginx_routes_to_both_replicas(compose: dict[str, Any]) -> None:
    config = read_nginx_config(DEPLOY / "nginx.conf")
    upstream = config.block("upstream", "taskdash")
    servers = {words[0] for words in upstream.values("server")}
    server = config.block("server")

    assert servers == {f"{name}:8600" for name in REPLICAS}
    for location in server.blocks:
        assert location.values("proxy_pass") == [["http://taskdash"]], location.arguments


def test_nginx_forwards_client_headers() -> None:
    server = read_nginx_config(DEPLOY / "nginx.conf").block("server")
    headers = dict(server.values("proxy_set_header"))

    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    # A location with a proxy_set_header of its own would drop all of the server's.
    for location in server.blocks:
        assert location.values("proxy_set_header") == [], location.arguments


def test_nginx_events_unbuffered() -> None:
    server = read_nginx_config(DEPLOY / "nginx.conf").block("server")
    events = server.block("location", "=", EVENTS_PATH)

    assert events.values("proxy_buffering") == [["off"]]
    assert server.values("proxy_buffering") == []


def test_nginx_body_limit_matches_settings() -> None:
    server = read_nginx_config(DEPLOY / "nginx.conf").block("server")
    (limit,) = server.values("client_max_body_size")

    assert limit == [f"{Settings.model_fields['max_request_bytes'].default // (1024 * 1024)}m"]
