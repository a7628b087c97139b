"""The `taskdash` command: `serve`, and the admin commands a deployment needs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from pydantic import ValidationError

from taskdash import __version__
from taskdash.accounts import admin
from taskdash.accounts.roles import Role
from taskdash.config import DEFAULT_DATABASE_URL, Settings, load_settings
from taskdash.errors import TaskDashError
from taskdash.logs import configure_logging
from taskdash.migration.command import migrate
from taskdash.store import open_store
from taskdash.store.protocol import Repository

T = TypeVar("T")


def _settings_or_exit(config_file: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config_file, **overrides)
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in item['loc']) or 'settings'}: {item['msg']}" for item in error.errors()
        )
        raise click.UsageError(f"invalid settings:\n{problems}") from None
    except ValueError as error:
        raise click.UsageError(str(error)) from None


config_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), envvar="TASKDASH_CONFIG",
    help="TOML file with settings (keys as in TASKDASH_* without the prefix, in lower case).",
)
database_option = click.option(
    "--database-url", help=f"Store URL: sqlite:///PATH or mongodb://HOST:PORT/DATABASE [default: {DEFAULT_DATABASE_URL}]"
)


@click.group()
@click.version_option(__version__, prog_name="taskdash")
def main() -> None:
    """TaskDash: task service catalogue, task metadata and task workflow."""


@main.command()
@config_option
@database_option
@click.option("--host", help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [default: 8600].")
@click.option("--nsqd-tcp-address", "nsqd_tcp_addresses", multiple=True, help="nsqd TCP address HOST:PORT; repeatable.")
@click.option(
    "--lookupd-http-address", "lookupd_http_addresses", multiple=True,
    help="nsqlookupd HTTP address HOST:PORT; repeatable.",
)
@click.option("--service-topic", help="NSQ topic of registrations [default: taskService].")
@click.option("--heartbeat-topic", help="NSQ topic of heartbeats [default: heartBeat].")
@click.option("--channel", help="NSQ channel shared by all instances [default: taskdash].")
@click.option("--events-topic", help="NSQ topic that shares change events between instances [default: taskdash_events].")
@click.option("--suspect-after", type=float, help="Seconds without heartbeat before a service is suspect [default: 15].")
@click.option("--offline-after", type=float, help="Seconds without heartbeat before a service is offline [default: 30].")
@click.option("--poll-interval", type=float, help="Seconds between polls of one service [default: 10].")
@click.option(
    "--poll-lease-seconds", type=float,
    help="Seconds of one poll lease term; a stopped instance's services move to another within it [default: 30].",
)
@click.option("--poll-method", type=click.Choice(["get", "post"]), help="GET, or POST operation=GetAllTasks [default: get].")
@click.option("--poll-timeout", type=float, help="Seconds before one poll times out [default: 10].")
@click.option("--poll-concurrency", type=int, help="Polls in flight at most [default: 16].")
@click.option(
    "--allowed-service-network", "allowed_service_networks", multiple=True,
    help="CIDR that service URLs must resolve into; repeatable [default: any].",
)
@click.option("--intake-token", help="Token that enables the HTTP intake routes [default: disabled].")
@click.option(
    "--forwarded-allow-ips",
    help="Comma-separated proxy addresses whose X-Forwarded-For is trusted, or * [default: none].",
)
@click.option("--log-format", type=click.Choice(["auto", "json", "console"]), help="Log format [default: auto].")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="Log level [default: info].")
def serve(config_file: Path | None, **options: Any) -> None:
    """Run the TaskDash server: intake, liveness, polling, REST API and /rpost/task."""
    settings = _settings_or_exit(config_file, **options)
    configure_logging(settings.log_format, settings.log_level)
    # The app opens the store again in its lifespan, where a failure would end in uvicorn's traceback.
    _run_with_store(settings, _store_opens)

    from taskdash.app import create_app

    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False,
        timeout_graceful_shutdown=10, proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


main.add_command(migrate)


@main.group()
def user() -> None:
    """Manage user accounts."""


def _run_with_store(settings: Settings, work: Callable[[Repository], Awaitable[T]]) -> T:
    async def run() -> T:
        store = await open_store(settings.database_url)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except TaskDashError as error:
        raise click.ClickException(error.detail) from None


async def _store_opens(store: Repository) -> None:
    """Do nothing: `_run_with_store` has opened the store, which is the check."""


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    raise click.UsageError("no password given: pass --password-stdin and write the password to standard input")


role_choice = click.Choice([role.value for role in Role])
password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


@user.command("add")
@click.argument("name")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice([role.value for role in Role]),
    help="Role of the user; repeatable.",
)
@click.option("--group", "groups", multiple=True, help="Group the user belongs to; repeatable.")
@click.option("--display-name", default="", help="Name shown in the dashboard [default: NAME].")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@config_option
@database_option
def user_add(
    name: str, roles: tuple[str, ...], groups: tuple[str, ...], display_name: str, password_stdin: bool,
    config_file: Path | None, database_url: str | None,
) -> None:
    """Create user NAME with an Argon2id-hashed password."""
    password = _read_password(password_stdin)
    settings = _settings_or_exit(config_file, database_url=database_url)
    _run_with_store(settings, lambda store: admin.add_user(store, None, name, password, roles, groups, display_name))
    click.echo(f"user {name} created with roles {', '.join(sorted(roles))}")


@user.command("list")
@config_option
@database_option
def user_list(config_file: Path | None, database_url: str | None) -> None:
    """List user accounts with their roles and groups."""
    settings = _settings_or_exit(config_file, database_url=database_url)
    users = _run_with_store(settings, lambda store: store.list_users())
    for account in users:
        state = " (disabled)" if account.disabled else ""
        click.echo(f"{account.username}\troles={','.join(account.roles)}\tgroups={','.join(account.groups)}{state}")


@user.command("set-roles")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=role_choice, help="Role of the user; repeatable.")
@config_option
@database_option
def user_set_roles(name: str, roles: tuple[str, ...], config_file: Path | None, database_url: str | None) -> None:
    """Replace the roles of user NAME."""
    settings = _settings_or_exit(config_file, database_url=database_url)
    account = _run_with_store(settings, lambda store: admin.set_roles(store, None, name, roles))
    click.echo(f"user {name} now has roles {', '.join(account.roles)}")


@user.command("set-groups")
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="Group the user belongs to; repeatable.")
@click.option("--no-groups", is_flag=True, help="Remove the user from every group.")
@config_option
@database_option
def user_set_groups(
    name: str, groups: tuple[str, ...], no_groups: bool, config_file: Path | None, database_url: str | None
) -> None:
    """Replace the groups of user NAME."""
    if bool(groups) == no_groups:
        raise click.UsageError("pass --group at least once, or --no-groups to remove the user from every group")
    settings = _settings_or_exit(config_file, database_url=database_url)
    account = _run_with_store(settings, lambda store: admin.set_groups(store, None, name, groups))
    click.echo(f"user {name} now belongs to groups: {', '.join(account.groups) or '(none)'}")


@user.command("disable")
@click.argument("name")
@config_option
@database_option
def user_disable(name: str, config_file: Path | None, database_url: str | None) -> None:
    """Disable user NAME and log them out on every instance."""
    settings = _settings_or_exit(config_file, database_url=database_url)
    _run_with_store(settings, lambda store: admin.set_disabled(store, None, name, True))
    click.echo(f"user {name} disabled and logged out")


@user.command("enable")
@click.argument("name")
@config_option
@database_option
def user_enable(name: str, config_file: Path | None, database_url: str | None) -> None:
    """Enable user NAME again."""
    settings = _settings_or_exit(config_file, database_url=database_url)
    _run_with_store(settings, lambda store: admin.set_disabled(store, None, name, False))
    click.echo(f"user {name} enabled")


@user.command("passwd")
@click.argument("name")
@password_stdin_option
@config_option
@database_option
def user_passwd(name: str, password_stdin: bool, config_file: Path | None, database_url: str | None) -> None:
    """Set a new password for user NAME and log them out on every instance."""
    password = _read_password(password_stdin)
    settings = _settings_or_exit(config_file, database_url=database_url)
    _run_with_store(settings, lambda store: admin.reset_password(store, None, name, password))
    click.echo(f"password of user {name} changed; their sessions are logged out")


if __name__ == "__main__":
    main()
