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

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import django
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_KEYS = ("created_at", "django_version", "database", "migrations", "tables", "files")
ARCHIVE_NAME = re.compile(r"^chibo-(\d{8}-\d{6})(?:-(\d+))?\.tar\.gz$")
DUMP_NAMES = {"sqlite": "database/chibo.sqlite3", "postgresql": "database/chibo.pgdump"}
CHUNK = 1024 * 1024
PROGRESS_EVERY = 2.0  # seconds between progress lines in long steps

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


def _quiet(_message: str) -> None:
    pass


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader:
    """Hashes what tarfile reads, so each file is read once and the checksum is of what was stored."""

    def __init__(self, f) -> None:
        self.f, self.digest = f, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.digest.update(data)
        return data


class _Ticker:
    def __init__(self, progress: Progress) -> None:
        self.progress, self.last = progress, time.monotonic()

    def __call__(self, message: Callable[[], str]) -> None:
        if time.monotonic() - self.last >= PROGRESS_EVERY:
            self.last = time.monotonic()
            self.progress(message())


# --- Archives on disk -------------------------------------------------------------------------------


def default_backup_dir() -> Path:
    return Path(settings.VAR_DIR) / "backups"


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    size: int
    modified: float  # POSIX timestamp

    @property
    def age_seconds(self) -> float:
        return max(time.time() - self.modified, 0.0)

    @property
    def modified_at(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.modified, tz=datetime.UTC)


def archives_in(folder: Path) -> list[ArchiveInfo]:
    """The backups in a folder (only names this module writes), oldest first."""
    found = []
    for path in folder.glob("chibo-*.tar.gz") if folder.is_dir() else []:
        if (match := ARCHIVE_NAME.match(path.name)) and path.is_file():
            stat = path.stat()
            found.append(((match[1], int(match[2] or 0)), ArchiveInfo(path, stat.st_size, stat.st_mtime)))
    return [info for _key, info in sorted(found, key=lambda pair: pair[0])]


def latest_backup(folder: Path | None = None) -> ArchiveInfo | None:
    found = archives_in(folder or default_backup_dir())
    return found[-1] if found else None


