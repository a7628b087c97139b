"""All configuration in one settings class.

Sources, highest priority first: command-line flags, `TASKDASH_*`
environment variables, the TOML file named by `--config` (or
`TASKDASH_CONFIG`), then the defaults below. List settings accept a
comma-separated string in the environment, for example
`TASKDASH_NSQD_TCP_ADDRESSES=10.0.0.5:4150,10.0.0.6:4150`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from taskdash.accounts.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

DEFAULT_DATABASE_URL = "sqlite:///./data/taskdash.db"

AddressList = Annotated[list[str], NoDecode]


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_host_port(address: str, flag: str) -> str:
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"invalid {flag} {address!r}: expected HOST:PORT, for example 127.0.0.1:4150")
    return address


class Settings(BaseSettings):
    """Settings of one TaskDash instance. Times are in seconds, sizes in bytes."""

    model_config = SettingsConfigDict(env_prefix="TASKDASH_", extra="forbid", validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(8600, ge=1, le=65535)
    # Proxies whose X-Forwarded-For and X-Forwarded-Proto are trusted; empty trusts none.
    forwarded_allow_ips: str = ""
    max_request_bytes: int = Field(4 * 1024 * 1024, ge=64 * 1024)
    database_url: str = DEFAULT_DATABASE_URL

    nsqd_tcp_addresses: AddressList = Field(default_factory=list)
    lookupd_http_addresses: AddressList = Field(default_factory=list)
    service_topic: str = Field("taskService", min_length=1, max_length=64)
    heartbeat_topic: str = Field("heartBeat", min_length=1, max_length=64)
    channel: str = Field("taskdash", min_length=1, max_length=64)
    # Change events travel between instances on this topic, one ephemeral channel per instance.
    events_topic: str = Field("taskdash_events", min_length=1, max_length=64, pattern=r"^[.a-zA-Z0-9_-]+$")
    max_in_flight: int = Field(2500, ge=1, le=100_000)
    max_message_bytes: int = Field(64 * 1024, ge=256)
    intake_flush_interval: float = Field(0.05, gt=0, le=5)
    heartbeat_resolution: float = Field(1.0, ge=0, le=10)
    intake_token: SecretStr | None = None

    suspect_after: float = Field(15.0, gt=0)
    offline_after: float = Field(30.0, gt=0)
    mass_silence_ratio: float = Field(0.5, gt=0, le=1)
    mass_silence_min_services: int = Field(3, ge=1)

    poll_interval: float = Field(10.0, gt=0)
    poll_method: Literal["get", "post"] = "get"
    poll_timeout: float = Field(10.0, gt=0)
    poll_max_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    poll_concurrency: int = Field(16, ge=1, le=1000)
    poll_max_backoff: float = Field(300.0, gt=0)
    # Length of a poll lease term: a dead instance's services move to a live one within this time.
    poll_lease_seconds: float = Field(30.0, ge=2)
    allowed_service_networks: AddressList = Field(default_factory=list)

    session_ttl: float = Field(7 * 24 * 3600.0, gt=0)
    cookie_secure: bool = False
    max_tasks_in_work: int = Field(0, ge=0)
    login_max_failures: int = Field(5, ge=1)
    login_failure_window: float = Field(300.0, gt=0)
    # Password of the `admin` user that the first start creates when the store has no users.
    admin_password: SecretStr | None = None

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("nsqd_tcp_addresses", "lookupd_http_addresses", "allowed_service_networks", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("nsqd_tcp_addresses")
    @classmethod
    def _check_nsqd(cls, value: list[str]) -> list[str]:
        return [_check_host_port(address, "--nsqd-tcp-address") for address in value]

    @field_validator("lookupd_http_addresses")
    @classmethod
    def _check_lookupd(cls, value: list[str]) -> list[str]:
        checked = []
        for address in value:
            bare = address.removeprefix("http://").removeprefix("https://").rstrip("/")
            _check_host_port(bare, "--lookupd-http-address")
            checked.append(address.rstrip("/"))
        return checked

    @field_validator("allowed_service_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"invalid --allowed-service-network {network!r}: expected a CIDR such as 10.0.0.0/8"
                ) from None
        return value

    @field_validator("admin_password", mode="before")
    @classmethod
    def _empty_admin_password_is_unset(cls, value: object) -> object:
        # An env file template often carries `TASKDASH_ADMIN_PASSWORD=` with no value.
        return None if value == "" else value

    @field_validator("admin_password")
    @classmethod
    def _check_admin_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not MIN_PASSWORD_LENGTH <= len(value.get_secret_value()) <= MAX_PASSWORD_LENGTH:
            raise ValueError(
                f"invalid TASKDASH_ADMIN_PASSWORD: it must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} "
                "characters long"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "mongodb://", "mongodb+srv://")):
            raise ValueError(
                f"invalid --database-url {value!r}: expected sqlite:///PATH or mongodb://HOST/..."
            )
        return value

    @model_validator(mode="after")
    def _check_liveness(self) -> Settings:
        if self.offline_after <= self.suspect_after:
            raise ValueError(
                f"--offline-after ({self.offline_after}) must be greater than --suspect-after ({self.suspect_after})"
            )
        if self.heartbeat_resolution >= self.suspect_after:
            raise ValueError(
                f"heartbeat_resolution ({self.heartbeat_resolution}) must be less than --suspect-after "
                f"({self.suspect_after})"
            )
        return self

    @property
    def nsq_enabled(self) -> bool:
        return bool(self.nsqd_tcp_addresses or self.lookupd_http_addresses)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from flags (`overrides`), the environment and an optional TOML file.

    Overrides whose value is None or an empty tuple count as "not given", so
    that an unset flag never hides an environment variable.
    """
    explicit = {key: value for key, value in overrides.items() if value is not None and value != ()}
    if config_file is None:
        return Settings(**explicit)

    if not config_file.is_file():
        raise ValueError(f"config file {str(config_file)!r} not found: check the --config path")
    file_settings = type(
        "FileSettings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": config_file}}
    )
    return file_settings(**explicit)
