"""Versioned schema migrations for the SQLite store.

Each entry runs once, in order, inside one transaction, and its number is
recorded in `schema_migration`. Append new migrations; never edit one that
has shipped, because existing databases have already run it.
"""

from __future__ import annotations

import sqlite3
import time

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial schema",
        """
        CREATE TABLE service (
            url TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            type TEXT NOT NULL DEFAULT '',
            reserved TEXT NOT NULL DEFAULT '',
            extra TEXT NOT NULL DEFAULT '{}',
            registered INTEGER NOT NULL DEFAULT 0,
            first_seen_at REAL NOT NULL,
            registered_at REAL,
            last_heartbeat_at REAL,
            last_heartbeat_received_at REAL,
            last_sender_time REAL,
            last_poll_at REAL,
            last_poll_ok INTEGER,
            last_poll_error TEXT NOT NULL DEFAULT '',
            poll_failures INTEGER NOT NULL DEFAULT 0,
            archived INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE task (
            task_id TEXT PRIMARY KEY,
            service_url TEXT NOT NULL,
            status TEXT NOT NULL,
            data_type TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            service_status TEXT NOT NULL DEFAULT '',
            reserved TEXT NOT NULL DEFAULT '',
            project_id TEXT NOT NULL DEFAULT '',
            instance_id TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            create_time TEXT NOT NULL DEFAULT '',
            extra TEXT NOT NULL DEFAULT '{}',
            "user" TEXT NOT NULL DEFAULT '',
            checker TEXT NOT NULL DEFAULT '',
            group_id TEXT NOT NULL DEFAULT '',
            missing INTEGER NOT NULL DEFAULT 0,
            fingerprint TEXT NOT NULL DEFAULT '',
            version INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            claimed_at REAL
        );
        CREATE INDEX task_status_idx ON task (status, missing);
        CREATE INDEX task_service_idx ON task (service_url);
        CREATE INDEX task_user_idx ON task ("user", status);

        CREATE TABLE task_history (
            id INTEGER PRIMARY KEY,
            task_id TEXT NOT NULL,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            actor_kind TEXT NOT NULL,
            from_status TEXT NOT NULL,
            to_status TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX task_history_task_idx ON task_history (task_id, id);

        CREATE TABLE dead_letter (
            id INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            source TEXT NOT NULL,
            body BLOB NOT NULL,
            reason TEXT NOT NULL,
            received_at REAL NOT NULL
        );

        CREATE TABLE account (
            username TEXT PRIMARY KEY,
            display_name TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            roles TEXT NOT NULL,
            groups TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        );

        CREATE TABLE session (
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL
        );
        CREATE INDEX session_expiry_idx ON session (expires_at);
        """,
    ),
    (
        2,
        "indexes for task lists, keyset pagination and claim next",
        """
        DROP INDEX task_status_idx;
        CREATE INDEX task_status_created_idx ON task (status, missing, created_at, task_id);
        CREATE INDEX task_created_idx ON task (created_at, task_id);
        CREATE INDEX task_updated_idx ON task (updated_at, task_id);
        CREATE INDEX task_checker_idx ON task (checker, status);
        CREATE INDEX task_group_idx ON task (group_id, status);
        """,
    ),
]


def migrate(connection: sqlite3.Connection) -> list[int]:
    """Apply every migration the database has not run yet; return the numbers applied.

    Each migration re-reads the applied versions inside its own write
    transaction, so two processes opening a new database at once do not
    both run it.
    """
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration "
        "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    newest_known = MIGRATIONS[-1][0]
    applied = []
    for version, description, script in MIGRATIONS:
        connection.execute("BEGIN IMMEDIATE")
        try:
            done = {row[0] for row in connection.execute("SELECT version FROM schema_migration")}
            if done and max(done) > newest_known:
                raise RuntimeError(
                    f"database schema version {max(done)} is newer than this TaskDash ({newest_known}): "
                    "upgrade TaskDash"
                )
            if version not in done:
                for statement in script.split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_migration (version, description, applied_at) VALUES (?, ?, ?)",
                    (version, description, time.time()),
                )
                applied.append(version)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return applied
