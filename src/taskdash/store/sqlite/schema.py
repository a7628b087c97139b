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
    (
        3,
        "indexes for task lists filtered by status and data type, and task counts kept by triggers",
        """
        CREATE INDEX task_status_type_created_idx ON task (status, data_type, missing, created_at, task_id);
        CREATE INDEX task_status_type_updated_idx ON task (status, data_type, missing, updated_at, task_id);
        CREATE INDEX task_status_type_id_idx ON task (status, data_type, missing, task_id);

        -- The number of tasks per (status, data_type, missing), so that the total of a task list
        -- filtered on these columns only is a sum over a few rows instead of a scan of the tasks.
        -- Rows whose count falls to 0 stay.
        CREATE TABLE task_count (
            status TEXT NOT NULL,
            data_type TEXT NOT NULL,
            missing INTEGER NOT NULL,
            tasks INTEGER NOT NULL,
            PRIMARY KEY (status, data_type, missing)
        ) WITHOUT ROWID;
        INSERT INTO task_count (status, data_type, missing, tasks)
            SELECT status, data_type, missing, count(*) FROM task GROUP BY status, data_type, missing;

        CREATE TRIGGER task_count_insert AFTER INSERT ON task BEGIN
            INSERT INTO task_count (status, data_type, missing, tasks) VALUES (NEW.status, NEW.data_type, NEW.missing, 1)
                ON CONFLICT (status, data_type, missing) DO UPDATE SET tasks = tasks + 1;
        END;
        CREATE TRIGGER task_count_delete AFTER DELETE ON task BEGIN
            UPDATE task_count SET tasks = tasks - 1
                WHERE status = OLD.status AND data_type = OLD.data_type AND missing = OLD.missing;
        END;
        CREATE TRIGGER task_count_update AFTER UPDATE OF status, data_type, missing ON task
            WHEN OLD.status IS NOT NEW.status OR OLD.data_type IS NOT NEW.data_type OR OLD.missing IS NOT NEW.missing
        BEGIN
            UPDATE task_count SET tasks = tasks - 1
                WHERE status = OLD.status AND data_type = OLD.data_type AND missing = OLD.missing;
            INSERT INTO task_count (status, data_type, missing, tasks) VALUES (NEW.status, NEW.data_type, NEW.missing, 1)
                ON CONFLICT (status, data_type, missing) DO UPDATE SET tasks = tasks + 1;
        END;
        """,
    ),
    (
        4,
        "poll leases: which instance polls which service in each term",
        """
        CREATE TABLE poll_lease (
            service_url TEXT NOT NULL,
            term INTEGER NOT NULL,
            owner TEXT NOT NULL,
            PRIMARY KEY (service_url, term)
        ) WITHOUT ROWID;
        CREATE INDEX poll_lease_owner_idx ON poll_lease (owner, term);
        """,
    ),
    (
        5,
        "an index by status, data type and update time that covers the keys of a task page",
        """
        -- A task page first reads the id, version and update time of its rows (see task_json.py). With the
        -- version in this index, a page filtered by status and data type and sorted by update time reads
        -- them from the index alone. Every write of a task changes its version and its update time
        -- together, so the version costs the index no extra writes.
        DROP INDEX task_status_type_updated_idx;
        CREATE INDEX task_status_type_updated_idx ON task (status, data_type, missing, updated_at, task_id, version);
        """,
    ),
]


def split_statements(script: str) -> list[str]:
    """Split an SQL script into its statements, keeping each trigger body whole."""
    statements = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \t\n;"):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending.strip()[:80]!r}")
    return statements


class SchemaTooNew(RuntimeError):
    """Raised when a database was written by a newer TaskDash, whose schema this one does not know."""


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
                raise SchemaTooNew(
                    f"database schema version {max(done)} is newer than this TaskDash ({newest_known}): "
                    "upgrade TaskDash"
                )
            if version not in done:
                for statement in split_statements(script):
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
