"""The database half of a backup: dump and load per vendor, row counts, migration heads.

SQLite goes through its online backup API; PostgreSQL through pg_dump and pg_restore, the
password in PGPASSWORD (never on a command line that `ps` shows).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from cells.backup.archive import BackupError

DUMP_NAMES = {"sqlite": "database/chibo.sqlite3", "postgresql": "database/chibo.pgdump"}


def current_vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.display_name}.")
    return connection.vendor


def list_tables(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1"
        )
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'")
    return sorted(row[0] for row in cursor.fetchall())


def table_counts(cursor, vendor: str) -> dict[str, int]:
    counts = {}
    for table in list_tables(cursor, vendor):
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - names come from the catalogue
        counts[table] = cursor.fetchone()[0]
    return counts


def migration_heads(cursor, tables: list[str]) -> dict[str, str]:
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations")
    heads: dict[str, str] = {}
    for app, name in cursor.fetchall():
        heads[app] = max(heads.get(app, ""), name)  # names start with a zero-padded number
    return dict(sorted(heads.items()))


def _pg_env_and_args() -> tuple[dict[str, str], list[str]]:
    db = connection.settings_dict
    env = dict(os.environ)
    # The password travels in the environment, never on a command line that `ps` shows.
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    if sslmode := db.get("OPTIONS", {}).get("sslmode"):
        env["PGSSLMODE"] = str(sslmode)
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    return env, args


def _run(command: list[str], env: dict[str, str], what: str, hint: str = "") -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}):\n{result.stderr.strip()}{hint}")


def dump_database(target: Path, vendor: str) -> tuple[dict[str, int], dict[str, str], str]:
    """Write the dump to target; return row counts, migration heads and server version, all of the dump."""
    if vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            # One step (pages=-1): a single read transaction, so the copy is consistent; in WAL mode
            # the web and the worker go on writing meanwhile.
            connection.connection.backup(destination, pages=-1)
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            cursor = destination.cursor()
            tables = list_tables(cursor, vendor)
            return table_counts(cursor, vendor), migration_heads(cursor, tables), sqlite3.sqlite_version
        finally:
            destination.close()
    env, args = _pg_env_and_args()
    with transaction.atomic(), connection.cursor() as cursor:
        # Export this transaction's snapshot and dump from it: the counts and heads in the manifest
        # then describe exactly the rows in the dump, even while others write.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        tables = list_tables(cursor, vendor)
        counts, heads = table_counts(cursor, vendor), migration_heads(cursor, tables)
        command = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}", *args]
        _run(command, env, "pg_dump")
    return counts, heads, server_version


def local_models() -> list:
    # The project's own apps (cells, members, meetings, resolutions): folders beside manage.py.
    base = Path(settings.BASE_DIR).resolve()
    return [
        model
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == base
        for model in config.get_models(include_auto_created=True)
    ]


def records_held() -> list[str]:
    """The project's records in the database ("152 members", …); empty when `migrate` made it all."""
    vendor = current_vendor()
    with connection.cursor() as cursor:
        tables = set(list_tables(cursor, vendor))
    held = []
    # Records first; their audit history (auto-created Historical* models) would only repeat them.
    for model in sorted(local_models(), key=lambda m: m.__name__.startswith("Historical")):
        if model._meta.db_table in tables and (n := model._base_manager.count()):
            held.append(f"{n} {model._meta.verbose_name_plural}")
    return held


def drop_tables(tables: list[str]) -> None:
    if tables:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def restore_database(dump: Path, vendor: str, *, archived_tables: set[str], holds_data: bool) -> None:
    if vendor == "sqlite":
        # The backup API copies page by page into the live connection under one write lock:
        # schema, rows and sequences replace whatever the target held (an in-memory database too).
        connection.ensure_connection()
        source = sqlite3.connect(dump)
        try:
            source.backup(connection.connection, pages=-1)
        finally:
            source.close()
        return
    with connection.cursor() as cursor:
        tables = list_tables(cursor, vendor)
    if not holds_data:
        # Only what `migrate` made: drop it all, so that the restored schema is exactly the archived one.
        drop_tables(tables)
    connection.close()
    env, args = _pg_env_and_args()
    # One transaction: --clean drops each archived object and recreates it, so with --force over
    # real data a failure leaves the data as it was.
    command = ["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists", "--single-transaction"]
    hint = (
        "\nThe restore ran in one transaction: the database is as it was. If its schema is newer than"
        " the archive's, restore into an empty database instead."
    )
    _run([*command, "--exit-on-error", *args, str(dump)], env, "pg_restore", hint)
    # Tables the archive does not know (from newer migrations) would make `migrate` fail later.
    drop_tables(sorted(set(tables) - archived_tables) if holds_data else [])
