"""Backup and restore of a whole installation: the database and every file under MEDIA_ROOT.

One archive, `chibo-YYYYmmdd-HHMMSS.tar.gz`:

    database/chibo.sqlite3   SQLite's online backup API (a consistent copy while others write)
    database/chibo.pgdump    or pg_dump --format=custom, from the same snapshot the row counts see
    media/<path>             every regular file under MEDIA_ROOT
    manifest.json            written last, once every checksum is known: creation time, versions,
                             migration heads, database vendor, row counts per table, and the path,
                             size and SHA-256 of every other member

Restore unpacks into a staging folder and checks every checksum (and gzip's CRC) before it touches
the installation; it then refuses a target that already holds data unless forced, loads the
database, moves the files into MEDIA_ROOT and compares the restored row counts with the manifest.
Messages are for the operator at a terminal, in English like the other management commands.
"""

from cells.backup.archive import (
    ArchiveInfo,
    BackupError,
    archives_in,
    default_backup_dir,
    human_size,
    latest_backup,
    prune,
    unpack_verified,
    verify,
)
from cells.backup.database import records_held
from cells.backup.operations import BackupResult, RestoreResult, backup, files_held, restore

__all__ = [
    "ArchiveInfo",
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "archives_in",
    "backup",
    "default_backup_dir",
    "files_held",
    "human_size",
    "latest_backup",
    "prune",
    "records_held",
    "restore",
    "unpack_verified",
    "verify",
]
