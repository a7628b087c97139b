"""Store URLs of `taskdash migrate`: validation, identity, masking and same-store detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskdash.migration.urls import mask_password, parse_store_url, same_store


def test_sqlite_identity_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    url = parse_store_url("sqlite:///data/taskdash.db", "--from")

    assert url.backend == "sqlite"
    assert url.identity == f"sqlite:///{tmp_path / 'data' / 'taskdash.db'}"
    assert url.display == "sqlite:///data/taskdash.db"


def test_mongodb_identity_ignores_credentials_and_options() -> None:
    with_options = parse_store_url("mongodb://alice:s3cret@Db-2:27018,db-1/taskdash?replicaSet=rs0", "--to")
    plain = parse_store_url("mongodb://db-1:27017,db-2:27018/taskdash", "--to")

    assert with_options.identity == "mongodb://db-1:27017,db-2:27018/taskdash"
    assert with_options.identity == plain.identity


def test_mongodb_default_database_is_taskdash() -> None:
    assert parse_store_url("mongodb://127.0.0.1", "--to").identity == "mongodb://127.0.0.1:27017/taskdash"


def test_mongodb_ipv6_host_gets_default_port() -> None:
    assert parse_store_url("mongodb://[::1]/x", "--to").identity == "mongodb://[::1]:27017/x"
    assert parse_store_url("mongodb://[::1]:5/x", "--to").identity == "mongodb://[::1]:5/x"


def test_mongodb_srv_has_no_port() -> None:
    assert parse_store_url("mongodb+srv://cluster.example/x", "--to").identity == "mongodb+srv://cluster.example/x"


def test_display_masks_password_and_options() -> None:
    url = parse_store_url("mongodb://alice:s3cret@db:27017/taskdash?tlsCertificateKeyFilePassword=pw", "--to")

    assert url.display == "mongodb://alice:***@db:27017/taskdash?…"


def test_display_keeps_user_without_password() -> None:
    assert parse_store_url("mongodb://alice@db/x", "--to").display == "mongodb://alice@db/x"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("mongodb://u:p@h/db", "mongodb://u:***@h/db"),
        ("mongodb://u:p@ss@h/db", "mongodb://u:***@h/db"),
        ("postgres://root:pw@h:5432/x", "postgres://root:***@h:5432/x"),
        ("mongodb://h/db?x=a@b", "mongodb://h/db?x=a@b"),
        ("sqlite:///a@b.db", "sqlite:///a@b.db"),
    ],
)
def test_mask_password(url: str, masked: str) -> None:
    assert mask_password(url) == masked


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("sqlite:///", "the path is empty"),
        ("sqlite://x.db", "expected sqlite:///PATH or mongodb://HOST:PORT/DATABASE"),
        ("mongodb:///x", "the host is missing"),
        ("mongodb://h/x/y", "'x/y' is not a database name"),
        ("redis://h:6379", "expected sqlite:///PATH"),
        ("", "expected sqlite:///PATH"),
    ],
)
def test_invalid_url_names_option_and_reason(value: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_store_url(value, "--from")

    assert str(raised.value).startswith("invalid --from ")
    assert reason in str(raised.value)


def test_invalid_url_message_leaves_out_options() -> None:
    with pytest.raises(ValueError) as raised:
        parse_store_url("mongodb://u:pw@h/a/b?tlsCertificateKeyFilePassword=secret", "--to")

    assert "'mongodb://u:***@h/a/b?…'" in str(raised.value)
    assert "secret" not in str(raised.value)


def test_same_store_through_symlink(tmp_path: Path) -> None:
    (tmp_path / "a.db").write_bytes(b"")
    (tmp_path / "b.db").symlink_to(tmp_path / "a.db")

    first = parse_store_url(f"sqlite:///{tmp_path / 'a.db'}", "--from")
    second = parse_store_url(f"sqlite:///{tmp_path / 'b.db'}", "--to")

    assert same_store(first, second)


def test_different_files_are_not_the_same_store(tmp_path: Path) -> None:
    (tmp_path / "a.db").write_bytes(b"")

    first = parse_store_url(f"sqlite:///{tmp_path / 'a.db'}", "--from")
    second = parse_store_url(f"sqlite:///{tmp_path / 'new.db'}", "--to")

    assert not same_store(first, second)


def test_same_mongodb_database_by_other_spelling() -> None:
    first = parse_store_url("mongodb://user:pw@LOCALHOST/taskdash?authSource=admin", "--from")
    second = parse_store_url("mongodb://localhost:27017", "--to")

    assert same_store(first, second)


def test_other_mongodb_database_is_not_the_same_store() -> None:
    first = parse_store_url("mongodb://localhost/taskdash", "--from")
    second = parse_store_url("mongodb://localhost/taskdash2", "--to")

    assert not same_store(first, second)