def prune(folder: Path, keep: int, progress: Progress = _quiet) -> list[Path]:
    """Delete all but the newest `keep` archives in the folder; other files are never touched."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    doomed = [info.path for info in archives_in(folder)[:-keep]]
    for path in doomed:
        path.unlink()
        progress(f"Deleted old backup {path.name}")
    return doomed


def _new_archive_path(output: Path | None) -> Path:
    # A name ending in .tar.gz is the archive itself; anything else is a folder (created if need be).
    if output is not None and output.name.endswith(".tar.gz") and not output.is_dir():
        if output.exists():
            raise BackupError(f"{output} exists already: choose another name or a folder.")
        return output
    folder = output or default_backup_dir()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path, n = folder / f"chibo-{stamp}.tar.gz", 1
    while path.exists():  # two backups in one second
        n += 1
        path = folder / f"chibo-{stamp}-{n}.tar.gz"
    return path


# --- Database access shared by backup and restore ---------------------------------------------------


def _vendor() -> str:
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.display_name}.")
    return connection.vendor


def _tables(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1"
        )
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'")
    return sorted(row[0] for row in cursor.fetchall())


def _table_counts(cursor, vendor: str) -> dict[str, int]:
    counts = {}
    for table in _tables(cursor, vendor):
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - names come from the catalogue
        counts[table] = cursor.fetchone()[0]
    return counts


def _migration_heads(cursor, tables: list[str]) -> dict[str, str]:
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


# --- Backup -------------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    size: int = 0
    rows: int = 0
    tables: int = 0
    media_files: int = 0
    media_bytes: int = 0
    seconds: float = 0.0
    deleted: list[Path] = field(default_factory=list)


def _dump_database(target: Path, vendor: str) -> tuple[dict[str, int], dict[str, str], str]:
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
            tables = _tables(cursor, vendor)
            return _table_counts(cursor, vendor), _migration_heads(cursor, tables), sqlite3.sqlite_version
        finally:
            destination.close()
    env, args = _pg_env_and_args()
    with transaction.atomic(), connection.cursor() as cursor:
        # Export this transaction's snapshot and dump from it: the counts and heads in the manifest
        # then describe exactly the rows in the dump, even while others write.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        tables = _tables(cursor, vendor)
        counts, heads = _table_counts(cursor, vendor), _migration_heads(cursor, tables)
        command = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}", *args]
        _run(command, env, "pg_dump")
    return counts, heads, server_version


def _media_files(root: Path, progress: Progress) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                progress(f"  skipped {path} (not a regular file)")
                continue
            yield path, path.relative_to(root).as_posix()


def _add(tar: tarfile.TarFile, path: Path, arcname: str) -> dict:
    stat = path.stat()
    info = tarfile.TarInfo(arcname)
    info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
    with open(path, "rb") as f:
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    return {"path": arcname, "size": stat.st_size, "sha256": reader.digest.hexdigest()}


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_layout(*others: Path) -> Path:
    """MEDIA_ROOT is archived whole and, on restore, emptied: it must not hold the database or backups."""
    media = Path(settings.MEDIA_ROOT)
    db_name = str(connection.settings_dict["NAME"])
    paths = [*others, Path(db_name)] if connection.vendor == "sqlite" and ":" not in db_name else [*others]
    for path in paths:
        if _inside(path, media):
            raise BackupError(f"{path} lies inside MEDIA_ROOT ({media}): keep MEDIA_ROOT for uploaded files only.")
    return media


def backup(output: Path | None = None, *, keep: int | None = None, progress: Progress = _quiet) -> BackupResult:
    started = time.monotonic()
    vendor = _vendor()
    if keep is not None and keep < 1:
        raise BackupError("--keep must be at least 1.")
    path = _new_archive_path(output)
    _check_layout(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    result = BackupResult(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(prefix=".chibo-backup-", dir=path.parent) as tmp:
            dump = Path(tmp) / "dump"
            step = time.monotonic()
            progress(f"Dumping the database ({connection.display_name})…")
            counts, heads, server_version = _dump_database(dump, vendor)
            result.rows, result.tables = sum(counts.values()), len(counts)
            progress(
                f"  {result.tables} tables, {result.rows} rows, {human_size(dump.stat().st_size)}"
                f" in {time.monotonic() - step:.2f} s"
            )
            # The archive holds personal data: readable by its owner only, from its first byte.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                    files = [_add(tar, dump, DUMP_NAMES[vendor])]
                    files += _add_media(tar, Path(settings.MEDIA_ROOT), result, progress)
                    manifest = {
                        "format": FORMAT,
                        "application": "chibo",
                        "created_at": timezone.localtime().isoformat(timespec="seconds"),
                        "django_version": django.get_version(),
                        "python_version": platform.python_version(),
                        "database": {"vendor": vendor, "server_version": server_version, "dump": DUMP_NAMES[vendor]},
                        "migrations": heads,
                        "tables": counts,
                        "files": files,
                    }
                    data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                    tar.addfile(info, _BytesReader(data))
                raw.flush()
                os.fsync(raw.fileno())
        # Only a complete archive gets the real name, so --keep and restore never see half of one.
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    result.size = path.stat().st_size
    result.seconds = time.monotonic() - started
    if keep is not None:
        result.deleted = prune(path.parent, keep, progress)
    return result


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.pos + size
        chunk, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return chunk


def _add_media(tar: tarfile.TarFile, root: Path, result: BackupResult, progress: Progress) -> list[dict]:
    step = time.monotonic()
    progress(f"Adding the files under MEDIA_ROOT ({root})…")
    files, tick = [], _Ticker(progress)
    for path, relative in _media_files(root, progress):
        entry = _add(tar, path, f"media/{relative}")
        files.append(entry)
        result.media_files += 1
        result.media_bytes += entry["size"]
        tick(lambda: f"  {result.media_files} files, {human_size(result.media_bytes)} so far")
    progress(f"  {result.media_files} files, {human_size(result.media_bytes)} in {time.monotonic() - step:.2f} s")
    return files


# --- Verify -------------------------------------------------------------------------------------------


def _safe_member_name(member: tarfile.TarInfo) -> str:
    name = member.name
    parts = PurePosixPath(name).parts
    if (
        not member.isreg()
        or name.startswith("/")
        or "\\" in name
        or len(parts) < 2
        or parts[0] not in ("database", "media")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise BackupError(f"The archive holds an unexpected entry {name!r}: not a Chi bộ backup, refused.")
    return name


def unpack_verified(archive: Path, staging: Path, progress: Progress = _quiet) -> dict:
    """Unpack into staging, checking gzip's CRC and every member against the manifest; return the manifest.

    Raises BackupError on any damage, before anything outside staging is touched.
    """
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file.")
    found: dict[str, tuple[int, str]] = {}
    manifest = None
    tick = _Ticker(progress)
    try:
        with open(archive, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    if member.name == MANIFEST and member.isreg():
                        manifest = json.loads(tar.extractfile(member).read().decode())
                        continue
                    name = _safe_member_name(member)
                    if name in found:
                        raise BackupError(f"The archive holds {name} twice: refused.")
                    target = staging / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    digest, size = hashlib.sha256(), 0
                    with tar.extractfile(member) as source, open(target, "wb") as out:
                        while chunk := source.read(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
                    found[name] = (size, digest.hexdigest())
                    tick(lambda: f"  {len(found)} files checked")
            # tarfile stops at the end-of-archive blocks; read gzip to its end so that its CRC-32 and
            # length trailer are checked too.
            while gz.read(CHUNK):
                pass
    except BackupError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
        # gzip.BadGzipFile is an OSError; json's and UTF-8's decode errors are ValueErrors.
        raise BackupError(f"The archive {archive.name} is damaged ({type(exc).__name__}: {exc}). Nothing was changed.")
    _check_manifest(archive, manifest, found)
    return manifest


def verify(archive: Path, progress: Progress = _quiet) -> dict:
    """Check an archive without restoring it (`restore --check`); return its manifest."""
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".chibo-check-", dir=settings.VAR_DIR) as staging:
        return unpack_verified(archive, Path(staging), progress)


def _check_manifest(archive: Path, manifest: dict | None, found: dict[str, tuple[int, str]]) -> None:
    damaged = f"The archive {archive.name} is damaged"
    if not isinstance(manifest, dict) or manifest.get("application") != "chibo":
        raise BackupError(f"{archive.name} has no Chi bộ manifest: not a Chi bộ backup. Nothing was changed.")
    if manifest.get("format", 0) > FORMAT:
        raise BackupError(f"{archive.name} was written by a newer Chi bộ (format {manifest['format']}).")
    try:
        listed = {entry["path"]: (entry["size"], entry["sha256"]) for entry in manifest["files"]}
        dump = manifest["database"]["dump"]
        if any(key not in manifest for key in MANIFEST_KEYS) or "vendor" not in manifest["database"]:
            raise KeyError
    except (KeyError, TypeError):
        raise BackupError(f"{archive.name} has an incomplete manifest: not a Chi bộ backup. Nothing was changed.")
    for name, (size, sha256) in listed.items():
        if name not in found:
            raise BackupError(f"{damaged}: {name} is missing. Nothing was changed.")
        if found[name] != (size, sha256):
            raise BackupError(f"{damaged}: the checksum of {name} does not match the manifest. Nothing was changed.")
    if extra := sorted(set(found) - set(listed)):
        raise BackupError(f"{damaged}: {extra[0]} is not in the manifest. Nothing was changed.")
    if dump not in listed:
        raise BackupError(f"{damaged}: the database dump is missing. Nothing was changed.")


# --- Restore ------------------------------------------------------------------------------------------


def _local_models() -> list:
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
    vendor = _vendor()
    with connection.cursor() as cursor:
        tables = set(_tables(cursor, vendor))
    held = []
    # Records first; their audit history (auto-created Historical* models) would only repeat them.
    for model in sorted(_local_models(), key=lambda m: m.__name__.startswith("Historical")):
        if model._meta.db_table in tables and (n := model._base_manager.count()):
            held.append(f"{n} {model._meta.verbose_name_plural}")
    return held


def files_held() -> int:
    media = Path(settings.MEDIA_ROOT)
    return sum(1 for p in media.rglob("*") if not p.is_dir()) if media.is_dir() else 0


@dataclass
class RestoreResult:
    manifest: dict
    tables: dict[str, int] = field(default_factory=dict)
    models: list[tuple[str, int]] = field(default_factory=list)
    media_files: int = 0
    unapplied: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    seconds: float = 0.0


def restore(archive: Path, *, force: bool = False, progress: Progress = _quiet) -> RestoreResult:
    started = time.monotonic()
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    _check_layout(Path(settings.VAR_DIR))
    staging = Path(tempfile.mkdtemp(prefix=".chibo-restore-", dir=settings.VAR_DIR))
    try:
        step = time.monotonic()
        progress(f"Verifying {archive.name}…")
        manifest = unpack_verified(archive, staging, progress)
        progress(
            f"  {len(manifest['files'])} files, every checksum matches ({time.monotonic() - step:.2f} s);"
            f" made {manifest['created_at']} with Django {manifest['django_version']}"
        )
        vendor, archived = _vendor(), manifest["database"]["vendor"]
        if archived != vendor:
            raise BackupError(
                f"The archive holds a {archived} database but this installation uses {vendor}:"
                " restore it into the same kind of database. Nothing was changed."
            )
        records, files = records_held(), files_held()
        held = records[:6] + (["…"] if len(records) > 6 else []) + ([f"{files} files in MEDIA_ROOT"] if files else [])
        if held and not force:
            raise BackupError(
                "This installation is not empty (" + ", ".join(held) + ")."
                " A restore replaces everything in it: run again with --force to do that. Nothing was changed."
            )
        step = time.monotonic()
        progress(f"Restoring the database ({connection.display_name})…")
        dump, archived_tables = staging / manifest["database"]["dump"], set(manifest["tables"])
        _restore_database(dump, vendor, archived_tables=archived_tables, holds_data=bool(records))
        progress(f"  done in {time.monotonic() - step:.2f} s")
        step = time.monotonic()
        progress(f"Restoring the files into MEDIA_ROOT ({settings.MEDIA_ROOT})…")
        result = RestoreResult(manifest)
        result.media_files = _restore_media(staging / "media", Path(settings.MEDIA_ROOT))
        progress(f"  {result.media_files} files in {time.monotonic() - step:.2f} s")
        _compare_counts(manifest, result)
        _compare_migrations(manifest, result)
        result.seconds = time.monotonic() - started
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _drop_tables(tables: list[str]) -> None:
    if tables:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def _restore_database(dump: Path, vendor: str, *, archived_tables: set[str], holds_data: bool) -> None:
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
        tables = _tables(cursor, vendor)
    if not holds_data:
        # Only what `migrate` made: drop it all, so that the restored schema is exactly the archived one.
        _drop_tables(tables)
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
    _drop_tables(sorted(set(tables) - archived_tables) if holds_data else [])


def _restore_media(staged: Path, media_root: Path) -> int:
    media_root.mkdir(parents=True, exist_ok=True)
    # Only reached with an empty MEDIA_ROOT or --force: clear the contents, keep the folder itself
    # (in docker compose it is a volume's mount point and cannot be renamed).
    for child in media_root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if not staged.is_dir():
        return 0
    count = 0
    for source in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = media_root / source.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        count += 1
    return count


def _compare_counts(manifest: dict, result: RestoreResult) -> None:
    vendor = _vendor()
    with connection.cursor() as cursor:
        result.tables = _table_counts(cursor, vendor)
    if result.tables != manifest["tables"]:
        wrong = sorted(
            t for t in set(result.tables) | set(manifest["tables"]) if result.tables.get(t) != manifest["tables"].get(t)
        )
        table = wrong[0]
        raise BackupError(
            f"The restored database differs from the archive: {table} has {result.tables.get(table, 'no')} rows,"
            f" the manifest says {manifest['tables'].get(table, 'none')}."
        )
    for model in _local_models():
        if not model._meta.auto_created and not model.__name__.startswith("Historical"):
            result.models.append((str(model._meta.verbose_name_plural), result.tables.get(model._meta.db_table, 0)))


def _compare_migrations(manifest: dict, result: RestoreResult) -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    result.unapplied = [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(graph.leaf_nodes())]
    result.unknown = [f"{app}.{name}" for app, name in manifest["migrations"].items() if (app, name) not in graph.nodes]
